"""Does one statement entail, leave open, or contradict another? A learnt pair classifier.

Why beside the cues of ``contradiction``: cues catch what is said outright (a
negation, an opposite word, a denial, another count) and miss two descriptions
of one scene that cannot both hold ("the convoy is leaving the city" / "the
convoy is parked at the checkpoint"). This model reads the two texts together:
the packaged MiniLM with low-rank deltas to its attention matrices, merged into
the weights at load, and a three-way linear head on the mean-pooled pair vector,
trained on SICK and SNLI by ``bench/train_entailment.py``
(``entailment_adapter.npz``, 0.3 MB). One pair costs one encoder pass over both
texts, so the stream (``CORROBORATE_ENTAILMENT=on``; off by default, since it learnt
SNLI's reading, in which two differing descriptions of one scene contradict, and
calls two reports of one disaster contradictory) asks it only about claims its
matcher already found to be about the same thing. The file carries three pairs with the vectors PyTorch gave
them; loading refuses a file this implementation does not reproduce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from streams.domain.encoder import Encoder, check_adapter, load_tuned
from streams.domain.normalise import normalise
from streams.domain.pair_features import Signature
from streams.errors import ModelError

__all__ = [
    "ADAPTER",
    "LABELS",
    "VERSION",
    "EntailmentModel",
    "Verdict",
    "claim_text",
    "load_entailment_model",
]

ADAPTER = Path(__file__).with_name("entailment_adapter.npz")
VERSION = "nli-1"
LABELS = ("entailment", "neutral", "contradiction")


def claim_text(text: str) -> str:
    """A text as the stream holds a claim (normalised; ``Signature.full``): what the model was trained on."""
    return Signature.of(normalise(text)).full


@dataclass(frozen=True, slots=True)
class Verdict:
    label: str
    """The most probable of ``LABELS``."""
    probabilities: tuple[float, float, float]
    """Of entailment, neutral and contradiction, in that order."""

    @property
    def contradiction(self) -> float:
        return self.probabilities[2]


class EntailmentModel:
    """Premise and hypothesis to the probabilities of ``LABELS``."""

    def __init__(
        self, encoder: Encoder, weight: npt.NDArray[np.float32], bias: npt.NDArray[np.float32]
    ) -> None:
        if weight.shape != (len(LABELS), encoder.dimensions) or bias.shape != (len(LABELS),):
            raise ModelError(
                f"entailment head has shape {weight.shape}, {bias.shape}; wants 3 x {encoder.dimensions}"
            )
        self._encoder = encoder
        self._weight = weight.T.copy()
        self._bias = bias
        self.version = encoder.adapter

    def judge_many(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        if not pairs:
            return []
        vectors = self._encoder.embed_pairs([(claim_text(a), claim_text(b)) for a, b in pairs])
        logits = vectors @ self._weight + self._bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return [
            Verdict(LABELS[int(np.argmax(row))], (float(row[0]), float(row[1]), float(row[2])))
            for row in probs
        ]

    def judge(self, premise: str, hypothesis: str) -> Verdict:
        return self.judge_many([(premise, hypothesis)])[0]

    def contradiction(self, premise: str, hypothesis: str) -> float:
        """The probability that ``hypothesis`` contradicts ``premise`` (a ``contradiction.Judge``)."""
        return self.judge(premise, hypothesis).contradiction


@lru_cache(maxsize=1)
def load_entailment_model(adapter: Path = ADAPTER) -> EntailmentModel:
    """The packaged entailment model (``adapter``: another file of the same form, for tests)."""
    encoder, extras = load_tuned(adapter)
    try:
        first = [str(t) for t in extras["check_first"]]
        second = [str(t) for t in extras["check_second"]]
        expected = np.asarray(extras["check_vectors"], dtype=np.float32)
        weight = np.asarray(extras["head_weight"], dtype=np.float32)
        bias = np.asarray(extras["head_bias"], dtype=np.float32)
    except KeyError as exc:
        raise ModelError(f"entailment model {adapter} lacks {exc.args[0]}") from exc
    pairs = [(claim_text(a), claim_text(b)) for a, b in zip(first, second, strict=True)]
    check_adapter(adapter, encoder.embed_pairs(pairs), expected)
    return EntailmentModel(encoder, weight, bias)
