"""Explicit denial cues, shared by stance and contradiction.

Why a rule: "denies", "fake", "not true", "has not fallen" are what a
verification desk reads as a denial whatever a model learnt from other
threads; a negated denial ("not fake") is not one.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

__all__ = [
    "asks",
    "denied_involvement",
    "denies",
    "explicit_denial",
    "hedge_words",
    "hedges",
    "leads_with_question",
    "without_involvement",
]

_DENY = re.compile(
    r"\b(?:den(?:y|ies|ied|ying)|denial|false(?:ly)?|fake|untrue|not true|baseless|"
    r"hoax|debunk(?:ed|s)?|no truth|refut(?:e|es|ed)|"
    r"(?:has|have|had)\s*(?:not|n't)\s+(?:fallen|been\s+\w+)|not\s+fallen|"
    r"(?:is|are|was|were)\s*(?:not|n't)\s+(?:true|happening|correct)|"
    r"never\s+happened|"
    # "This is a lie", "all lies", "lying to you": not "lies in ruins", "a man is lying down".
    r"an?\s+(?:\w+\s+)?lie(?!\s+detector)|(?:all|pure|total|complete|blatant|outright|more|just|are|is)\s+lies|"
    r"liars?|lying\s+to\s+(?:you|us|them|everyone|the\s+(?:world|public|people))|"
    # The same in the other languages of crisis posts (Spanish, Portuguese, Italian, French).
    r"desmient[ea]n?|desminti[óo]|desmentid[oa]|desment(?:e|em|iu)|smentisc[oe]|smentit[oa]|"
    r"d[ée]ment(?:i|ie|ent)?|falso|falsa|fausse|faux|bulo|bufala|mentira|no\s+es\s+(?:cierto|verdad)|"
    r"n[ãa]o\s+[ée]\s+verdade|non\s+[èe]\s+vero|no\s+existe|"
    # Newsroom verbs of denial, when what they act on is a report: "slams rumours that",
    # "shoots down report of", "dismisses claims".
    r"(?:slam(?:s|med)?|rebuff(?:s|ed)?|shoot(?:s)?\s+down|shot\s+down|shut(?:s)?\s+down|"
    r"dismiss(?:es|ed)?|reject(?:s|ed)?|quash(?:es|ed)?|dispel(?:s|led)?|scotch(?:es|ed)?)"
    r"\s+(?:[\w-]+\s+){0,2}(?:rumou?rs?|reports?|claims?|speculation|allegations?|stor(?:y|ies))|"
    # A correction that negates denies what it corrects: "Correction: the floor of the
    # exchange is not flooded" ("Correction: the toll is 12, not 10" too).
    # (The colon is optional: the matched text the clusterer reads has no punctuation.)
    r"^\W*(?:correction|clarification)\b"
    r"(?!\s+(?:officers?|officials?|facilit(?:y|ies)|departments?|cent(?:er|re)s?|services?|of)\b)"
    r"(?=[^.!?]{0,200}?(?:\bnot\b|\bno\b|\bnever\b|n't\b))|"
    # An outlet taking its report back: "retracts the story", "pulled back the newsbreak".
    r"(?:retract(?:s|ed)?|withdr(?:aw|aws|ew|awn)|pull(?:s|ed)?\s+(?:back|down))"
    r"\s+(?:[\w-]+\s+){0,2}(?:reports?|stor(?:y|ies)|claims?|newsbreak|articles?|tweets?|posts?))\b",
    re.IGNORECASE,
)
_NEGATED_DENY = re.compile(
    r"\b(?:(?:not|no|isn't|wasn't)\s+(?:fake|false|a hoax|propaganda|a lie|lying)|"
    r"confirm(?:s|ed)?\s+(?:or|nor)\s+den(?:y|ies|ied))\b",  # "refuses to confirm or deny": no denial
    re.I,
)


#: A denial of someone's part in an event, not of the event: "Israel has nothing to do
#: with the explosion", "Russia denies any involvement in the attack".
_INVOLVEMENT = re.compile(
    r"\b(?:(?:den(?:y|ies|ied|ying)|reject(?:s|ed|ing)?|dismiss(?:es|ed|ing)?)\s+"
    r"(?:any\s+|all\s+|its\s+|their\s+|his\s+|her\s+)?"
    r"(?:involvement|role|responsibility|links?|part|connection)|"
    r"(?:had|has|have)?\s*nothing\s+to\s+do\s+with|"
    r"(?:was|were|is|are)?\s*(?:not|never|n't)\s+(?:involved|responsible|behind)|"
    r"no\s+(?:involvement|role|part|links?|connection|responsibility)\s+(?:in|with|to|for))\b",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(r"[.!?;:,]\s+|\b(?:and|but|that|as|after|while)\s+", re.IGNORECASE)


#: "... done by the other team, not Israel", "terrorists attacked the hospital, and not
#: the IDF": a contrast at the end of a sentence takes the part from whom it names. Not
#: after a verb ("Panjshir has not fallen" negates the event) and not of a thing ("a gas
#: leak, not a bomb": an article says it is no one's part).
_CONTRAST = re.compile(
    r"(?P<before>[\w']+)[,;]?\s+not\s+(?:by\s+|from\s+)?(?P<who>(?:the\s+)?(?!an?\b)[\w-]+(?:\s+[\w-]+)?)"
    r"\s*(?:[.!?]+\s*|$)",
    re.IGNORECASE,
)
_VERBAL = frozenset(
    "is are was were be been being am has have had do does did can could will would shall should "
    "may might must if or why whether and but that's it's he's she's there's what's who's they're "
    "we're i'm you're".split()
)
#: What follows "not" without naming anyone: "reports of his death, not true".
_NO_ONE = frozenset(
    "true false real correct right wrong confirmed verified official yet so now really sure exactly "
    "quite always ever again here there today anymore much many enough all everyone everything "
    "me you him her us them it this that".split()
)


def _contrasts(text: str) -> list[re.Match[str]]:
    def names_someone(m: re.Match[str]) -> bool:
        before = m.group("before").lower()
        if m.group("who").split()[0].lower() in _NO_ONE:
            return False
        if before in ("and", "but"):  # "and not the IDF", never "but not killed"
            return m.group(0)[len(before) :].lstrip(",; ").lower().startswith("not the ")
        return before not in _VERBAL and not before.endswith("ly")

    return [m for m in _CONTRAST.finditer(text) if names_someone(m)]


def denied_involvement(text: str) -> str | None:
    """Whose part in an event ``text`` denies: the words before the denial, in its clause
    ("Israel" in "Israel has nothing to do with the explosion"), or those a closing
    contrast names ("Israel" in "... done by the other team, not Israel"), or None."""
    found = _INVOLVEMENT.search(text)
    if found is None:
        contrast = _contrasts(text)
        return contrast[0].group("who").strip() if contrast else None
    before = text[: found.start()]
    starts = [m.end() for m in _CLAUSE_START.finditer(before)]
    return before[starts[-1] if starts else 0 :].strip() or None


def without_involvement(text: str) -> str:
    """``text`` without its denials of someone's part, which negate no event it tells of."""
    text = _INVOLVEMENT.sub(" ", text)
    for m in reversed(_contrasts(text)):
        text = text[: m.end("before")] + text[m.end("who") :]
    return text


def explicit_denial(text: str) -> str | None:
    """The words of an explicit denial in ``text``, or None (also when the denial is negated).

    A denial of involvement is not one: it leaves the event standing (``denied_involvement``).
    """
    text = without_involvement(text)
    found = _DENY.search(text)
    if found is None or _NEGATED_DENY.search(text):
        return None
    return found.group(0).lower()


def denies(text: str) -> bool:
    """The polarity of a text: does it deny what it talks about?"""
    return explicit_denial(text) is not None


_ASKS = re.compile(
    r"\?\s*(?:$|#|@|https?://)|"
    r"\b(?:is (?:it|this|that) (?:true|real|confirmed)|can (?:anyone|someone) confirm|any confirmation)\b",
    re.IGNORECASE,
)


def asks(text: str) -> bool:
    """Does the text ask whether something is so (a question mark at its end, "is it true")?"""
    return _ASKS.search(text.strip()) is not None


_LEAD_QUESTION = re.compile(
    r"^\W*(?:is|are|was|were|did|does|do|has|have|had|will|would|can|could)\b[^.!?]*\?|"
    r"^[^\w¿]*¿[^?]*\?",  # Spanish marks where a question opens: "¿Es cierto lo de Frida Sofía? ..."
    re.IGNORECASE,
)


#: The accounts a reply opens by addressing: "@nrfafg Is it true ...?" opens with its question.
_LEADING_MENTIONS = re.compile(r"^(?:\.?@\w+[\s,:]*)+")


def leads_with_question(text: str) -> bool:
    """Does the text open by asking whether something is so ("Is X really dead? I can't
    find anything")? Whatever follows, a post that makes its claim a question asks.

    Not part of ``asks``: a contradiction is still read in what follows the question
    ("Is it real? No, it is fake").
    """
    return _LEAD_QUESTION.match(_LEADING_MENTIONS.sub("", text.strip())) is not None


_HEDGE = re.compile(
    r"\b(?:reportedly|alleged(?:ly)?|rumou?r(?:s|ed)?|unconfirmed|unverified|may|might|could|"
    r"possibl[ey]|apparently|believed|suggests?|seems?|expected|"
    # "appears to be", not "expected to appear in federal court".
    r"appear(?:s|ed)?\s+(?:to|that)|"
    # Passing on reports asserts nothing: "Reports of an explosion near X", "... - initial
    # report" ("no reports of damage" says something, and is no hedge).
    r"(?<!\bno )(?<!\bno immediate )(?<!\bno other )reports?\s+of|"
    r"(?:initial|first|early|unconfirmed)\s+reports?|according\s+to\s+(?:\w+\s+)?reports\b(?!\s+(?:by|from)\b)|"
    # Doubt is no assertion either: "NASA raises doubts about the meteorite reports".
    r"(?<!no )(?<!without a )(?<!beyond )doubts?|doubtful|questions\s+whether|"
    r"sceptic(?:al|s)?|skeptic(?:al|s)?)\b",
    re.IGNORECASE,
)


def hedges(text: str, besides: Collection[str] = ()) -> str | None:
    """The hedge that keeps a text from asserting ("reportedly", "may"), or None; hedges
    in ``besides`` (those of the claim restated, which hedge it no more than the claim
    itself) do not count.

    Attribution to a named speaker ("X says") is not a hedge here: the text
    then asserts on that speaker's behalf, and provenance makes it an echo of them.
    """
    for found in _HEDGE.finditer(text):
        if (hedge := found.group(0).lower()) not in besides:
            return hedge
    return None


@lru_cache(maxsize=4096)
def hedge_words(text: str) -> frozenset[str]:
    """Every hedge of ``text``, as ``hedges`` gives them. Cached: it is asked of a
    cluster's claim for every item of the cluster."""
    return frozenset(found.group(0).lower() for found in _HEDGE.finditer(text))
