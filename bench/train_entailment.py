"""Train the entailment model (premise, hypothesis -> entailment / neutral / contradiction).

Why: the contradiction cues catch what a newsroom says outright (a negation, an
opposite word, a denial, another count) and almost nothing else: on SNLI, whose
contradictions are descriptions that cannot both hold ("a man is sleeping" / "a
man is running a marathon"), they find 3 in 100. A pair classifier reads both
texts together and learns which descriptions exclude each other. It is the
packaged MiniLM with low-rank deltas to its attention matrices (as the claim
encoder's adapter) and a three-way linear head on the mean-pooled pair vector;
``streams.domain.entailment`` runs it in numpy, deltas merged at load.

Needs PyTorch and transformers (``pip install -e '.[train]'`` in a venv of its own)::

    python -m bench.train_entailment --heldout   # 5 folds of SNLI by caption, ~45 min on 2 cores
    python -m bench.train_entailment --write     # -> streams/domain/entailment_adapter.npz, ~9 min

Data, from ``../shared/data``: SICK train (4,500 pairs) and the SNLI subset
(1,273 pairs with a gold label). SICK trial (500 pairs) is never trained on, so
``make eval`` scores the shipped model on it held out. ``--heldout`` trains one
model per SNLI fold (folds by caption, so a premise is never on both sides) on
SICK train and the other folds, scores that fold and SICK trial, and writes
``bench/entailment_heldout.json``: the model alone (its most probable class) and
the detector as the stream runs it (cues, then the model), on the CONTRADICTION class.
Texts are normalised as the stream normalises claims before either side sees them.
Training: 4 epochs, SNLI's pairs 4 times in each (a fifth of SICK's count, and the
harder set), batches of 32, cross-entropy, AdamW at 1e-3 for the deltas and 1e-2 for
the head with warm-up and linear decay, no dropout, seed 0. On fold 0, 3 epochs with
SNLI once gave SNLI contradiction F1 0.52, with SNLI 3 times 0.62, this setting 0.69.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets import LabelledPair, sick_pairs, snli_pairs
from bench.train_encoder_adapter import build, embed, load_torch, stored_deltas
from bench.train_matcher import FOLDS, fold_of
from streams.domain.contradiction import contradiction
from streams.domain.encoder import load_encoder
from streams.domain.entailment import ADAPTER, LABELS, VERSION, claim_text

__all__ = ["HELDOUT", "main"]

HELDOUT = Path(__file__).with_name("entailment_heldout.json")
EPOCHS = 4
BATCH = 32
LEARNING_RATE = 1e-3  # the deltas
HEAD_LEARNING_RATE = 1e-2
POOL_SCALE = 20.0  # the pooled vector is unit length; the head reads it scaled
SNLI_REPEAT = 4  # SNLI pairs seen this many times an epoch: a fifth of SICK's count, and harder
CHECK_PAIRS = (
    ("the taliban have completely conquered panjshir", "the fight in panjshir will continue"),
    ("a man is playing a guitar", "a man is not playing a guitar"),
    ("two dogs run across a field", "animals are outdoors"),
)


@dataclass(frozen=True, slots=True)
class Row:
    pair: LabelledPair
    tokens: tuple[int, ...]
    label: int


def rows(pairs: Sequence[LabelledPair]) -> list[Row]:
    tokens = load_encoder(adapted=False).pair_tokens
    return [
        Row(p, tuple(tokens(claim_text(p.target), claim_text(p.text))), LABELS.index(p.label.lower()))
        for p in pairs
    ]


def train(torch: Any, data: Sequence[Row], *, seed: int = 0) -> tuple[Any, Any]:
    random.seed(seed)
    torch.manual_seed(seed)
    model = build(torch)
    head = torch.nn.Linear(model.config.hidden_size, len(LABELS))
    deltas = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(
        [{"params": deltas, "lr": LEARNING_RATE}, {"params": head.parameters(), "lr": HEAD_LEARNING_RATE}],
        weight_decay=0.0,
    )
    per_epoch = len(data) // BATCH
    total = per_epoch * EPOCHS
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.1 * total)) * max(0.0, (total - s) / total)
    )
    started = time.monotonic()
    pool = list(data)
    step = 0
    for _ in range(EPOCHS):
        random.shuffle(pool)
        for b in range(per_epoch):
            batch = pool[b * BATCH : (b + 1) * BATCH]
            logits = head(POOL_SCALE * embed(torch, model, [r.tokens for r in batch]))
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor([r.label for r in batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if step % 100 == 0:
                print(f"  step {step}/{total}, {time.monotonic() - started:.0f} s", flush=True)
    return model, head


def probabilities(torch: Any, model: Any, head: Any, data: Sequence[Row]) -> Any:
    order = sorted(range(len(data)), key=lambda i: len(data[i].tokens))
    out = np.zeros((len(data), len(LABELS)), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            logits = head(POOL_SCALE * embed(torch, model, [data[i].tokens for i in idx]))
            out[idx] = torch.softmax(logits, -1).numpy()
    return out


def scores(data: Sequence[Row], probs: Any) -> dict[str, Any]:
    """CONTRADICTION precision / recall / F1 of the model alone (its most probable class) and
    of the detector as the stream runs it (cues, then the model where the texts are related)."""
    contra = LABELS.index("contradiction")
    gold = [r.label == contra for r in data]
    model = [int(np.argmax(p)) == contra for p in probs]
    detector = [
        contradiction(r.pair.target, r.pair.text, judge=lambda _a, _b, p=float(p[contra]): p).contradicts
        for r, p in zip(data, probs, strict=True)
    ]
    right = sum(int(np.argmax(p)) == r.label for r, p in zip(data, probs, strict=True))
    out: dict[str, Any] = {"pairs": len(data), "accuracy": round(right / max(1, len(data)), 4)}
    for name, found in (("model", model), ("detector", detector)):
        tp = sum(f and g for f, g in zip(found, gold, strict=True))
        p = tp / max(1, sum(found))
        r = tp / max(1, sum(gold))
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        out[name] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}
    return out


def heldout(torch: Any, folds_run: Sequence[int]) -> dict[str, Any]:
    sick, trial, snli = rows(sick_pairs("train")), rows(sick_pairs("trial")), rows(snli_pairs())
    held_rows: list[Row] = []
    held_probs = []
    trial_probs = []
    folds = []
    for k in folds_run:
        started = time.monotonic()
        model, head = train(torch, sick + SNLI_REPEAT * [r for r in snli if fold_of(r.pair.group) != k])
        scored = [r for r in snli if fold_of(r.pair.group) == k]
        probs = probabilities(torch, model, head, scored)
        held_rows += scored
        held_probs.append(probs)
        trial_probs.append(probabilities(torch, model, head, trial))
        fold = {"fold": k, "snli": scores(scored, probs), "seconds": round(time.monotonic() - started)}
        folds.append(fold)
        print(fold, flush=True)
    report = {
        "model": VERSION,
        "snli_heldout": scores(held_rows, np.concatenate(held_probs)),
        "sick_trial_mean_of_fold_models": scores(trial, np.mean(trial_probs, axis=0)),
        "folds": folds,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "folds"}, indent=1))
    return report


def write(torch: Any) -> None:
    model, head = train(torch, rows(sick_pairs("train")) + SNLI_REPEAT * rows(snli_pairs()))
    parts = stored_deltas(torch, model)
    weight = (POOL_SCALE * head.weight).detach().numpy().astype(np.float32)
    bias = head.bias.detach().numpy().astype(np.float32)
    pairs = rows([LabelledPair("check", a, b, "neutral") for a, b in CHECK_PAIRS])
    with torch.no_grad():
        check = embed(torch, model, [r.tokens for r in pairs]).numpy()
    np.savez_compressed(
        ADAPTER,
        version=np.array(VERSION),
        scale=np.array(1.0),
        check_first=np.array([a for a, _ in CHECK_PAIRS]),
        check_second=np.array([b for _, b in CHECK_PAIRS]),
        check_vectors=check.astype(np.float32),
        head_weight=weight,
        head_bias=bias,
        **parts,
    )
    print(f"wrote {ADAPTER} ({ADAPTER.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--heldout", action="store_true", help=f"5 folds of SNLI; writes {HELDOUT.name}")
    parser.add_argument("--fold", type=int, action="append", help="with --heldout: only this fold (no file)")
    parser.add_argument("--write", action="store_true", help="train on SICK train and SNLI; writes the model")
    args = parser.parse_args()
    torch = load_torch()
    if args.heldout:
        report = heldout(torch, args.fold or range(FOLDS))
        if not args.fold:
            HELDOUT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.write:
        write(torch)


if __name__ == "__main__":
    main()
