"""Weighted L2 logistic regression by Newton's method, in plain Python.

Why not scikit-learn: the model has seventeen inputs and the runtime must not
need numpy; a few Newton steps over forty thousand rows take seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["fit_logistic", "sigmoid"]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _solve(matrix: list[list[float]], rhs: list[float]) -> list[float]:
    n = len(rhs)
    m = [[*row, r] for row, r in zip(matrix, rhs, strict=True)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[piv] = m[piv], m[c]
        for r in range(n):
            if r != c and m[r][c] != 0.0:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit_logistic(
    rows: Sequence[Sequence[float]],
    labels: Sequence[bool],
    weights: Sequence[float],
    *,
    l2: float = 1.0,
    iterations: int = 30,
) -> tuple[list[float], float]:
    """(coefficients, bias) minimising weighted log-loss plus ``l2`` on the coefficients."""
    d = len(rows[0]) + 1
    w = [0.0] * d
    for _ in range(iterations):
        grad = [0.0] * d
        hess = [[0.0] * d for _ in range(d)]
        for x, y, sw in zip(rows, labels, weights, strict=True):
            xx = [*x, 1.0]
            p = sigmoid(sum(a * b for a, b in zip(w, xx, strict=True)))
            r = sw * (p - (1.0 if y else 0.0))
            s = sw * p * (1.0 - p)
            for i in range(d):
                grad[i] += r * xx[i]
                si = s * xx[i]
                row = hess[i]
                for j in range(i, d):
                    row[j] += si * xx[j]
        for i in range(d):
            for j in range(i):
                hess[i][j] = hess[j][i]
            if i < d - 1:
                hess[i][i] += l2
                grad[i] += l2 * w[i]
            else:
                hess[i][i] += 1e-9
        step = _solve(hess, grad)
        w = [a - b for a, b in zip(w, step, strict=True)]
        if max(abs(v) for v in step) < 1e-7:
            break
    return w[:-1], w[-1]
