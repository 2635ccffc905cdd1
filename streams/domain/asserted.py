"""What a sentence asserts, without the channel that relayed it.

"Pakistani aircraft bombing resistance positions, sources tell CNN-News18" and
"Pakistani aircraft are bombing the resistance" make one claim; the first also
says which outlet relayed it. The relay is provenance (``streams.domain.provenance``
reads it from the raw text); left in the text the matcher compares, it costs
the claim its match twice over: the relay's words dilute the scores, and its
names ("CNN-News18") look like what the claim is about, so the names rules keep
the report out of the cluster of the claim it reports. A speaker is another
matter: in "Panjshir has been conquered, Taliban spokesman says" the Taliban
are who claims it, and stay. "Taliban claim to have conquered Panjshir" is
the same claim as the speaker's own words ("Panjshir has been conquered by the
Islamic Emirate"): the frame goes, the speaker stays as the subject. "Taliban
say they have taken Panjshir" keeps its frame: read on the URL corpus, a
pronoun after a reporting verb was the speaker in two of seven rewrites ("Trump
announces she will give speeches", "the campaign insists they are
deplorable"). Denials ("NRF denies Taliban claims that ...") are not frames:
they are what the stance step reads, and are left alone.

Only the texts the clusterer matches go through here; stance, provenance and
the alert's display text read the item as written. A rewrite that would leave
fewer than ``MIN_WORDS`` words keeps the sentence as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from streams.domain.cues import denies
from streams.domain.normalise import STOPWORDS, split_sentences

__all__ = ["MIN_WORDS", "asserted", "claim_sentences", "clauses", "content_words", "most_like", "parts_about"]

MIN_WORDS = 3
"""Words a rewritten sentence must keep, or the sentence is kept whole."""

_OUTLET = r"(?:(?:the|a|an)\s+)?(?:[\w.'\u2019@#-]+\s+){0,3}[A-Z][\w.'\u2019@-]*"

_RELAY = re.compile(
    rf"""(?:\s*[,;]\s*|\s+[\u2013\u2014-]\s+)(?:
        (?:according\s+to|citing|quoting|via)\s+[^,;]{{1,80}}
      | (?:[a-z][\w'\u2019-]*\s+){{0,2}}sources?\s+
            (?:say|said|(?:tell|told|quoted\s+by|cited\s+by)\b[^,;]{{0,80}})
      | (?:reports?|reported\s+by)\s+{_OUTLET}
      | {_OUTLET}\s+(?:reports?|reported)
    )\s*[.!]?\s*$""",
    re.VERBOSE,
)
"""A trailing relay: ", according to X", ", sources tell X", ", X reports", " - via X"."""

_HEAD = re.compile(
    r"""^\s*(?:
        (?i:according\s+to|citing|quoting)\s+[^,;:]{1,80},
      | [A-Z]{2,}(?:[\s.'\u2019-]+[A-Z]{2,}){0,3}(?:,[\w.'\u2019\s-]{1,40})?
        \s*\([A-Z][\w.&\s-]{0,30}\)\s*[-\u2013\u2014]+
    )\s*""",
    re.VERBOSE,
)
"""A leading relay: "According to AFP, ...", or a wire dateline (the place in capitals):
"KABUL, Sept 6 (Reuters) - ...", "NEW YORK (AP) - ..."."""

_TO_HAVE = re.compile(r"\b(?:claims?|claimed|says?|said)\s+to\s+(?=(?:have|be)\b)", re.IGNORECASE)
"""Reported speech: "Taliban claim to have conquered X" -> "Taliban have conquered X"."""

_PASSIVE = re.compile(r"\b(?:is|was|are|were|be)\s+$", re.IGNORECASE)
"""What before "said to have" makes it passive ("he is said to be"): no frame."""


_OPPOSES = re.compile(r"\b(?:reject|dismiss|refut|disput|contest|question|doubt)\w*", re.IGNORECASE)
"""Verbs that make "Taliban claims to have ..." the object of a rebuttal, not a frame."""


_WORD = re.compile(r"\w+")


def _unframed(text: str) -> str:
    """``text`` without its reporting frame, if it has one."""
    found = _TO_HAVE.search(text)
    if found is None or _PASSIVE.search(text, 0, found.start()):
        return text
    return text[: found.start()] + text[found.end() :]


def asserted(sentence: str) -> str:
    """``sentence`` without the outlet that relayed it and its reporting frame, or as it
    was when taking them out would leave almost nothing."""
    out = sentence
    for _ in range(3):  # ", via X, according to Y": tails can stack
        before = out
        out = _RELAY.sub("", out)
        out = _HEAD.sub("", out)
        if out == before:
            break
    unframed = _unframed(out)
    # "NRF denies Taliban claims to have ...": what is denied or rebutted is no frame.
    if unframed != out and not denies(out) and not _OPPOSES.search(out):
        out = unframed
    if out == sentence:  # the common case: nothing to take out, no polarity to check
        return sentence
    out = out.strip()
    if len(_WORD.findall(out)) < MIN_WORDS or denies(out) != denies(sentence):
        return sentence
    return out


def clauses(text: str) -> list[str]:
    """The sentences of ``text``, and the parts a semicolon joins in one: "Arrest made in
    Boston Marathon bombing; suspect expected in federal court" says two things, and the
    hedge of the second ("expected") is no hedge of the first."""
    return [part.strip() for s in split_sentences(text) for part in s.split(";") if part.strip()]


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` that are not stop words."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def most_like(parts: Sequence[str], claim: str) -> str:
    """The part sharing most content words with ``claim`` (the first of equals).

    Shared words are enough to tell a text's sentences apart; the matcher's
    normalisation (already done by the cluster stage) would only be done again."""
    said = content_words(claim)
    return max(parts, key=lambda s: len(said & content_words(s)))


def parts_about(parts: Sequence[str], claim: str, shared: int = 2) -> list[str]:
    """The parts sharing at least ``shared`` content words with ``claim``, or the one most
    like it. "Jihadi John injured? ISIS executioner may have been wounded in US airstrike"
    says the claim twice, the second time hedged."""
    said = content_words(claim)
    return [p for p in parts if len(said & content_words(p)) >= shared] or [most_like(parts, claim)]


def claim_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as the clusterer matches them (``split_sentences``, then
    ``asserted`` on each)."""
    return [asserted(s) for s in split_sentences(text)]
