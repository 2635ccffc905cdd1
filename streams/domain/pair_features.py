"""Features of a pair of texts for the "same claim" model.

Why these: each catches a way two posts say one thing or two things. Word
overlap on content words forgives reordering; character n-grams forgive
spelling, inflection and hashtags glued together; ``partial_ratio`` and the
coverage features forgive a headline inside a longer tweet; word bigrams and
the full-token ratio notice a different predicate around the same names; the
count of unshared words and differing numbers ("12 dead" vs "40 dead") push
apart texts that share a topic but not a claim. All of them are cheap enough
to run on every candidate the clusterer verifies, because everything that
depends on one text alone is computed once, in ``Signature``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz

from streams.domain.normalise import Normalised

__all__ = [
    "FEATURE_NAMES",
    "STANCE_WORDS",
    "Exemplar",
    "Signature",
    "different_names",
    "match_text",
    "names_agree",
    "pair_features",
    "shares_name",
    "spelled_out",
]

#: Words that flip or hedge a claim but do not change what it is about: left out
#: of the content comparison, so "X is false" stays *about* claim X and the
#: stance step tells support from denial.
_STANCE_LIST = """not no never nor none deny denies denied denial denying false fake untrue baseless hoax
    rumour rumours rumor rumors debunked reject rejects rejected dismiss dismisses dismissed
    refute refutes refuted propaganda lie lies lying claim claims claimed claiming reportedly
    unverified unconfirmed confirmed confirms confirm report reports reported breaking alleged
    allegedly isn't aren't wasn't weren't hasn't haven't didn't doesn't don't won't"""
STANCE_WORDS = frozenset(_STANCE_LIST.split())

FEATURE_NAMES: tuple[str, ...] = (
    "token_set_ratio",
    "token_sort_ratio",
    "partial_ratio",
    "full_ratio",
    "content_dice",
    "content_cover",
    "token_dice",
    "bigram_dice",
    "char3_dice",
    "char4_dice",
    "char4_cover",
    "length_log_ratio",
    "unshared_words",
    "log_shared_words",
    "short",
    "equal",
    "numbers_differ",
)


def match_text(norm: Normalised) -> str:
    """The string the matcher compares: content words minus stance words."""
    return " ".join(t for t in norm.content if t not in STANCE_WORDS)


def _char_grams(text: str, n: int) -> frozenset[str]:
    padded = f" {text} "
    return frozenset(padded[i : i + n] for i in range(len(padded) - n + 1))


@dataclass(frozen=True, slots=True)
class Signature:
    """Everything about one text the pair features need, computed once."""

    match: str
    """Content words minus stance words, space-joined."""
    full: str
    """All tokens, space-joined."""
    words: frozenset[str]
    tokens: frozenset[str]
    bigrams: frozenset[str]
    char3: frozenset[str]
    char4: frozenset[str]
    numbers: frozenset[str]
    length: int
    entities: frozenset[str] = frozenset()

    @classmethod
    def of(cls, norm: Normalised) -> Signature:
        return cls.of_parts((norm,))

    @classmethod
    def from_strings(
        cls, match: str, full: str, numbers: Iterable[str] = (), entities: Iterable[str] = ()
    ) -> Signature:
        """Rebuild a signature from its two strings (as carried in stage records)."""
        words = match.split()
        tokens = full.split()
        return cls(
            match=match,
            full=full,
            words=frozenset(words),
            tokens=frozenset(tokens),
            bigrams=frozenset(f"{a} {b}" for a, b in itertools.pairwise(tokens)),
            char3=_char_grams(match, 3),
            char4=_char_grams(match, 4),
            numbers=frozenset(numbers),
            length=len(words),
            entities=frozenset(entities),
        )

    @classmethod
    def of_parts(cls, parts: Iterable[Normalised]) -> Signature:
        """One signature for several sentences read as one text (the whole of a wire item)."""
        parts = tuple(parts)
        return cls.from_strings(
            " ".join(m for p in parts if (m := match_text(p))),
            " ".join(t for p in parts for t in p.tokens),
            (n for p in parts for n in p.numbers),
            (e for p in parts for e in p.entities),
        )


class Exemplar(NamedTuple):
    """A signature's four strings: what a cluster keeps per exemplar (a few hundred bytes).

    The full ``Signature`` (sets of words and character n-grams) is ten times
    larger; it is rebuilt on demand and the most recent ones are cached, so a
    million live claims fit in memory while the hot ones are scored at full speed.
    """

    match: str
    full: str
    numbers: tuple[str, ...]
    entities: tuple[str, ...]

    @classmethod
    def of(cls, sig: Signature) -> Exemplar:
        return cls(sig.match, sig.full, tuple(sorted(sig.numbers)), tuple(sorted(sig.entities)))

    def signature(self) -> Signature:
        return _cached_signature(self)


@lru_cache(maxsize=10_000)
def _cached_signature(ex: Exemplar) -> Signature:
    return Signature.from_strings(ex.match, ex.full, ex.numbers, ex.entities)


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2.0 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _cover(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def different_names(a: Signature, b: Signature) -> bool:
    """Both texts name someone or somewhere, and no name is shared.

    "Prayers for the victims in Texas" and "... in Boston" differ in one word
    out of eight, which no overlap score can see; the names say they are two
    claims. The training data do not teach this (PIT pairs share their topic's
    name; the URL corpus is lower-cased), so it is a rule, like the short-text one.
    """
    if not a.entities or not b.entities:
        return False
    # A name counts as shared when the other text has the word anywhere (it may
    # open a sentence there, where case says nothing), or names it too (initials:
    # "NYSE" and "New York Stock Exchange", which no word of the other text spells).
    return (
        a.entities.isdisjoint(b.entities)
        and not shares_name(a.entities, b.tokens)
        and not shares_name(b.entities, a.tokens)
    )


def shares_name(names: frozenset[str] | set[str], tokens: frozenset[str]) -> bool:
    """Is one of ``names`` among ``tokens`` (``_said``)?"""
    return not names.isdisjoint(tokens) or any(_said(name, tokens) for name in names)


def spelled_out(names: Iterable[str], full: str) -> frozenset[str]:
    """The words of ``full`` (a signature's tokens, in order) that spell one of ``names``
    by their initials: "new york stock exchange" for "nyse". A post giving a name in full
    names nothing new to a cluster that knows it by its initials."""
    tokens = full.split()
    out: set[str] = set()
    for name in names:
        n = len(name)
        if not 2 <= n <= 6 or not name.isalpha() or name in tokens:
            continue
        for i in range(len(tokens) - n + 1):
            if all(tokens[i + k][:1] == name[k] for k in range(n)):
                out.update(tokens[i : i + n])
    return frozenset(out)


def _said(name: str, words: frozenset[str] | set[str]) -> bool:
    """Is ``name`` among ``words``, as written or in the other number: "Palestinians say"
    and "Palestinian officials say" share a name; short words do not ("News" is not "new")."""
    return (
        name in words
        or (len(name) >= 5 and name + "s" in words)
        or (len(name) >= 6 and name.endswith("s") and name[:-1] in words)
    )


def names_agree(
    names_a: frozenset[str] | set[str],
    tokens_a: frozenset[str],
    names_b: frozenset[str] | set[str],
    tokens_b: frozenset[str],
) -> bool:
    """Two clusters (or exemplars) may be one claim as far as their names go: every
    name of each appears in the other's words or names (``_said``).

    Why this strict: a merge joins whole clusters. One that names a place and one
    that names none do not agree ("thoughts with everyone affected" is about every
    disaster of the week, "... in Boston" about one), and a post naming two events
    ("#prayfortexas #prayforboston") must not bridge the cluster of each.
    """
    said_b, said_a = tokens_b | names_b, tokens_a | names_a
    return all(_said(n, said_b) for n in names_a) and all(_said(n, said_a) for n in names_b)


def pair_features(a: Signature, b: Signature, min_tokens: int) -> Sequence[float]:
    """The features named in ``FEATURE_NAMES``, in that order; symmetric in ``a`` and ``b``."""
    short = min(a.length, b.length) < min_tokens
    shared = len(a.words & b.words)
    # rapidfuzz's partial_ratio is not symmetric for equal lengths; order the pair.
    x, y = (a, b) if (a.length, a.match) <= (b.length, b.match) else (b, a)
    return (
        0.0 if short else fuzz.token_set_ratio(x.match, y.match) / 100.0,
        fuzz.token_sort_ratio(x.match, y.match) / 100.0,
        fuzz.partial_ratio(x.match, y.match) / 100.0,
        fuzz.ratio(x.full, y.full) / 100.0,
        _dice(a.words, b.words),
        _cover(a.words, b.words),
        _dice(a.tokens, b.tokens),
        _dice(a.bigrams, b.bigrams),
        _dice(a.char3, b.char3),
        _dice(a.char4, b.char4),
        _cover(a.char4, b.char4),
        abs(math.log((a.length + 1) / (b.length + 1))),
        float(len(a.words) + len(b.words) - 2 * shared),
        math.log1p(shared),
        1.0 if short else 0.0,
        1.0 if a.match and a.match == b.match else 0.0,
        1.0 if a.numbers and b.numbers and a.numbers != b.numbers else 0.0,
    )
