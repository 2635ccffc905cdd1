"""Who a text says did it: the side of a conflict a report blames for an event.

Why: "Huge explosion at al-Ahli hospital" and "Israeli strike kills hundreds at
al-Ahli hospital" tell of one event, and the matcher scores them one claim; but
only the second says who did it, and who did it is what the parties dispute.
Folded into the event's cluster, the blame is corroborated by every report of
the blast, and no denial of Israel's part can contest it without contesting the
blast. So a claim that blames a side is a claim of its own (the clusterer keeps
texts that blame different sides, or one side and none, apart), and two claims
blaming different sides of one conflict contradict each other.

Who counts as a side comes from the source registry (its ``party`` entries: the
operator names the conflicts a desk follows); what counts as blame is a side
named as the doer of an attack: "Israeli air strike", "Russia blew up the dam",
"rocket fired by Islamic Jihad", "Hamas is responsible". A side named as a
speaker ("Israel says ...", "the Israeli military said"), as a victim ("Russian
soldiers killed in ...") or in a denial of its part ("not Israel") is not blamed.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from streams.domain.cues import denied_involvement, without_involvement

__all__ = ["NO_ACTORS", "Actors", "Party"]

_NOUNS = (
    r"(?:air\s*)?strikes?|missiles?|rockets?|shells?|shelling|bombs?|bombings?|bombardment|attacks?|"
    r"drones?|jets?|warplanes?|aircraft|artillery|raids?|occupation|forces|troops|army|military|"
    r"sabotage|explosives|gunfire|fire|tanks?|snipers?|invasion|offensive"
)
#: What may stand between a side and its weapon: "Israeli air strike", "Russian cruise
#: missile", "Israeli occupation forces"; not any word ("Russia meteor strike" blames no one).
_MODIFIERS = (
    r"air|drone|missile|rocket|artillery|cruise|ballistic|tank|naval|occupation|army|military|ground|"
    r"security|border|armed|special|government|regime|backed|led|allied|proxy|fighter"
)
#: Past and base forms both: the normaliser folds some ("bombed", "struck" -> "bomb").
_VERBS = (
    r"bomb(?:s|ed)?|struck|strikes?|shell(?:s|ed)?|attack(?:s|ed)?|hits?|fire[sd]?|blew\s+up|blows?\s+up|"
    r"blown\s+up|destroy(?:s|ed)?|launch(?:es|ed)?|target(?:s|ed)?|kill(?:s|ed)?|shot\s+down|downed|mined|"
    r"sabotaged|invad(?:es|ed)|massacred|bombard(?:s|ed)?|razed"
)
_DONE_BY = (
    r"shot\s+down|downed|fired|launched|carried\s+out|caused|done|committed|hit|struck|destroyed|bomb(?:ed)?|blown\s+up|"
    r"shelled|attacked|targeted|sabotaged|mined|kill(?:ed)?"
)
#: Who fights for a side without being its forces.
_PROXIES = r"separatists?|rebels?|militants?|militias?|insurgents?|proxies|fighters"
_WORD = re.compile(r"[\w-]+")
_PART = re.compile(r"\w+")
#: A side's forces after these receive or meet an act, they do not do it: "surrendered to
#: the Russian armed forces", "a counteroffensive against Russian troops", "retook the
#: city from Russian forces", "clashes with Israeli forces".
_RECEIVING = re.compile(r"\b(?:to|against|from|with)\s+(?:the\s+)?$", re.IGNORECASE)
#: A side named before these speaks, it is not blamed: "the Israeli military said".
_SPEECH = (
    r"(?!\s+(?:[\w-]+\s+)?(?:say|says|said|claims?|claimed|told|tells|denies|denied|spokes\w*|"
    r"statement|confirm(?:s|ed)?|announced|reported|reports))"
)


@dataclass(frozen=True, slots=True)
class Party:
    """One side of a conflict and the words that name it as a doer."""

    side: str
    conflict: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Actors:
    """The sides of the conflicts a desk follows, and how texts blame them."""

    parties: tuple[Party, ...] = ()
    _side_of: dict[str, str] = field(init=False, repr=False, compare=False)
    _conflict_of: dict[str, str] = field(init=False, repr=False, compare=False)
    _blame: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _named: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _recent: OrderedDict[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    _key_words: frozenset[str] = field(init=False, repr=False, compare=False)

    #: Texts whose blame is remembered: a cluster's exemplars are compared again and again.
    CACHED = 4096

    def __post_init__(self) -> None:
        object.__setattr__(self, "_recent", OrderedDict())
        side_of = {w.lower(): p.side for p in self.parties for w in p.words if w.strip()}
        object.__setattr__(self, "_side_of", side_of)
        object.__setattr__(self, "_conflict_of", {p.side: p.conflict for p in self.parties})
        # Most texts name no side at all: a set lookup per word tells them apart (each
        # name's longest word, which any text naming it has: "kremlin" of "the kremlin").
        object.__setattr__(
            self, "_key_words", frozenset(max(w.replace("'s", "").split(), key=len) for w in side_of)
        )
        if not side_of:
            object.__setattr__(self, "_blame", None)
            object.__setattr__(self, "_named", None)
            return
        names = "|".join(re.escape(w) for w in sorted(side_of, key=len, reverse=True))

        def who(group: str) -> str:
            return rf"(?<![\w-])(?P<{group}>{names})(?![\w-])"

        blame = "|".join(
            (
                who("noun") + rf"(?:'s|s')?\s+(?:(?:{_MODIFIERS})\s+)?(?:{_NOUNS})\b{_SPEECH}",
                # Not "Central Russia hit by a meteor shower": there Russia is hit.
                who("verb") + rf"\s+(?:(?:has|have|had)\s+)?(?:{_VERBS})\b(?!\s+by\b)",
                rf"\b(?:{_DONE_BY})\s+by\s+(?:(?:an?|the)\s+)?" + who("by"),
                who("blame") + r"\s+(?:is|was|are|were)\s+(?:\w+\s+)?(?:responsible|to\s+blame|behind)\b",
                r"\bblam(?:e|es|ed|ing)\s+(?:the\s+)?" + who("blamed") + r"\s+for\b",
                who("bears") + r"\s+bears?\s+(?:the\s+|full\s+|all\s+)?responsibility\b",
                # A side's proxies: "pro-Russian separatists", "Russian-backed rebels".
                rf"\bpro[-\s](?P<pro>{names})(?![\w-])\s+(?:{_PROXIES})\b{_SPEECH}",
                rf"(?<![\w-])(?P<backed>{names})[-\s]backed\s+(?:{_PROXIES}|{_NOUNS})\b{_SPEECH}",
            )
        )
        object.__setattr__(self, "_blame", re.compile(blame, re.IGNORECASE))
        object.__setattr__(self, "_named", re.compile(who("name"), re.IGNORECASE))

    def blamed(self, text: str) -> frozenset[str]:
        """The sides ``text`` names as doing what it tells of (empty: it blames no one)."""
        if self._blame is None or not self._mentions(text):
            return frozenset()
        text = without_involvement(text)
        return frozenset(
            self._side_of[next(w for w in m.groups() if w is not None).lower()]
            for m in self._blame.finditer(text)
            if m.group("noun") is None or not _RECEIVING.search(text, 0, m.start())
        )

    def doers(self, text: str) -> frozenset[str]:
        """The sides ``text`` blames, and ``not:side`` for each whose part it denies
        ("Israel was not responsible for the blast"): what it says of who did it."""
        if self._blame is None or not self._mentions(text):
            return frozenset()
        accused = denied_involvement(text)
        cleared = self.named(accused) if accused else frozenset()
        return self.blamed(text) | {f"not:{side}" for side in cleared}

    def same_doers(self, a: str, b: str) -> bool:
        """Do ``a`` and ``b`` say the same of who did it (or both nothing)? Texts that do
        not are two claims, however alike their words: "explosion at the hospital",
        "Israeli strike hits the hospital", "Israel was not behind the hospital blast"."""
        if self._blame is None:
            return True
        return self._cached(a) == self._cached(b)

    def _cached(self, text: str) -> frozenset[str]:
        recent = self._recent
        found = recent.get(text)
        if found is None:
            found = recent[text] = self.doers(text)
            if len(recent) > self.CACHED:
                recent.popitem(last=False)
        else:
            recent.move_to_end(text)
        return found

    def named(self, text: str) -> frozenset[str]:
        """The sides any words of ``text`` name, in whatever role."""
        if self._named is None or not self._mentions(text):
            return frozenset()
        return frozenset(self._side_of[m.group("name").lower()] for m in self._named.finditer(text))

    def _mentions(self, text: str) -> bool:
        """Could ``text`` name a side at all (has it a word of one of their names)?"""
        lowered = text.lower()
        # Whole hyphenated words ("al-qassam") and their parts ("russian-backed").
        return not self._key_words.isdisjoint(_WORD.findall(lowered)) or not self._key_words.isdisjoint(
            _PART.findall(lowered)
        )

    def opposed(self, a: frozenset[str], b: frozenset[str]) -> tuple[str, str] | None:
        """One side blamed by each and by not both, in one conflict: the two blames
        cannot both be true ("an Israeli strike" / "an Islamic Jihad rocket")."""
        if not a or not b or a & b:
            return None
        for x in sorted(a):
            for y in sorted(b):
                if self._conflict_of.get(x) == self._conflict_of.get(y):
                    return x, y
        return None

    @classmethod
    def of(cls, parties: Iterable[Party]) -> Actors:
        return cls(tuple(parties))


#: No conflicts followed: nothing is blamed on anyone (tests, the lexical benchmarks).
NO_ACTORS = Actors()
