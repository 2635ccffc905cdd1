"""Train the stance model on RumourEval 2019 and Emergent; report held-out figures.

Run: ``.venv/bin/python -m bench.train_stance [--write]``.

Held out two ways, both printed:

* RumourEval's own split: fit on ``train`` threads (plus the Emergent folds
  not scored), score the ``dev`` threads;
* five folds by group (a RumourEval event, a Reddit thread, an Emergent
  claim), so no event or claim is both trained on and scored.

Per-class offsets added to the scores (the model's priors) are chosen on the
training side only, by the mean macro-F1 of an inner split, never on the
scored fold. ``--write`` fits on everything and writes
``streams/domain/stance_model.json``.
"""

from __future__ import annotations

import argparse
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.datasets import emergent_pairs, rumoureval_posts
from bench.softmax import SoftmaxModel, fit_softmax, predict_proba
from streams.domain.stance import STANCE_CLASSES, STANCE_MODEL_VERSION, StanceModel
from streams.domain.stance_features import stance_features

__all__ = ["Example", "load_examples", "macro_f1", "per_class"]

MODEL_PATH = Path(__file__).resolve().parents[1] / "streams" / "domain" / "stance_model.json"
FOLDS = 5
MIN_COUNT = 5  # a feature seen in fewer training posts is dropped
INNER_FOLDS = 3
L2_GRID = (1e-3, 3e-3, 1e-2)  # penalties tried on the inner folds
SHIP_MIN_WEIGHT = 0.1  # features whose every weight is smaller are left out of the model file
EMERGENT_SHARE = 0.35  # Emergent's weight in total, relative to RumourEval


@dataclass(frozen=True, slots=True)
class Example:
    corpus: str
    group: str
    split: str
    features: Mapping[str, float]
    label: int
    target: str
    text: str


def load_examples() -> list[Example]:
    out = []
    for p in rumoureval_posts():
        out.append(
            Example(
                "rumoureval",
                p.event,
                p.split,
                stance_features(p.target, p.text),
                STANCE_CLASSES.index(p.stance),
                p.target,
                p.text,
            )
        )
    for e in emergent_pairs():
        out.append(
            Example(
                "emergent",
                e.group,
                "emergent",
                stance_features(e.target, e.text),
                STANCE_CLASSES.index(e.label),
                e.target,
                e.text,
            )
        )
    return out


def per_class(gold: Sequence[int], pred: Sequence[int]) -> list[tuple[float, float, float]]:
    out = []
    for c in range(len(STANCE_CLASSES)):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        out.append((prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0))
    return out


def macro_f1(gold: Sequence[int], pred: Sequence[int], classes: Sequence[int] | None = None) -> float:
    scores = per_class(gold, pred)
    use = classes if classes is not None else range(len(STANCE_CLASSES))
    return sum(scores[c][2] for c in use) / len(use)


def _weights(train: Sequence[Example]) -> list[float]:
    """Per-example weight: classes balanced within RumourEval, Emergent scaled to its share."""
    k = len(STANCE_CLASSES)
    rum = [e for e in train if e.corpus == "rumoureval"]
    counts = [sum(1 for e in rum if e.label == c) or 1 for c in range(k)]
    return [(len(rum) / (k * n)) ** 0.5 for n in counts]


def fit(train: Sequence[Example], *, l2: float) -> SoftmaxModel:
    cw = _weights(train)
    rum = sum(1 for e in train if e.corpus == "rumoureval")
    emg = sum(1 for e in train if e.corpus == "emergent") or 1
    weights = [cw[e.label] * (EMERGENT_SHARE * rum / emg if e.corpus == "emergent" else 1.0) for e in train]
    return fit_softmax(
        [e.features for e in train],
        [e.label for e in train],
        len(STANCE_CLASSES),
        sample_weights=weights,
        l2=l2,
    )


def runtime_model(model: SoftmaxModel, offsets: Sequence[float]) -> StanceModel:
    """The fitted weights as the stream uses them, rule included, rounded as shipped."""
    weights = {
        n: (round(a, 4), round(b, 4), round(c, 4), round(d, 4))
        for n, (a, b, c, d) in sorted(model.items())
        if max(map(abs, (a, b, c, d))) >= SHIP_MIN_WEIGHT
    }
    o = [round(x, 3) for x in offsets]
    return StanceModel(STANCE_MODEL_VERSION, weights, (o[0], o[1], o[2], o[3]))


def predict(model: StanceModel, e: Example) -> int:
    return STANCE_CLASSES.index(model.classify(e.target, e.text).stance.value)


def tune_offsets(probs: Sequence[Sequence[float]], gold: Sequence[int]) -> tuple[list[float], float]:
    """Per-class multipliers of the probabilities that maximise macro-F1 (coordinate search),
    and the macro-F1 they give."""
    k = len(STANCE_CLASSES)
    offsets = [1.0] * k
    grid = [0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0]

    def score(off: Sequence[float]) -> float:
        pred = [max(range(k), key=lambda c, p=p: p[c] * off[c]) for p in probs]
        return macro_f1(gold, pred)

    best = score(offsets)
    for _ in range(2):
        for c in range(k):
            for g in grid:
                trial = [*offsets]
                trial[c] = g
                s = score(trial)
                if s > best + 1e-9:
                    best, offsets = s, trial
    return offsets, best


def _fold_of(group: str, folds: int = FOLDS) -> int:
    return zlib.crc32(group.encode()) % folds


def fit_tuned(train: Sequence[Example]) -> tuple[SoftmaxModel, list[float]]:
    """Fit on ``train``, with the penalty and the offsets that scored best on inner folds
    by group over ``train`` (never on what is scored after)."""
    train = prune(train)
    k = len(STANCE_CLASSES)
    best: tuple[float, float, list[float]] | None = None
    for l2 in L2_GRID:
        probs: list[list[float]] = []
        gold: list[int] = []
        for f in range(INNER_FOLDS):
            inner = [e for e in train if _fold_of("inner" + e.group, INNER_FOLDS) != f]
            held = [
                e for e in train if _fold_of("inner" + e.group, INNER_FOLDS) == f and e.corpus == "rumoureval"
            ]
            model = fit(inner, l2=l2)
            probs.extend(predict_proba(model, e.features, k) for e in held)
            gold.extend(e.label for e in held)
        offsets, score = tune_offsets(probs, gold)
        if best is None or score > best[0]:
            best = (score, l2, offsets)
    assert best is not None
    return fit(train, l2=best[1]), best[2]


def prune(examples: Sequence[Example]) -> list[Example]:
    """Drop features seen in fewer than ``MIN_COUNT`` posts: they only learn their one post."""
    counts: dict[str, int] = {}
    for e in examples:
        for name in e.features:
            counts[name] = counts.get(name, 0) + 1
    return [
        Example(
            e.corpus,
            e.group,
            e.split,
            {n: v for n, v in e.features.items() if counts[n] >= MIN_COUNT},
            e.label,
            e.target,
            e.text,
        )
        for e in examples
    ]


def report(name: str, gold: Sequence[int], pred: Sequence[int], *, quiet: bool = False) -> dict[str, object]:
    pc = per_class(gold, pred)
    acc = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / max(1, len(gold))
    out = {
        "set": name,
        "n": len(gold),
        "macro_f1": round(macro_f1(gold, pred), 3),
        "accuracy": round(acc, 3),
        "f1": {STANCE_CLASSES[c]: round(pc[c][2], 3) for c in range(len(STANCE_CLASSES))},
    }
    if not quiet:
        print(json.dumps(out))
    return out


def evaluate(examples: Sequence[Example], *, quiet: bool = False) -> list[dict[str, object]]:
    results = []
    # RumourEval's own split; Emergent folds 1-4 train, fold 0 scored.
    train = [e for e in examples if e.split == "train" or (e.corpus == "emergent" and _fold_of(e.group))]
    model = runtime_model(*fit_tuned(train))
    dev = [e for e in examples if e.split == "dev"]
    results.append(
        report(
            "rumoureval dev (trained on train)",
            [e.label for e in dev],
            [predict(model, e) for e in dev],
            quiet=quiet,
        )
    )
    # Grouped folds over both corpora.
    gold_r, pred_r, gold_e, pred_e = [], [], [], []
    for f in range(FOLDS):
        train = [e for e in examples if _fold_of(e.group) != f]
        test = [e for e in examples if _fold_of(e.group) == f]
        model = runtime_model(*fit_tuned(train))
        for e in test:
            (gold_r if e.corpus == "rumoureval" else gold_e).append(e.label)
            (pred_r if e.corpus == "rumoureval" else pred_e).append(predict(model, e))
    results.append(report("rumoureval train+dev, 5 folds by event", gold_r, pred_r, quiet=quiet))
    emergent = report("emergent, 5 folds by claim", gold_e, pred_e, quiet=quiet)
    three = [STANCE_CLASSES.index(c) for c in ("support", "deny", "comment")]
    emergent["macro_f1_for_against_observing"] = round(macro_f1(gold_e, pred_e, three), 3)
    if not quiet:
        print(
            json.dumps(
                {
                    "set": "emergent, for/against/observing",
                    "macro_f1": emergent["macro_f1_for_against_observing"],
                }
            )
        )
    results.append(emergent)
    return results


def write(examples: Sequence[Example]) -> None:
    model = runtime_model(*fit_tuned(examples))
    weights = {n: list(w) for n, w in model.weights.items()}
    MODEL_PATH.write_text(
        json.dumps(
            {
                "version": model.version,
                "classes": list(STANCE_CLASSES),
                "offsets": list(model.offsets),
                "weights": weights,
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    print(f"wrote {MODEL_PATH} ({len(weights)} features)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="fit on everything and write the model file")
    args = parser.parse_args()
    examples = load_examples()
    evaluate(examples)
    if args.write:
        write(examples)


if __name__ == "__main__":
    main()
