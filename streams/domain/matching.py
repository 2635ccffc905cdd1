"""Decide whether two texts make the same claim.

Why a fitted model and not one fuzzy score: no single rapidfuzz score holds
up on both tweet paraphrases (PIT-2015) and headline-vs-tweet pairs (Twitter
URL corpus): ``token_set_ratio`` calls any short text a match of any long text
containing it, ``token_sort_ratio`` punishes a tweet that adds commentary, and
both let shared names ("Panjshir valley") outweigh a different predicate. A
logistic regression over the seventeen features of ``pair_features`` weighs
them against each other; it is trained by ``bench/train_matcher.py`` on the
shared data and ships as ``match_model.json`` (versioned, a few numbers).

Texts with fewer than ``min_tokens`` content words ("wow", "this is huge")
only match an identical text: a fitted model cannot be trusted on them. Two
texts that both name people or places, and share none of the names, do not
match (``different_names``): "praying for Texas" is not "praying for Boston".
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from streams.domain.normalise import Normalised
from streams.domain.pair_features import (
    FEATURE_NAMES,
    Signature,
    different_names,
    match_text,
    pair_features,
)
from streams.errors import ModelError

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_CONTENT_TOKENS",
    "MatchConfig",
    "MatchModel",
    "SimilarityScorer",
    "claim_similarity",
    "load_model",
    "match_text",
]

#: Texts with fewer content words than this only match an identical text.
MIN_CONTENT_TOKENS = 3


@dataclass(frozen=True, slots=True)
class MatchModel:
    """A logistic regression over ``FEATURE_NAMES``: P(same claim) = sigmoid(w . x + bias)."""

    version: str
    weights: tuple[float, ...]
    bias: float
    threshold: float
    """The operating point chosen by the training script (best mean F1 held out)."""

    def probability(self, features: Sequence[float]) -> float:
        z = self.bias + math.fsum(w * x for w, x in zip(self.weights, features, strict=True))
        if z < -30.0:
            return 0.0
        return 1.0 / (1.0 + math.exp(-min(z, 30.0)))

    @classmethod
    def from_json(cls, raw: bytes | str, origin: str) -> MatchModel:
        try:
            data = json.loads(raw)
            features = tuple(data["features"])
            weights = tuple(float(w) for w in data["weights"])
            model = cls(str(data["version"]), weights, float(data["bias"]), float(data["threshold"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"match model {origin} is not a valid model file: {exc}") from exc
        if features != FEATURE_NAMES or len(weights) != len(FEATURE_NAMES):
            raise ModelError(
                f"match model {origin} was trained on features {list(features)}, "
                f"this code computes {list(FEATURE_NAMES)}: retrain with bench/train_matcher.py"
            )
        return model


@lru_cache(maxsize=8)
def load_model(path: str | None = None) -> MatchModel:
    """The bundled model, or one from ``path`` (an operator's retrained model)."""
    if path is None:
        raw = resources.files("streams.domain").joinpath("match_model.json").read_bytes()
        return MatchModel.from_json(raw, "(bundled)")
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read match model {path}: {exc.strerror}") from exc
    return MatchModel.from_json(raw, path)


DEFAULT_THRESHOLD = load_model().threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchConfig:
    """How the matcher decides.

    ==============  ===============  ===============================================
    field           default          meaning
    ==============  ===============  ===============================================
    threshold       model's          probability at or above which texts match
    min_tokens      3                content words below which only equality matches
    model           bundled          the fitted model
    ==============  ===============  ===============================================
    """

    threshold: float = DEFAULT_THRESHOLD
    min_tokens: int = MIN_CONTENT_TOKENS
    model: MatchModel = field(default_factory=load_model)


def _score(a: Signature, b: Signature, cfg: MatchConfig) -> float:
    if not a.match or not b.match:
        return 0.0
    if min(a.length, b.length) < cfg.min_tokens or different_names(a, b):
        return 1.0 if a.match == b.match else 0.0
    return cfg.model.probability(pair_features(a, b, cfg.min_tokens))


def claim_similarity(a: Normalised, b: Normalised, config: MatchConfig | None = None) -> float:
    """Probability in [0, 1] that ``a`` and ``b`` make the same claim."""
    return _score(Signature.of(a), Signature.of(b), config or MatchConfig())


class SimilarityScorer:
    """Scores one query signature against many candidate signatures."""

    __slots__ = ("_cfg",)

    def __init__(self, config: MatchConfig | None = None) -> None:
        self._cfg = config or MatchConfig()

    @property
    def config(self) -> MatchConfig:
        return self._cfg

    def score(self, a: Signature, b: Signature) -> float:
        return _score(a, b, self._cfg)

    def score_many(self, query: Signature, candidates: Sequence[Signature]) -> list[float]:
        """Scores of ``query`` against each candidate, in candidate order."""
        cfg = self._cfg
        return [_score(query, cand, cfg) for cand in candidates]
