"""Sentence vectors of a matcher's live exemplars, kept as long as the exemplars are.

Why: a post is scored against the exemplars of its candidate clusters, and
the cosine needs each exemplar's vector. The encoder keeps the vectors of the
20,000 most recent texts; with more live clusters than that, most candidates
had fallen out of it and went through the network again, several per post, and
a worker that took 139 items/s of a stream of repeated claims took 65/s of a
flood of new ones. Kept with their exemplars, dropped with them, each vector is
encoded once in its exemplar's life.

Kept as int8 codes with one scale per vector (384 bytes and a float, a quarter
of float32): a code is the component divided by the vector's largest, times
127, rounded, so a component is off by at most half a step, and a cosine by
well under 0.01; the scale kept is the one that decodes to a unit vector. A
vector is put only when it is at hand (the post's own, computed for its batch,
or a candidate's, computed for scoring): an exemplar restored from the
changelog gets its vector when it is first compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ExemplarVectors"]

Vector = npt.NDArray[np.float32]


class ExemplarVectors:
    """Text -> vector for the texts a matcher ``keep``-s, until it ``release``-s them."""

    def __init__(self, dimensions: int = 384, capacity: int = 1024) -> None:
        self._refs: dict[str, int] = {}
        self._slots: dict[str, int] = {}
        self._codes: npt.NDArray[np.int8] = np.zeros((capacity, dimensions), dtype=np.int8)
        self._scales: npt.NDArray[np.float32] = np.zeros(capacity, dtype=np.float32)
        self._free: list[int] = list(range(capacity - 1, -1, -1))

    def __len__(self) -> int:
        """Vectors held (texts kept whose vector has come)."""
        return len(self._slots)

    def keep(self, text: str, vector: Vector | None = None) -> None:
        """``text`` is an exemplar's now; its vector, if at hand, is stored."""
        self._refs[text] = self._refs.get(text, 0) + 1
        if vector is not None:
            self.fill(text, vector)

    def release(self, text: str) -> None:
        """One exemplar with ``text`` left the matcher; the vector goes with the last."""
        refs = self._refs.get(text, 0) - 1
        if refs > 0:
            self._refs[text] = refs
            return
        self._refs.pop(text, None)
        slot = self._slots.pop(text, None)
        if slot is not None:
            self._free.append(slot)

    def fill(self, text: str, vector: Vector) -> None:
        """Stores the vector of a kept text that has none yet (others are ignored)."""
        if text not in self._refs or text in self._slots:
            return
        if not self._free:
            self._grow()
        slot = self._free.pop()
        peak = float(np.max(np.abs(vector)))
        scale = peak / 127.0 if peak > 0 else 1.0
        codes = np.rint(vector / scale).astype(np.int8)
        # The scale that makes the decoded vector a unit one, so that ``get`` (once per
        # candidate per post) multiplies and no more.
        norm = float(np.linalg.norm(codes.astype(np.float32)))
        self._codes[slot] = codes
        self._scales[slot] = 1.0 / norm if norm > 0 else 0.0
        self._slots[text] = slot

    def get(self, text: str) -> Vector | None:
        """The unit vector of a kept text, or None when it has not come yet."""
        slot = self._slots.get(text)
        if slot is None:
            return None
        vector: Vector = self._codes[slot].astype(np.float32)
        vector *= self._scales[slot]
        return vector

    def nbytes(self) -> int:
        """Bytes of the code and scale arrays (the dicts come on top)."""
        return int(self._codes.nbytes + self._scales.nbytes)

    def _grow(self) -> None:
        old = len(self._scales)
        new = old * 2
        codes: Any = np.zeros((new, self._codes.shape[1]), dtype=np.int8)
        codes[:old] = self._codes
        scales = np.zeros(new, dtype=np.float32)
        scales[:old] = self._scales
        self._codes, self._scales = codes, scales
        self._free.extend(range(new - 1, old - 1, -1))
