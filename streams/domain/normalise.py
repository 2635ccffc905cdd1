"""Text normalisation for claim matching.

Why these steps: the same claim reaches us as a tweet with ``RT @x:``, a
shortened URL and an emoji, as a headline in title case, and as wire copy with
a dateline. Matching works on what is left once platform noise is removed and
names are spelled one way. URLs, mentions and hashtags are kept aside: they
are evidence of provenance (who is quoted, which article is cited), not text
to compare.

Everything here is a pure function of its input and the alias table.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

__all__ = [
    "STOPWORDS",
    "AliasTable",
    "Normalised",
    "hashtag_name",
    "load_aliases",
    "normalise",
    "split_hashtag",
    "split_sentences",
]

_RT_PREFIX = re.compile(r"^\s*(?:rt|mt)\s+@\w+\s*:?\s*", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@(\w{1,30})")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'“‘(\[]?[A-Z0-9])|\s*\n+\s*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Solidarity hashtags: "pray for X", "stand with X", "X strong" (X at least three or four letters).
_SOLIDARITY_PREFIX = re.compile(r"(pray|prayers|stand|thoughts)(for|4|with)([^\W\d_]{3,})")
_SOLIDARITY_SUFFIX = re.compile(r"([^\W\d_]{4,}?)strong")
_TITLE_WORD = re.compile(r"[A-Z][a-z]{2,}|[A-Z]{2,4}")
#: Capitalised hashtags that name no one: news and feeling words.
_GENERIC_TAGS = frozenset(
    """breaking news update updates live video photo photos pic pics alert urgent warning
    pray prayers rip help sad omg wow love tbt ff fail win lol wtf smh fb rt""".split()
)
# Words: letters (any script) with inner apostrophes or hyphens, or numbers.
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*")

#: Function words that carry no claim. Negations and denial words are *not*
#: here: stance needs them, and matching drops them separately (see matching).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "into",
        "onto",
        "over",
        "under",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "i",
        "me",
        "my",
        "we",
        "our",
        "us",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "just",
        "also",
        "very",
        "so",
        "too",
        "than",
        "then",
        "about",
        "after",
        "before",
        "again",
        "against",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "only",
        "own",
        "same",
        "up",
        "down",
        "out",
        "off",
        "once",
        "s",
        "t",
        "now",
        "says",
        "said",
        "say",
        "according",
        "via",
        "amp",
        "rt",
    ]
)


@dataclass(frozen=True, slots=True)
class AliasTable:
    """Token rewrites: variant spelling or synonym to its canonical token."""

    canonical: Mapping[str, str]

    def apply(self, token: str) -> str:
        return self.canonical.get(token, token)


def _table_from_toml(data: Mapping[str, object], into: dict[str, str]) -> None:
    for section in ("spelling", "synonyms"):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise ValueError(f"[{section}] must be a table of canonical = [variants]")
        for canonical, variants in entries.items():
            if not isinstance(variants, list):
                raise ValueError(f"[{section}].{canonical} must be a list of strings")
            for variant in variants:
                into[str(variant).casefold()] = str(canonical).casefold()


@lru_cache(maxsize=8)
def load_aliases(extra_path: str | None = None) -> AliasTable:
    """The bundled alias table, extended by an operator's TOML file of the same shape."""
    mapping: dict[str, str] = {}
    bundled = resources.files("streams.domain").joinpath("aliases.toml").read_text("utf-8")
    _table_from_toml(tomllib.loads(bundled), mapping)
    if extra_path:
        _table_from_toml(tomllib.loads(Path(extra_path).read_text("utf-8")), mapping)
    return AliasTable(mapping)


def split_hashtag(tag: str) -> list[str]:
    """``#PanjshirValley`` -> ``["panjshir", "valley"]``; all-lower tags stay whole,
    except the solidarity forms whose other half is a name (``hashtag_name``)."""
    folded = tag.casefold()
    if m := _SOLIDARITY_PREFIX.fullmatch(folded):
        return [m.group(1), "for" if m.group(2) == "4" else m.group(2), m.group(3)]
    parts = _CAMEL.findall(tag)
    if len(parts) > 1:
        return [p.casefold() for p in parts]
    if m := _SOLIDARITY_SUFFIX.fullmatch(folded):
        return [m.group(1), "strong"]
    return [folded]


def hashtag_name(tag: str) -> str | None:
    """The place or group a hashtag names: ``#PrayForBoston``, ``#bostonstrong``, ``#Boston`` -> boston.

    Why: in a crisis these tags are often all that says which event a post is
    about ("#prayfortexas what is happening to this world"), and they are
    lower case or stand apart, so the case-based name finder cannot see them.
    A lower-case single word (#clutha) says nothing: it may be any word.
    """
    folded = tag.casefold()
    if m := _SOLIDARITY_PREFIX.fullmatch(folded):
        return m.group(3)
    if m := _SOLIDARITY_SUFFIX.fullmatch(folded):
        return m.group(1)
    if _TITLE_WORD.fullmatch(tag) and folded not in _GENERIC_TAGS:
        return folded  # #Texas, #Clutha: one capitalised word is a name
    return None


def split_sentences(text: str) -> list[str]:
    """Sentences of wire copy or a thread post; a headline line is a sentence of its own.

    Abbreviations ("Lt. Gen. Hameed") may split early; a fragment with too few
    content words is not check-worthy and is ignored by the matcher anyway.
    """
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if p]


@dataclass(frozen=True, slots=True)
class Normalised:
    """A text made ready for matching, with the evidence taken out of it."""

    tokens: tuple[str, ...]
    """Case-folded, alias-mapped words in order, stopwords included."""
    content: tuple[str, ...]
    """``tokens`` without stopwords: what a claim is made of."""
    urls: tuple[str, ...]
    mentions: tuple[str, ...]
    hashtags: tuple[str, ...]
    numbers: frozenset[str]
    entities: frozenset[str] = frozenset()
    """Words that look like names: capitalised mid-sentence. Hashtags are left out: the
    generic ones (#breaking, #news) would make every text share a "name".
    Empty when the text's case says nothing (all lower, Title Case, ALL CAPS)."""

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    @property
    def content_text(self) -> str:
        return " ".join(self.content)


def normalise(text: str, aliases: AliasTable | None = None) -> Normalised:
    """Normalise one post or sentence. Total: any string gives a result."""
    table = aliases if aliases is not None else load_aliases()
    text = unicodedata.normalize("NFKC", text)
    text = _RT_PREFIX.sub("", text)
    urls = tuple(m.group(0).rstrip(".,;:!?)…\"'") for m in _URL.finditer(text))
    text = _URL.sub(" ", text)
    mentions = tuple(m.casefold() for m in _MENTION.findall(text))
    text = _MENTION.sub(" ", text)
    hashtags: list[str] = []

    tag_names: set[str] = set()

    def _expand(match: re.Match[str]) -> str:
        words = split_hashtag(match.group(1))
        hashtags.append(match.group(1).casefold())
        if (name := hashtag_name(match.group(1))) is not None:
            tag_names.add(table.apply(name))
        return " " + " ".join(words) + " "

    text = _HASHTAG.sub(_expand, text)
    entities = _entities(text, table) | tag_names
    tokens: list[str] = []
    numbers: set[str] = set()
    for raw in _TOKEN.findall(text.casefold()):
        tok = raw.replace("’", "'")
        if tok[0].isdigit():
            numbers.add(tok.replace(",", ""))
        elif tok.endswith("'s"):
            tok = tok[:-2]
        tokens.append(table.apply(tok))
    content = tuple(t for t in tokens if (t not in STOPWORDS and len(t) > 1) or t.isdigit())
    return Normalised(
        tokens=tuple(tokens),
        content=content,
        urls=urls,
        mentions=mentions,
        hashtags=tuple(hashtags),
        numbers=frozenset(numbers),
        entities=frozenset(entities),
    )


_SENTENCE_START = frozenset('.!?:;"“‘(\n')


def _entities(text: str, table: AliasTable) -> set[str]:
    """Name-like words, judged by case: "Jets bomb Panjshir, says the NRF" -> {panjshir, nrf}.

    The first word of a sentence says nothing (it is capitalised anyway).
    Texts whose words are mostly capitalised (headlines in Title Case,
    shouting) or never capitalised give no entities: case carries no signal there.
    """
    found: list[tuple[str, bool, bool, bool]] = []  # (word, capitalised, sentence start, follows a word)
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        if word[0].isdigit() or len(word) < 2:
            continue
        j = m.start() - 1
        while j >= 0 and text[j].isspace():  # no slicing: texts run to 20,000 characters
            j -= 1
        follows = j >= 0 and j < m.start() - 1 and (text[j].isalpha() or text[j] == "'")
        found.append((word, word[0].isupper(), j < 0 or text[j] in _SENTENCE_START, follows))
    if not found:
        return set()
    capitalised = sum(1 for _, cap, _, _ in found if cap)
    # A headline dense with names ("Police identify Las Vegas gunman as Stephen Paddock,
    # 64, of Mesquite, Nevada") is mostly capitals too, but leaves its other words small.
    small = sum(1 for w, cap, _, _ in found if not cap and w.casefold() not in STOPWORDS)
    if capitalised == 0 or (len(found) >= 4 and capitalised > 0.6 * len(found) and small <= 1):
        return set()
    shouted = [*_shouted(found), False]
    out = set()
    run: list[str] = []
    for i, (word, cap, start, follows) in enumerate((*found, ("", False, True, False))):
        folded = word.casefold().replace("’", "'")
        folded = folded.removesuffix("'s")
        if (
            cap
            and not start
            and folded not in STOPWORDS
            and folded not in _EMPHASIS
            and (not shouted[i] or table.apply(folded) != folded)
        ):
            out.add(table.apply(folded))
        # A name of three or more capitalised words is also known by its initials: "New
        # York Stock Exchange" is the "NYSE" of another post. Not of two: "West Texas"
        # as "wt" kept two clusters apart that wrote "West, Texas" and "West Texas".
        named = cap and not word.isupper() and folded not in STOPWORDS  # "The" starts no name
        if named and (follows or not run):
            run.append(folded)
            continue
        if len(run) >= 3 and (initials := "".join(w[0] for w in run)) not in STOPWORDS:
            out.add(initials)
        run = [folded] if named else []
    return out


def _shouted(found: list[tuple[str, bool, bool, bool]]) -> list[bool]:
    """Which words are capitals for emphasis: two or more upper-case words in a row ("ARREST
    MADE in the Boston Marathon bombing"), or one that ends as an inflected word does
    ("Suspect ARRESTED"). An acronym stands alone and is no verb form ("NYSE", "FEMA")."""
    upper = [len(w) >= 2 and w.isupper() for w, _, _, _ in found]
    return [
        upper[i]
        and (
            (i > 0 and upper[i - 1] and found[i][3])
            or (i + 1 < len(found) and upper[i + 1] and found[i + 1][3])
            or (len(w) >= 5 and w.endswith(("ED", "ING")))
        )
        for i, (w, _, _, _) in enumerate(found)
    ]


#: Words capitalised for emphasis, never names: "There is NO explosion", "this is FAKE".
#: As names they made a denial "name" something its claim does not, and kept it apart.
_EMPHASIS = frozenset("no not never nothing none nobody nor fake false true breaking urgent alert".split())
