"""Multinomial logistic regression over sparse features, by AdaGrad, in plain Python.

Why not scikit-learn: the runtime must not need numpy, the data are a few
thousand short posts, and a model of a few thousand named weights is written
as JSON the stream reads back without the trainer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

__all__ = ["SoftmaxModel", "fit_softmax", "softmax"]

SoftmaxModel = dict[str, list[float]]
"""Feature name -> one weight per class."""


def softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _scores(model: SoftmaxModel, x: Mapping[str, float], k: int) -> list[float]:
    out = [0.0] * k
    for name, value in x.items():
        w = model.get(name)
        if w is not None:
            for c in range(k):
                out[c] += w[c] * value
    return out


def fit_softmax(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    n_classes: int,
    *,
    class_weights: Sequence[float] | None = None,
    epochs: int = 12,
    rate: float = 0.3,
    l2: float = 1e-4,
    seed: int = 7,
) -> SoftmaxModel:
    """Weights minimising weighted log-loss plus ``l2`` (lazily applied per feature touched)."""
    cw = list(class_weights or [1.0] * n_classes)
    model: SoftmaxModel = {}
    accum: dict[str, list[float]] = {}
    order = list(range(len(rows)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            x, y = rows[i], labels[i]
            p = softmax(_scores(model, x, n_classes))
            sw = cw[y]
            for name, value in x.items():
                w = model.setdefault(name, [0.0] * n_classes)
                g2 = accum.setdefault(name, [1e-8] * n_classes)
                for c in range(n_classes):
                    g = sw * (p[c] - (1.0 if c == y else 0.0)) * value + l2 * w[c]
                    g2[c] += g * g
                    w[c] -= rate * g / math.sqrt(g2[c])
    return model


def predict_proba(model: SoftmaxModel, x: Mapping[str, float], n_classes: int) -> list[float]:
    return softmax(_scores(model, x, n_classes))
