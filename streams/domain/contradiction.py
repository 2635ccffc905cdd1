"""Do two statements about the same thing contradict each other?

Why cues and not a learnt model: the contradictions that matter on a
verification desk are explicit: one side negates what the other asserts
("Panjshir has fallen" / "Panjshir has not fallen"), uses the opposite word
("conquered" / "resisting", "dead" / "alive"), denies it outright, or gives
another number for the same count. Each cue needs the two texts to be about
the same thing first (enough shared content words), otherwise "no rain in
Kabul" contradicts every claim without a "no". The verdict names its cue, so
an alert can say why two claims are set against each other.

A question ("is it true that ...?") asserts nothing, so it contradicts nothing.

Cues miss two descriptions that cannot both hold without saying so ("the convoy
left the city" / "the convoy is parked at the checkpoint"). Where no cue fires,
a caller may pass ``judge``, a learnt model's probability that the second text
contradicts the first (``streams.domain.entailment``), named ``model:<probability>``.
It is asked even where few words are shared, since it judges relatedness itself
(its "neutral"); only a caller's ``about_same=False`` keeps it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from streams.domain.actors import NO_ACTORS, Actors
from streams.domain.cues import asks, denied_involvement, explicit_denial, without_involvement
from streams.domain.normalise import STOPWORDS, load_aliases
from streams.domain.pair_features import STANCE_WORDS

__all__ = [
    "ANTONYMS",
    "KINDRED",
    "Contradiction",
    "ContradictionConfig",
    "Judge",
    "contradiction",
    "negates",
    "opposes",
]

#: A learnt model's probability that the second text contradicts the first.
Judge = Callable[[str, str], float]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)?")
_NEGATION = frozenset(
    "no not never nobody nothing none neither nor without cannot isnt arent wasnt werent dont "
    "doesnt didnt hasnt havent hadnt wont cant couldnt shouldnt".split()
)

#: Directions of a figure: their words have other senses among the alias table's synonyms
#: ("fell" is "capture": a city fell), so they are never read in those forms (``_OPPOSITE``).
_TRENDS: tuple[tuple[str, str], ...] = (("increase", "decrease"), ("rises", "falls"), ("rose", "fell"))

#: States that exclude each other when said of the same thing (both directions are checked).
#: Kinds of thing ("man"/"woman", "dog"/"cat") are left out on purpose: two reports naming
#: different people are about different things more often than they disagree (SICK's reading).
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("alive", "dead"),
    ("alive", "killed"),
    ("alive", "died"),
    ("survived", "died"),
    ("asleep", "awake"),
    ("open", "closed"),
    ("empty", "full"),
    ("win", "lose"),
    ("won", "lost"),
    ("wins", "loses"),
    ("true", "false"),
    ("confirmed", "denied"),
    ("confirms", "denies"),
    ("fallen", "holding"),
    ("fell", "held"),
    ("captured", "repelled"),
    ("conquered", "resisting"),
    ("conquered", "continue"),
    ("surrendered", "fighting"),
    ("ended", "continue"),
    ("over", "continue"),
    ("arrested", "released"),
    ("guilty", "innocent"),
    *_TRENDS,
    ("entering", "leaving"),
    ("enters", "leaves"),
)
#: The stream compares normalised texts, where the alias table's synonyms stand for their
#: words ("killed", "dead", "died" are "kill"; "conquered", "fallen" are "capture"): each
#: pair holds in those forms too, or "alive" never meets "killed" there.
_CANONICAL = load_aliases()
_OPPOSITE: dict[str, frozenset[str]] = {}
for _pair in ANTONYMS:
    _folded = _pair if _pair in _TRENDS else (_CANONICAL.apply(_pair[0]), _CANONICAL.apply(_pair[1]))
    for _a, _b in {_pair, _folded}:
        if _a != _b:
            _OPPOSITE[_a] = _OPPOSITE.get(_a, frozenset()) | {_b}
            _OPPOSITE[_b] = _OPPOSITE.get(_b, frozenset()) | {_a}


@dataclass(frozen=True, slots=True)
class ContradictionConfig:
    min_overlap: float = 0.6
    """Shared content words over the shorter text's: below it the texts are not about the same thing."""
    model_bar: float = 0.5
    """A ``judge``'s probability of contradiction from which it counts, where no cue fired."""
    actors: Actors = NO_ACTORS
    """The sides of the conflicts followed: blaming two of one conflict contradicts, and a
    denial of a side's part opposes a text only where that text blames the side."""


@dataclass(frozen=True, slots=True)
class Contradiction:
    contradicts: bool
    cue: str
    """negation, antonym:x/y, denial:words, numbers:x/y, or why not."""
    overlap: float


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("n't", " not"))


#: "not fake", "no hoax": a negated denial affirms, so its negation does not count.
_DENIAL_WORDS = frozenset("fake false hoax lie lies propaganda rumour rumor untrue".split())


#: "No doubt", "no question": a negation that affirms what follows.
_EMPHATIC = frozenset("doubt doubts question wonder".split())

#: How far after a negation the words it negates may come ("not personally fly airstrikes").
_SCOPE = 4

#: "Believe it or not", "whether or not", "tens if not hundreds", "not only ... but":
#: a negation word that negates nothing said.
_IDIOM_BEFORE = frozenset("or if".split())
_IDIOM_AFTER = frozenset("only just merely least".split())

#: Advice opening a sentence ("Do not drive on flooded roads", "Never leave pets behind")
#: asserts nothing for a negation to deny, unless it is advice about a report ("do not
#: believe the reports", "don't share this"): that is a denial.
_ADVICE = re.compile(
    r"(^|[.!?;:]\s+)(?:please\s+)?(?:do\s+not|don['"
    "\u2019"
    r"]?t|never)\s+"
    r"(?!(?:believe|trust|share|spread|fall|listen|buy|credit|retweet)\b)",
    re.IGNORECASE,
)


#: Words that name one state, so a negation of one negates the others: "Baghdadi not
#: dead" negates "Baghdadi was killed", "Panjshir has not fallen" negates "conquered".
KINDRED: tuple[frozenset[str], ...] = tuple(
    kin | {_CANONICAL.apply(w) for w in kin}  # in normalised texts too (see _OPPOSITE)
    for kin in (
        frozenset("dead killed died dies death slain".split()),
        frozenset("fallen fell captured conquered seized taken overrun".split()),
        frozenset("arrested detained".split()),
        frozenset("banned suspended suspension barred".split()),
        frozenset("injured wounded hurt".split()),
    )
)


def _stem(word: str) -> str:
    return word[:5]


def _reach(words: set[str]) -> set[str]:
    """Stems of ``words`` and of the words that name the same state."""
    out = {_stem(w) for w in words if len(w) >= 5} | words
    for kin in KINDRED:
        if kin & words:
            out |= kin | {_stem(k) for k in kin if len(k) >= 5}
    return out


def _negated(words: list[str], other: set[str], scope: int = _SCOPE) -> list[set[str]]:
    """Per negation of something the other text says, the words of ``other``'s it reaches:
    one of the next ``scope`` content words is one of ``other``'s, shares its first five
    letters ("drone", "drones") or names the same state (``KINDRED``). "The convoy that
    reached Bazarak had no escort" negates nothing "an aid convoy reached Bazarak" says;
    "Bazarak was not hit by any drone" negates the drones of "Pakistani drones are
    bombing Bazarak"."""
    reach = _reach(other)
    found: list[set[str]] = []
    for i, w in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if w not in _NEGATION or following in _DENIAL_WORDS or following in _EMPHATIC:
            continue
        if following in _IDIOM_AFTER or (i > 0 and words[i - 1] in _IDIOM_BEFORE):
            continue
        if i > 0 and words[i - 1] in _DENIAL_WORDS:
            continue
        after = [x for x in words[i + 1 :] if x not in STOPWORDS and x not in _NEGATION][:scope]
        hit = {x for x in after if _reaches(x, reach)}
        if hit:
            found.append(hit)
    return found


def _crossed(in_a: list[set[str]], in_b: list[set[str]]) -> bool:
    """Each text negates something the other says (``_negated`` of each), and not the same
    thing: "This was no accident, it was arson" against "treated as an accident, no
    indication of arson". Both have a negation, so their polarities alone looked alike."""
    if not in_a or not in_b:
        return False
    return not (_reach(set().union(*in_a)) & _reach(set().union(*in_b)))


def _reaches(word: str, reach: set[str]) -> bool:
    """Is ``word`` one of ``_reach``'s words, or an inflection of one?"""
    return word in reach or (len(word) >= 5 and _stem(word) in reach)


def _asserting_words(text: str) -> list[str]:
    """The words of ``text`` a negation may act on: advice and denials of involvement
    taken out, as they negate nothing said."""
    return _words(without_involvement(_ADVICE.sub(r"\1", text)))


def negates(text: str, other: str, *, scope: int = _SCOPE) -> bool:
    """Does ``text`` negate something ``other`` says ("Mayor Smith has not resigned" of
    "reports that Mayor Smith resigned are false")? Its polarity, whatever the other's.
    ``scope``: content words after a negation that it may negate (1: only the word it
    governs, "There is NO explosion", not the floods of "No deaths from the floods")."""
    return bool(_negated(_asserting_words(text), _content(_words(other)), scope))


def opposes(text: str, other: str) -> bool:
    """Does ``text`` state the opposite of a state ``other`` states ("are alive" of "were
    killed")? The antonym cue alone: the caller has judged the two about one thing."""
    return _opposite(_content(_words(text)), _content(_words(other))) is not None


def _opposite(ca: set[str], cb: set[str]) -> tuple[str, str] | None:
    """A word of ``ca`` and its opposite in ``cb``, neither said by both (the first in order)."""
    for x in sorted(ca - cb):
        opposite = _OPPOSITE.get(x, frozenset()) & (cb - ca)
        if opposite:
            return x, min(opposite)
    return None


def _content(words: list[str]) -> set[str]:
    return {w for w in words if w not in STOPWORDS and w not in _NEGATION}


def _judged(
    a: str, b: str, judge: Judge | None, cfg: ContradictionConfig, overlap: float, why: str
) -> Contradiction:
    p = judge(a, b) if judge is not None else 0.0
    return (
        Contradiction(True, f"model:{p:.2f}", overlap)
        if p >= cfg.model_bar
        else Contradiction(False, why, overlap)
    )


def contradiction(
    a: str,
    b: str,
    config: ContradictionConfig | None = None,
    *,
    about_same: bool | None = None,
    judge: Judge | None = None,
) -> Contradiction:
    """Whether ``a`` and ``b`` say incompatible things about the same thing, and by which cue.

    ``about_same`` is the caller's own judgement that the texts are about one
    thing (the stream passes its claim matcher's verdict); without it, shared
    content words decide. ``judge`` is asked only when no cue fired.
    """
    cfg = config or ContradictionConfig()
    wa, wb = _words(a), _words(b)
    ca, cb = _content(wa), _content(wb)
    if not ca or not cb:
        return Contradiction(False, "empty", 0.0)
    if asks(a) or asks(b):
        # A question asserts neither side: "Is it true that jets are bombing Panjshir?"
        # is no "true" against a "false", and no claim for a "not" to negate.
        return Contradiction(False, "question", 0.0)
    # What the texts are about: without the words that say how each stands toward it
    # ("hoax", "denies", "report"), so "Kajaki dam burst report is fake, officials say"
    # is as much about the dam as "The Kajaki dam burst overnight" is.
    sa, sb = ca - STANCE_WORDS, cb - STANCE_WORDS
    overlap = len(sa & sb) / min(len(sa), len(sb)) if sa and sb else 0.0
    # The antonym itself is unshared content, so it gets half the overlap floor.
    related = overlap >= cfg.min_overlap / 2 and bool(ca & cb) if about_same is None else about_same
    pair = _opposite(ca, cb)
    if pair is not None and related:
        return Contradiction(True, f"antonym:{pair[0]}/{pair[1]}", overlap)
    if not (overlap >= cfg.min_overlap if about_same is None else about_same):
        return _judged(a, b, judge if about_same is None else None, cfg, overlap, "different subjects")
    negated_a, negated_b = _negated(_asserting_words(a), cb), _negated(_asserting_words(b), ca)
    neg_a, neg_b = len(negated_a), len(negated_b)
    # "Israel has nothing to do with the explosion" leaves the explosion standing; it
    # opposes only a text that gives Israel a part in it ("an Israeli missile hit the port").
    inv_a, inv_b = denied_involvement(a), denied_involvement(b)
    if (inv_a and not inv_b and _accuses(b, wb, inv_a, cfg.actors)) or (
        inv_b and not inv_a and _accuses(a, wa, inv_b, cfg.actors)
    ):
        return Contradiction(True, "negation:involvement", overlap)
    blames = cfg.actors.opposed(cfg.actors.blamed(a), cfg.actors.blamed(b))
    if blames is not None:
        return Contradiction(True, f"attribution:{blames[0]}/{blames[1]}", overlap)
    deny_a, deny_b = explicit_denial(a), explicit_denial(b)
    # A denial negates what it denies: "Panjshir has not fallen" and "the NRF denies that
    # Panjshir has fallen" take one side, though only the first has a negation word.
    if (neg_a > 0 or deny_a is not None) != (neg_b > 0 or deny_b is not None):
        if (neg_a == 0) != (neg_b == 0):
            return Contradiction(True, "negation", overlap)
        return Contradiction(True, f"denial:{deny_a or deny_b}", overlap)
    if _crossed(negated_a, negated_b):
        return Contradiction(True, "negation:crossed", overlap)
    clash = _count_clash(_counts(wa), _counts(wb))
    if clash is not None:
        return Contradiction(True, f"numbers:{clash[0]}/{clash[1]}", overlap)
    return _judged(a, b, judge, cfg, overlap, "no cue")


#: A count after these is a bound or a moving figure ("at least 1,300", "rises to 2,300"),
#: which another count does not contradict.
_BOUND = frozenset(
    "least than above over past beyond nearly almost about around some approximately roughly "
    "estimated rises rose risen climbs climbed jumps jumped reaches reached tops topped "
    "surpasses passed exceeds exceeded up "
    # The same in the other languages of crisis tweets (words without accents only).
    "almeno oltre circa salgono sale saliti salito quasi menos cerca unos unas aproximadamente "
    "ascienden asciende suben sube supera superan casi moins plus environ presque mais quase "
    "sobe sobem".split()
)
#: "rises to 2,300", "salgono a 15", "cerca de 50": the bound sits one word before.
_PARTICLES = frozenset("to at by a de di da".split())


#: Who speaks is not whose part is denied: "Israeli officials deny any involvement".
_SPEAKERS = frozenset(
    "official officials spokesman spokeswoman spokesperson government ministry minister sources "
    "source aide aides statement".split()
)


def _accuses(text: str, words: list[str], accused: str, actors: Actors) -> bool:
    """Does ``text`` give ``accused`` (whose part another text denies) a part in the event?
    A side of a conflict followed must be blamed there ("an Israeli missile hit the port"),
    not only named ("the IDF said"); anyone else must only be named."""
    sides = actors.named(accused)
    if sides:
        return bool(sides & actors.blamed(text))
    return _names(accused, words)


def _names(accused: str, words: list[str]) -> bool:
    """Do ``words`` name ``accused`` (whose part another text denies), so giving them a
    part in the event ("an Israeli missile" names "Israel")?"""
    said = _reach(set(words))
    return any(_reaches(w, said) for w in _content(_words(accused)) - STANCE_WORDS - _SPEAKERS)


_YEAR = re.compile(r"(?:19|20)\d\d")
_RANGE = frozenset("to and or".split())


def _counts(words: list[str]) -> dict[str, set[str]]:
    """Exact counts by what they count: the first content word after each number
    ("3 people", "7.8 magnitude"), else the one before ("magnitude 7.8", "toll: 40").
    Years and the ends of a range ("2.5 to 4 hours") are no exact count."""

    def number(j: int) -> bool:
        return 0 <= j < len(words) and words[j][0].isdigit()

    out: dict[str, set[str]] = {}
    for i, w in enumerate(words):
        if not w[0].isdigit() or _YEAR.fullmatch(w) or _bounded(words, i):
            continue
        if (number(i + 2) and words[i + 1] in _RANGE) or (number(i - 2) and words[i - 1] in _RANGE):
            continue
        after = [x for x in words[i + 1 : i + 3] if x not in STOPWORDS and not x[0].isdigit()]
        before = [x for x in words[max(0, i - 2) : i] if x not in STOPWORDS and not x[0].isdigit()]
        counted = after[0] if after else before[-1] if before else ""
        out.setdefault(counted, set()).add(w)
    return out


def _bounded(words: list[str], i: int) -> bool:
    before = words[i - 1] if i > 0 else ""
    return before in _BOUND or (before in _PARTICLES and i > 1 and words[i - 2] in _BOUND)


def _count_clash(a: dict[str, set[str]], b: dict[str, set[str]]) -> tuple[str, str] | None:
    """Two exact counts of one thing that differ ("3 people died" / "5 people died"): a
    magnitude and a death toll, or a toll that has risen since, are no contradiction."""
    for counted in sorted(a.keys() & b.keys()):
        if counted and not a[counted] & b[counted]:
            return min(a[counted]), min(b[counted])
    return None
