"""Decide whether two texts make the same claim.

Why a fitted model and not one fuzzy score: no single rapidfuzz score holds
up on both tweet paraphrases (PIT-2015) and headline-vs-tweet pairs (Twitter
URL corpus): ``token_set_ratio`` calls any short text a match of any long text
containing it, ``token_sort_ratio`` punishes a tweet that adds commentary, and
both let shared names ("Panjshir valley") outweigh a different predicate. A
logistic regression over the seventeen features of ``pair_features`` weighs
them against each other, with the cosine of the two texts' sentence vectors
(``encoder``) and its square: the string scores see shared words, the cosine
sees a shared meaning in other words. It is trained by ``bench/train_matcher.py``
on the shared data and ships as ``match_model.json`` (versioned, a few numbers).

The cosine costs a pass through the encoder for every text not seen recently;
``score_many`` sends a query's candidates through it in one batch. (Bounding the
model over every possible cosine to skip hopeless candidates was tried: the
cosine terms can add 6.9 to the logit, so it skipped almost nothing.)

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

from streams.domain.encoder import Encoder, cosine, load_encoder
from streams.domain.normalise import Normalised
from streams.domain.pair_features import (
    FEATURE_NAMES,
    Signature,
    different_names,
    match_text,
    pair_features,
)
from streams.domain.vectors import ExemplarVectors
from streams.errors import ModelError

__all__ = [
    "DEFAULT_THRESHOLD",
    "EMBEDDING_FEATURES",
    "MIN_CONTENT_TOKENS",
    "MODEL_FEATURES",
    "MatchConfig",
    "MatchModel",
    "SimilarityScorer",
    "claim_similarity",
    "load_model",
    "match_text",
]

#: Texts with fewer content words than this only match an identical text.
MIN_CONTENT_TOKENS = 3

#: The model's inputs beyond the string features: the sentence vectors' cosine and its square.
EMBEDDING_FEATURES: tuple[str, ...] = ("embedding_cosine", "embedding_cosine_sq")
MODEL_FEATURES: tuple[str, ...] = FEATURE_NAMES + EMBEDDING_FEATURES


def _sigmoid(z: float) -> float:
    if z < -30.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-min(z, 30.0)))


@dataclass(frozen=True, slots=True)
class MatchModel:
    """A logistic regression over ``MODEL_FEATURES``: P(same claim) = sigmoid(w . x + bias)."""

    version: str
    weights: tuple[float, ...]
    bias: float
    threshold: float
    """The operating point chosen by the training script (best mean F1 held out)."""
    adapter: str | None = None
    """The encoder adapter whose cosines the model was fitted on (None: the plain encoder)."""

    @property
    def uses_cosine(self) -> bool:
        """Whether the model reads the sentence vectors' cosine (else the strings alone)."""
        return len(self.weights) == len(MODEL_FEATURES)

    def lexical_logit(self, lexical: Sequence[float]) -> float:
        """The part of the logit the string features give (without the cosine terms)."""
        lexical_weights = self.weights[: len(FEATURE_NAMES)]
        return self.bias + math.fsum(w * x for w, x in zip(lexical_weights, lexical, strict=True))

    def with_cosine(self, lexical_logit: float, cos: float) -> float:
        w_cos, w_sq = self.weights[len(FEATURE_NAMES) :]
        return _sigmoid(lexical_logit + w_cos * cos + w_sq * cos * cos)

    @classmethod
    def from_json(cls, raw: bytes | str, origin: str) -> MatchModel:
        try:
            data = json.loads(raw)
            features = tuple(data["features"])
            weights = tuple(float(w) for w in data["weights"])
            adapter = data.get("adapter")
            model = cls(
                str(data["version"]),
                weights,
                float(data["bias"]),
                float(data["threshold"]),
                None if adapter is None else str(adapter),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"match model {origin} is not a valid model file: {exc}") from exc
        if features not in (MODEL_FEATURES, FEATURE_NAMES) or len(weights) != len(features):
            raise ModelError(
                f"match model {origin} was trained on features {list(features)}, "
                f"this code computes {list(MODEL_FEATURES)} (or the first {len(FEATURE_NAMES)} "
                "without the encoder): retrain with bench/train_matcher.py"
            )
        return model


@lru_cache(maxsize=8)
def load_model(path: str | None = None, *, lexical: bool = False, adapted: bool = False) -> MatchModel:
    """The bundled model (``lexical``: the one without the cosine; ``adapted``: the one fitted
    on the cosines of the encoder with its adapter), or one from ``path``."""
    if path is None:
        name = "match_model_lexical.json" if lexical else "match_model.json"
        if adapted and not lexical:
            name = "match_model_adapted.json"
        raw = resources.files("streams.domain").joinpath(name).read_bytes()
        return MatchModel.from_json(raw, f"(bundled {name})")
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
    encoder         packaged         the sentence encoder behind the cosine features;
                                     None with a model of the string features alone
    ==============  ===============  ===============================================
    """

    threshold: float = DEFAULT_THRESHOLD
    min_tokens: int = MIN_CONTENT_TOKENS
    model: MatchModel = field(default_factory=load_model)
    encoder: Encoder | None = field(default_factory=load_encoder)

    def __post_init__(self) -> None:
        if self.model.uses_cosine and self.encoder is None:
            raise ModelError(f"match model {self.model.version} reads sentence vectors: it needs the encoder")
        if self.model.uses_cosine and self.encoder is not None and self.encoder.adapter != self.model.adapter:
            raise ModelError(
                f"match model {self.model.version} was fitted on the cosines of the encoder with adapter "
                f"{self.model.adapter}, this encoder has {self.encoder.adapter}: retrain it with "
                "bench/train_matcher.py --write on this encoder"
            )

    @classmethod
    def lexical(cls) -> MatchConfig:
        """The string features alone (the bundled lexical model, no encoder): several times
        the throughput, at a lower recall of rewordings (README, "Same claim")."""
        model = load_model(lexical=True)
        return cls(threshold=model.threshold, model=model, encoder=None)


def _rule(a: Signature, b: Signature, cfg: MatchConfig) -> float | None:
    """The decision of the rules that stand beside the model, where one applies."""
    if not a.match or not b.match:
        return 0.0
    if min(a.length, b.length) < cfg.min_tokens or different_names(a, b):
        return 1.0 if a.match == b.match else 0.0
    return None


def _score_all(
    query: Signature,
    candidates: Sequence[Signature],
    cfg: MatchConfig,
    kept: ExemplarVectors | None = None,
) -> list[float]:
    scores: list[float] = []
    logits: dict[int, float] = {}
    for i, cand in enumerate(candidates):
        ruled = _rule(query, cand, cfg)
        if ruled is not None:
            scores.append(ruled)
            continue
        z = cfg.model.lexical_logit(pair_features(query, cand, cfg.min_tokens))
        if cfg.encoder is None:
            scores.append(_sigmoid(z))
            continue
        scores.append(math.nan)  # the cosine decides, below
        logits[i] = z
    if logits and cfg.encoder is not None:
        # Candidates' vectors from ``kept`` (exemplars keep theirs); one batch through
        # the encoder for the query and every candidate still without one.
        known = {i: v for i in logits if kept is not None and (v := kept.get(candidates[i].full)) is not None}
        missing = [i for i in logits if i not in known]
        vectors = cfg.encoder.embed_many([query.full, *(candidates[i].full for i in missing)])
        for i, vector in zip(missing, vectors[1:], strict=True):
            if kept is not None:
                # Scored as it will be from now on (its stored codes), so that a pair
                # scores the same the first time and every time after, restart or not.
                kept.fill(candidates[i].full, vector)
                stored = kept.get(candidates[i].full)
                if stored is not None:
                    vector = stored
            known[i] = vector
        for i, z in logits.items():
            scores[i] = cfg.model.with_cosine(z, cosine(vectors[0], known[i]))
    return scores


def claim_similarity(a: Normalised, b: Normalised, config: MatchConfig | None = None) -> float:
    """Probability in [0, 1] that ``a`` and ``b`` make the same claim."""
    return _score_all(Signature.of(a), [Signature.of(b)], config or MatchConfig())[0]


class SimilarityScorer:
    """Scores one query signature against many candidate signatures."""

    __slots__ = ("_cfg",)

    def __init__(self, config: MatchConfig | None = None) -> None:
        self._cfg = config or MatchConfig()

    @property
    def config(self) -> MatchConfig:
        return self._cfg

    def score(self, a: Signature, b: Signature, kept: ExemplarVectors | None = None) -> float:
        return _score_all(a, [b], self._cfg, kept)[0]

    def score_many(
        self, query: Signature, candidates: Sequence[Signature], kept: ExemplarVectors | None = None
    ) -> list[float]:
        """Scores of ``query`` against each candidate, in candidate order (one encoder batch
        for the texts whose vector is neither in ``kept`` nor in the encoder's cache)."""
        return _score_all(query, candidates, self._cfg, kept)
