"""Sparse features of a post's stance toward a claim, shared by the model and its trainer.

Why words *and* cues: the words of a reply carry most of its stance ("lol",
"prayers", "source?"), but the cues a verification desk relies on need to hold
on texts the training threads never saw, so a denial, a negation near the
claim's own words, a question, a hedge and a confirmation are also features
of their own. The relation to the target (does the post repeat the claim? is
it the claim?) separates a source asserting a claim from a reply chatting
about it, which no bag of words can see.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable

from rapidfuzz import fuzz

__all__ = ["CUES", "stance_features", "stance_tokens"]

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w{1,30}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[?!]")
_NOT = re.compile(r"n't\b")

#: Cue name -> pattern over the lower-cased text; each that fires is a feature.
CUES: dict[str, re.Pattern[str]] = {
    "deny": re.compile(
        r"\b(?:den(?:y|ies|ied|ying)|denial|false(?:ly)?|fake|untrue|baseless|hoax|debunk(?:ed|s)?|"
        r"refut(?:e|es|ed)|dismiss(?:es|ed)?|misinformation|disinformation|propaganda|lies|lying|"
        r"fabricat(?:ed|ion)|bullshit|bs|nonsense|rubbish|wrong|misleading|satire|photoshop(?:ped)?|"
        r"not true|no truth|no evidence|never happened|not (?:dead|fallen|real))\b"
    ),
    "negation": re.compile(r"\b(?:not|no|never|nobody|nothing|none|n't|isnt|wasnt|didnt|doesnt)\b|n't\b"),
    "query": re.compile(
        r"\b(?:is (?:it|this|that) true|can (?:anyone|someone|you) confirm|any confirmation|"
        r"is this real|source|sources\?|proof|evidence|really|confirm(?:ed)?\?|what|why|how|who|"
        r"where|when|wait)\b"
    ),
    "hedge": re.compile(
        r"\b(?:reported(?:ly)?|alleged(?:ly)?|rumou?rs?|claims?|claimed|unverified|unconfirmed|"
        r"may|might|could|possibly|apparently|suggests?|believed|according to|sources say)\b"
    ),
    "confirm": re.compile(
        r"\b(?:confirm(?:s|ed)?|official(?:ly)?|breaking|announced|verified|indeed|true|"
        r"it's true|yes|video|photo|pic|footage|update)\b"
    ),
    "emotion": re.compile(
        r"\b(?:rip|pray(?:ers|ing)?|sad|horrible|terrible|omg|wow|god|sorry|thoughts|heart|"
        r"lol|lmao|haha\w*|hope)\b"
    ),
}


def stance_tokens(text: str) -> list[str]:
    """Lower-cased word tokens with URLs, mentions and numbers replaced by placeholders."""
    text = _URL.sub(" urltoken ", text)
    text = _MENTION.sub(" mentiontoken ", text)
    text = _NUMBER.sub(" 0 ", text.lower())
    return _TOKEN.findall(_NOT.sub(" not", text))


_STOP = frozenset(
    "a an the of to in on at for and or but is are was were be been it this that with as by "
    "from i you he she we they my your his her our their me him us them its rt urltoken "
    "mentiontoken 0 ? !".split()
)


_OPENING_DENIAL = frozenset("no not nope never false fake wrong lies bs nonsense".split())


def _content(tokens: Iterable[str]) -> set[str]:
    return {t for t in tokens if t not in _STOP and len(t) > 1}


def _bucket(name: str, value: float, edges: tuple[float, ...]) -> str:
    for i, edge in enumerate(edges):
        if value < edge:
            return f"{name}<{edge:g}" if i == 0 else f"{name}{edges[i - 1]:g}-{edge:g}"
    return f"{name}>={edges[-1]:g}"


def stance_features(target: str, text: str) -> dict[str, float]:
    """Feature name -> value for the stance of ``text`` toward the claim ``target``."""
    tokens = stance_tokens(text)
    lower = " ".join(tokens)
    feats: dict[str, float] = {"bias": 1.0}
    for t in tokens:
        feats["w=" + t] = 1.0
    for a, b in itertools.pairwise(tokens):
        feats[f"b={a}_{b}"] = 1.0
    words = [t for t in tokens if t not in ("mentiontoken", "urltoken")]
    feats["first=" + (words[0] if words else "")] = 1.0
    if words and words[0] in _OPENING_DENIAL:
        feats["opens_with_denial"] = 1.0
    if not words or words == ["urltoken"] * len(words):
        feats["no_words"] = 1.0
    feats["last=" + (tokens[-1] if tokens else "")] = 1.0
    cues = [name for name, pattern in CUES.items() if pattern.search(lower)]
    for name in cues:
        feats["cue=" + name] = 1.0
    if "?" in text:
        feats["has?"] = 1.0
        if text.rstrip().endswith("?"):
            feats["ends?"] = 1.0
    feats[_bucket("len", math.log2(1 + len(words)), (2.0, 3.0, 4.0, 5.0, 6.0))] = 1.0
    feats["urls"] = min(2.0, float(tokens.count("urltoken")))
    feats["mentions"] = min(3.0, float(tokens.count("mentiontoken"))) / 3.0

    target_words = _content(stance_tokens(target))
    own = _content(tokens)
    overlap = len(own & target_words) / max(1, len(own))
    recall = len(own & target_words) / max(1, len(target_words))
    same = fuzz.token_set_ratio(target.lower(), text.lower()) / 100.0 if target else 0.0
    if same >= 0.95 and recall >= 0.8:
        feats["rel=is_claim"] = 1.0
        for name in cues:
            feats["claim&cue=" + name] = 1.0
    else:
        feats[_bucket("overlap", overlap, (0.1, 0.3, 0.5))] = 1.0
        feats[_bucket("recall", recall, (0.1, 0.3, 0.5))] = 1.0
        if overlap >= 0.3:
            for name in cues:
                feats["near&cue=" + name] = 1.0
    return feats
