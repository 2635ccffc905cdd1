"""Exemplar vectors kept as int8 codes: what they cost in accuracy, and their lifetime."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from streams.domain.encoder import cosine
from streams.domain.vectors import ExemplarVectors


def _unit(seed: int, dimensions: int = 384) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dimensions).astype(np.float32)
    return v / np.linalg.norm(v)


@settings(max_examples=200)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.floats(-1.0, 1.0))
def test_a_stored_vector_changes_a_cosine_by_well_under_a_hundredth(a: int, b: int, mix: float) -> None:
    query = _unit(a)
    # Candidates from unrelated to near-identical, as the matcher meets them.
    cand = query * mix + _unit(b) * (1 - abs(mix))
    assume(np.linalg.norm(cand) > 0.1)  # the encoder's vectors are unit length
    cand = (cand / np.linalg.norm(cand)).astype(np.float32)
    kept = ExemplarVectors()
    kept.keep("t", cand)
    stored = kept.get("t")
    assert stored is not None
    assert abs(float(np.linalg.norm(stored)) - 1.0) < 1e-5
    assert abs(cosine(query, stored) - cosine(query, cand)) < 0.005


def test_a_vector_lives_as_long_as_an_exemplar_keeps_its_text() -> None:
    kept = ExemplarVectors(capacity=2)
    kept.keep("a")  # restored from the changelog: no vector yet
    assert kept.get("a") is None and len(kept) == 0
    kept.fill("a", _unit(1))
    kept.fill("stranger", _unit(2))  # not an exemplar's text: not stored
    assert kept.get("a") is not None and kept.get("stranger") is None
    kept.keep("a")  # the same text in a second cluster
    kept.release("a")
    assert kept.get("a") is not None, "one exemplar still has it"
    kept.release("a")
    assert kept.get("a") is None and len(kept) == 0
    kept.release("never kept")  # harmless


def test_the_store_grows_and_reuses_freed_rows() -> None:
    kept = ExemplarVectors(capacity=2)
    for i in range(5):
        kept.keep(f"t{i}", _unit(i))
    assert len(kept) == 5 and kept.nbytes() == 8 * (384 + 4)
    for i in range(5):
        assert cosine(kept.get(f"t{i}"), _unit(i)) > 0.999  # type: ignore[arg-type]
    kept.release("t0")
    kept.keep("t5", _unit(5))
    assert kept.nbytes() == 8 * (384 + 4), "the freed row is used again"
    assert cosine(kept.get("t5"), _unit(5)) > 0.999  # type: ignore[arg-type]
