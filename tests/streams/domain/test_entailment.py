"""The learnt entailment model: the shipped file loads, checks itself and judges held-out pairs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from streams.domain.entailment import ADAPTER, LABELS, load_entailment_model
from streams.errors import ModelError
from tests.conftest import shared_data


def _parts() -> dict[str, np.ndarray]:
    with np.load(ADAPTER) as saved:
        return {name: saved[name] for name in saved.files}


def test_the_packaged_model_tells_a_negation_from_a_rewording() -> None:
    model = load_entailment_model()
    assert model.version == "nli-1"
    negated = model.judge("A man is playing a guitar on stage", "A man is not playing a guitar on stage")
    reworded = model.judge("Two dogs are running across a field", "Animals are running outdoors")
    assert negated.label == "contradiction" and negated.contradiction > 0.5
    assert reworded.label == "entailment" and reworded.contradiction < 0.2
    assert abs(sum(negated.probabilities) - 1.0) < 1e-5
    assert model.judge_many([]) == []


def test_a_file_that_does_not_reproduce_its_check_vectors_is_refused(tmp_path: Path) -> None:
    parts = _parts()
    for name in [n for n in parts if n.endswith(".value.B")]:
        parts[name] = parts[name] * 3  # damaged, or trained against another encoder
    damaged = tmp_path / "entailment.npz"
    np.savez(damaged, **parts)
    with pytest.raises(ModelError, match=f"adapter {damaged} does not reproduce its check vectors"):
        load_entailment_model(damaged)


def test_a_file_without_a_head_or_with_a_misshapen_one_is_refused(tmp_path: Path) -> None:
    parts = _parts()
    headless = tmp_path / "headless.npz"
    np.savez(headless, **{n: a for n, a in parts.items() if n != "head_weight"})
    with pytest.raises(ModelError, match="lacks head_weight"):
        load_entailment_model(headless)
    misshapen = tmp_path / "misshapen.npz"
    np.savez(misshapen, **{**parts, "head_weight": parts["head_weight"][:2]})
    with pytest.raises(ModelError, match="entailment head has shape"):
        load_entailment_model(misshapen)


def test_sick_trial_which_it_never_saw_is_judged_well() -> None:
    """A floor, not the figure: ``make eval`` reports the detector on SICK trial (F1 0.832)."""
    path = shared_data("sick", "SICK_trial.txt")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    verdicts = load_entailment_model().judge_many([(r["sentence_A"], r["sentence_B"]) for r in rows])
    right = sum(v.label == r["entailment_judgment"].lower() for v, r in zip(verdicts, rows, strict=True))
    found = [v.label == "contradiction" for v in verdicts]
    gold = [r["entailment_judgment"] == "CONTRADICTION" for r in rows]
    tp = sum(f and g for f, g in zip(found, gold, strict=True))
    assert right / len(rows) > 0.8, right
    assert tp / sum(found) > 0.8 and tp / sum(gold) > 0.7, (tp, sum(found), sum(gold))
    assert set(LABELS) >= {v.label for v in verdicts}
