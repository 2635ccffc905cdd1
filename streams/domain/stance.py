"""Stance of a post toward a claim: support, deny, query or comment.

Why cues and not a model here: stance must run per item inside the stream at
thousands of items a second, and the cues that matter for verification desks
are explicit ("denies", "fake", "not true", "has not fallen", a question mark).
A denial word counts only when the post is about the claim (the caller passes
the match score) and is not itself negated ("not fake").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Stance", "StanceResult", "classify_stance"]


class Stance(StrEnum):
    SUPPORT = "support"
    DENY = "deny"
    QUERY = "query"
    COMMENT = "comment"


@dataclass(frozen=True, slots=True)
class StanceResult:
    stance: Stance
    score: float
    cue: str
    """The words that decided, for the alert's explanation."""


_DENY = re.compile(
    r"\b(?:den(?:y|ies|ied|ying)|denial|false(?:ly)?|fake|untrue|not true|baseless|"
    r"hoax|debunk(?:ed|s)?|no truth|refut(?:e|es|ed)|reject(?:s|ed)?|dismiss(?:es|ed)?|"
    r"misinformation|disinformation|propaganda|lies|lying|fabricat(?:ed|ion)|"
    r"(?:has|have|had)\s*(?:not|n't)\s+(?:fallen|been\s+\w+)|not\s+fallen|"
    r"(?:is|are|was|were)\s*(?:not|n't)\s+(?:true|happening|correct)|"
    r"no\s+(?:such|evidence)|never\s+happened)\b",
    re.IGNORECASE,
)
_NEGATED_DENY = re.compile(r"\b(?:not|no|isn't|wasn't)\s+(?:fake|false|a hoax|propaganda)\b", re.I)
_QUERY = re.compile(
    r"\?|\b(?:is (?:it|this|that) true|can (?:anyone|someone|you) confirm|any confirmation|"
    r"is this real|source\s*\?|really\b|unconfirmed|unverified)",
    re.IGNORECASE,
)
_HEDGE = re.compile(r"\b(?:reportedly|allegedly|rumou?rs?|claims?|unverified|sources say)\b", re.I)


def classify_stance(text: str, *, relevance: float = 1.0) -> StanceResult:
    """Stance of ``text`` toward the claim it was matched to.

    ``relevance`` is the claim-match score; below 0.3 a post is taken as a
    comment whatever its words, since a denial of something else says nothing
    about this claim.
    """
    if relevance < 0.3:
        return StanceResult(Stance.COMMENT, 0.5, "off-topic")
    deny = _DENY.search(text)
    if deny and not _NEGATED_DENY.search(text):
        return StanceResult(Stance.DENY, 0.8, deny.group(0).lower())
    query = _QUERY.search(text)
    if query:
        return StanceResult(Stance.QUERY, 0.6, query.group(0).lower())
    hedge = _HEDGE.search(text)
    if hedge:
        return StanceResult(Stance.SUPPORT, 0.55, hedge.group(0).lower())
    return StanceResult(Stance.SUPPORT, 0.7, "assertion")
