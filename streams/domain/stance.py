"""Stance of a post toward a claim: support, deny, query or comment.

Why a fitted model with a rule beside it: how people reply to a rumour
("source?", "RIP", "lol", "you have no right") is learnt best from labelled
threads (RumourEval 2019, Emergent; ``bench/train_stance.py``), and the model
is a linear one over sparse named features so it scores a post in
microseconds inside the stream and can say which words decided. The rule
keeps what a verification desk relies on whatever the training data say: an
explicit denial of the claim ("denies", "fake", "not true", "has not
fallen"), not itself negated ("not fake"), is a denial, and so is a post that
says the claim with a negation or the opposite word (``contradiction``).

A post that barely matches the claim (``relevance`` below 0.3, the claim
match score) is a comment whatever its words: a denial of something else says
nothing about this claim. A post that makes the claim itself (relevance at
the clusterer's join threshold) supports it unless it denies, questions or
hedges it ("reportedly", "may"): the model learnt "comment" from replies
chatting under a rumour, which a cluster member restating the claim is not.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path

from streams.domain.actors import NO_ACTORS, Actors
from streams.domain.asserted import clauses, parts_about
from streams.domain.contradiction import ContradictionConfig, contradiction, negates
from streams.domain.cues import asks, explicit_denial, hedge_words, hedges, leads_with_question
from streams.domain.matching import claim_similarity
from streams.domain.normalise import normalise, split_sentences
from streams.domain.stance_features import stance_features
from streams.errors import ModelError

__all__ = [
    "STANCE_CLASSES",
    "STANCE_MODEL_VERSION",
    "Stance",
    "StanceModel",
    "StanceResult",
    "classify_stance",
    "default_stance_model",
    "explicit_denial",
    "load_stance_model",
]

STANCE_CLASSES = ("support", "deny", "query", "comment")
STANCE_MODEL_VERSION = "stance-1"
#: Below this claim-match score a post is a comment on something else.
MIN_RELEVANCE = 0.3
#: From this claim-match score (the clusterer's join threshold) a post makes the claim itself.
RESTATES = 0.6


class Stance(StrEnum):
    SUPPORT = "support"
    DENY = "deny"
    QUERY = "query"
    COMMENT = "comment"


@dataclass(frozen=True, slots=True)
class StanceResult:
    stance: Stance
    score: float
    """The model's probability of ``stance`` (1.0 when a rule decided)."""
    cue: str
    """What decided, for the alert's explanation: a rule's words or the model's strongest feature."""


@dataclass(frozen=True, slots=True)
class StanceModel:
    """Multinomial logistic regression over ``stance_features``, with per-class offsets."""

    version: str
    weights: dict[str, tuple[float, float, float, float]]
    offsets: tuple[float, float, float, float]

    def probabilities(self, target: str, text: str) -> tuple[list[float], str]:
        """Class probabilities (``STANCE_CLASSES`` order) and the feature that pushed the winner most."""
        scores = [0.0, 0.0, 0.0, 0.0]
        contributions: dict[str, tuple[float, float, float, float]] = {}
        for name, value in stance_features(target, text).items():
            w = self.weights.get(name)
            if w is None:
                continue
            contributions[name] = w
            for c in range(4):
                scores[c] += w[c] * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        probs = [e / total for e in exps]
        best = max(range(4), key=lambda c: probs[c] * self.offsets[c])
        lexical = {n: w for n, w in contributions.items() if n != "bias"}

        def margin(name: str) -> float:
            w = lexical[name]
            return w[best] - max(w[c] for c in range(4) if c != best)

        cue = max(lexical, key=margin, default="bias")
        return probs, cue

    def classify(
        self, target: str, text: str, *, relevance: float | None = None, actors: Actors = NO_ACTORS
    ) -> StanceResult:
        """Stance of ``text`` toward ``target``.

        ``relevance`` is how surely ``text`` makes the claim ``target`` (the
        cluster's match score). When not given it is computed with the claim
        matcher, and the off-topic rule is skipped: the caller paired them.
        ``actors`` are the sides of the conflicts followed (``streams.domain.actors``):
        blaming another side than the claim does denies it.
        """
        if text == target:
            if _asks(text):
                return StanceResult(Stance.QUERY, 1.0, "asks whether the claim is true")
            return StanceResult(Stance.SUPPORT, 1.0, "states the claim")
        if relevance is None:
            # Paired by the caller (a reply and its thread's claim): on topic by definition.
            relevance = max(MIN_RELEVANCE, claim_similarity(normalise(target), normalise(text)))
        if relevance < MIN_RELEVANCE:
            return StanceResult(Stance.COMMENT, 1.0, "off-topic")
        denial, claim_denies = explicit_denial(text), explicit_denial(target)
        if denial is not None:
            if claim_denies is not None or (relevance >= RESTATES and negates(target, text)):
                # The claim is itself a denial ("reports of its fall are fake", "Correction:
                # the mayor has not resigned"): denying too agrees.
                return StanceResult(Stance.SUPPORT, 1.0, f"denies as the claim does ({denial})")
            if _reports_both_sides(target, text):
                return StanceResult(Stance.COMMENT, 1.0, f"reports the claim and a denial ({denial})")
            return StanceResult(Stance.DENY, 1.0, denial)
        if claim_denies is not None and relevance >= RESTATES:
            # Says the same thing without the claim's denial: asserts what the claim denies,
            # unless it asks ("is the dam really gone?" of "reports it was destroyed are false")
            # or negates it in words of its own ("Correction: Mayor Smith has not resigned").
            if _asks(text):
                return StanceResult(Stance.QUERY, 1.0, "asks whether what the claim denies is so")
            if negates(text, target):
                return StanceResult(Stance.SUPPORT, 1.0, f"negates as the claim denies ({claim_denies})")
            return StanceResult(Stance.DENY, 1.0, f"asserts what the claim denies ({claim_denies})")
        # From the join bar the matcher has said both are about one claim: a negation
        # then opposes it even where the words differ ("Baghdadi killed in airstrike" /
        # "Baghdadi not dead"). Below it, shared words must say so.
        opposed = contradiction(
            target,
            text,
            ContradictionConfig(actors=actors),
            about_same=True if relevance >= RESTATES else None,
        )
        if opposed.contradicts and opposed.cue.startswith(("antonym", "negation", "attribution")):
            return StanceResult(Stance.DENY, 1.0, opposed.cue)
        if relevance >= RESTATES:
            # It makes the claim itself. Without a denial cue (checked above) the model's
            # "comment" or word-level "deny" would be the reply-thread prior, not this
            # post, so the model is not asked: a question asks, a hedged restatement
            # ("reportedly", "may") reports without asserting, the rest supports.
            if _asks(text) and not asks(target):
                return StanceResult(Stance.QUERY, 1.0, "asks whether the claim is true")
            # A hedge of a clause that says the claim: "Arrest made, AP reports. The suspect
            # is expected to appear in court" stands behind the arrest.
            # The claim's own hedges are none ("... suspect expected in court" restated).
            own = hedge_words(target)
            said = parts_about(clauses(text), target) if target else [text]
            hedge = next((h for c in said if (h := hedges(c, own)) is not None), None)
            if hedge is not None:
                return StanceResult(Stance.COMMENT, 1.0, f"hedged restatement ({hedge})")
            return StanceResult(Stance.SUPPORT, 1.0, f"restates the claim ({relevance:.2f})")
        probs, cue = self.probabilities(target, text)
        best = max(range(4), key=lambda c: probs[c] * self.offsets[c])
        return StanceResult(Stance(STANCE_CLASSES[best]), round(probs[best], 4), cue)

    @classmethod
    def from_json(cls, raw: bytes | str, origin: str) -> StanceModel:
        try:
            data = json.loads(raw)
            classes = tuple(data["classes"])
            weights = {str(n): _four(w) for n, w in data["weights"].items()}
            model = cls(str(data["version"]), weights, _four(data["offsets"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"stance model {origin} is not a valid model file: {exc}") from exc
        if classes != STANCE_CLASSES:
            raise ModelError(
                f"stance model {origin} has classes {list(classes)}, expected {list(STANCE_CLASSES)}: "
                "retrain it with bench/train_stance.py"
            )
        return model


def _asks(text: str) -> bool:
    """A post that asks: a question at its end, "is it true", or a question opening it."""
    return asks(text) or leads_with_question(text)


def _reports_both_sides(target: str, text: str) -> bool:
    """A report that gives the claim in one sentence and a denial of it in another
    ("Taliban say they have captured Panjshir. Resistance leaders denied the claim"):
    wire copy telling both sides asserts neither."""
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return False
    claim = normalise(target)
    words = set(claim.content)
    for sentence in sentences:
        if explicit_denial(sentence) is not None or asks(sentence) or negates(sentence, target):
            continue
        norm = normalise(sentence)
        # Two shared content words before the matcher is asked: an encoder pass per sentence.
        if len(words & set(norm.content)) >= 2 and claim_similarity(claim, norm) >= RESTATES:
            return True
    return False


def _four(values: object) -> tuple[float, float, float, float]:
    if not isinstance(values, list) or len(values) != 4:
        raise ValueError(f"expected four numbers, got {values!r}")
    a, b, c, d = (float(v) for v in values)
    return a, b, c, d


def load_stance_model(path: Path | None = None) -> StanceModel:
    """The model at ``path``, or the one shipped with the package."""
    if path is None:
        return default_stance_model()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read stance model {path}: {exc.strerror}") from exc
    return StanceModel.from_json(raw, str(path))


@lru_cache(maxsize=1)
def default_stance_model() -> StanceModel:
    raw = resources.files("streams.domain").joinpath("stance_model.json").read_bytes()
    return StanceModel.from_json(raw, "streams/domain/stance_model.json")


def classify_stance(text: str, *, target: str = "", relevance: float | None = None) -> StanceResult:
    """Stance of ``text`` toward ``target`` with the shipped model (no target: the text is the claim)."""
    return default_stance_model().classify(target or text, text, relevance=relevance)
