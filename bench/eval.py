"""``make eval``: quality of matching and clustering on the shared data, as a table.

Pair matching: five folds split by group (PIT topic, URL-corpus headline),
the model refitted on four and scored on the fifth, so every figure is held
out; precision, recall and F1 at the matcher's pair threshold and at the
clusterer's stricter join threshold. Clustering: the stream's clustering
(``streams.batch``, the same objects the agents run) over MStream News-T in
its time order, scored by B-cubed precision/recall against the story
clusters, and over all of CrisisLexT26 in tweet-time order, where no cluster
may mix two crisis events. Parts whose data is absent are reported as
skipped. Writes ``bench/eval.json`` beside the printed table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from bench.datasets import (
    SharedDataMissing,
    crisislext26_tweets,
    mstream_titles,
    pit2015_pairs,
    url_corpus_pairs,
)
from bench.train_matcher import cross_validate, examples, prf
from streams.batch import BatchClusterer, BatchResult
from streams.domain.clustering import ClusterConfig
from streams.domain.matching import MatchConfig

__all__ = ["bcubed", "cluster_stream", "main"]

REPORT = Path(__file__).resolve().parent / "eval.json"


def bcubed(pred: Sequence[str], gold: Sequence[object]) -> tuple[float, float]:
    """B-cubed precision and recall of a predicted clustering against gold labels."""
    by_pred: dict[str, list[int]] = defaultdict(list)
    by_gold: dict[object, list[int]] = defaultdict(list)
    for i, (p, g) in enumerate(zip(pred, gold, strict=True)):
        by_pred[p].append(i)
        by_gold[g].append(i)
    pair: Counter[tuple[str, object]] = Counter(zip(pred, gold, strict=True))
    n = len(pred)
    precision = sum(pair[(pred[i], gold[i])] / len(by_pred[pred[i]]) for i in range(n)) / n
    recall = sum(pair[(pred[i], gold[i])] / len(by_gold[gold[i]]) for i in range(n)) / n
    return precision, recall


def cluster_stream(
    rows: Iterable[tuple[str, str, float]], config: ClusterConfig
) -> tuple[list[str], float, int]:
    """(final cluster per row, seconds, merges) for rows of (id, text, created_at) in order."""
    batch = BatchClusterer(config)
    joined: list[str] = []
    start = time.perf_counter()
    for item_id, text, ts in rows:
        got = batch.add(orjson.dumps({"id": item_id, "text": text, "created_at": ts}))
        joined.append(got.cluster_id if isinstance(got, BatchResult) else f"dead:{item_id}")
    seconds = time.perf_counter() - start
    return [batch.final(c) for c in joined], seconds, batch.merges


def _pairs_part(report: dict[str, Any], join: float) -> None:
    try:
        pit, url = examples(pit2015_pairs()), examples(url_corpus_pairs())
    except SharedDataMissing as exc:
        report["pairs"] = {"skipped": str(exc)}
        return
    held_pit, held_url = cross_validate(pit, url)
    pair_t = MatchConfig().threshold
    out: dict[str, Any] = {}
    for name, held in (("pit2015_dev", held_pit), ("url_corpus_train", held_url)):
        for label, t in (("pair", pair_t), ("join", join)):
            p, r, f = prf(held, t)
            out[f"{name}@{label}"] = {
                "threshold": t,
                "precision": p,
                "recall": r,
                "f1": f,
                "pairs": len(held),
            }
    report["pairs"] = out


def _mstream_part(report: dict[str, Any], config: ClusterConfig) -> None:
    try:
        rows = mstream_titles("News-T")
    except SharedDataMissing as exc:
        report["mstream"] = {"skipped": str(exc)}
        return
    pred, seconds, merges = cluster_stream(((i, t, float(n)) for n, (i, t, _) in enumerate(rows)), config)
    p, r = bcubed(pred, [g for _, _, g in rows])
    report["mstream"] = {
        "items": len(rows),
        "stories": len({g for _, _, g in rows}),
        "clusters": len(set(pred)),
        "bcubed_precision": p,
        "bcubed_recall": r,
        "bcubed_f1": 2 * p * r / (p + r),
        "merges": merges,
        "items_per_s": len(rows) / seconds,
    }


def _crisis_part(report: dict[str, Any], config: ClusterConfig) -> None:
    try:
        tweets = sorted(crisislext26_tweets(), key=lambda t: (t[3], t[0]))
    except SharedDataMissing as exc:
        report["crisislext26"] = {"skipped": str(exc)}
        return
    pred, seconds, merges = cluster_stream(((i, text, ts) for i, text, _, ts in tweets), config)
    events = [e for _, _, e, _ in tweets]
    members: dict[str, set[str]] = defaultdict(set)
    sizes: Counter[str] = Counter(pred)
    for c, e in zip(pred, events, strict=True):
        members[c].add(e)
    mixed = [c for c, evs in members.items() if len(evs) > 1]
    majority: dict[str, Counter[str]] = defaultdict(Counter)
    mixed_set = set(mixed)
    for c, e in zip(pred, events, strict=True):
        if c in mixed_set:
            majority[c][e] += 1
    minority = sum(sum(cnt.values()) - max(cnt.values()) for cnt in majority.values())
    p, _ = bcubed(pred, events)
    report["crisislext26"] = {
        "items": len(tweets),
        "events": len(set(events)),
        "clusters": len(sizes),
        "clusters_of_2_or_more": sum(1 for s in sizes.values() if s > 1),
        "items_in_clusters_of_2_or_more": sum(s for s in sizes.values() if s > 1),
        "clusters_mixing_events": len(mixed),
        "items_in_mixed_clusters": sum(sizes[c] for c in mixed),
        "items_not_of_their_clusters_event": minority,
        "mixed_examples": [sorted(members[c]) for c in mixed[:5]],
        "bcubed_precision_vs_event": p,
        "merges": merges,
        "items_per_s": len(tweets) / seconds,
    }


def _print(report: dict[str, Any]) -> None:
    print("| part | measure | value |")
    print("|---|---|---|")
    for part, values in report.items():
        if part == "commands":
            continue
        for key, value in values.items():
            if isinstance(value, dict):
                shown = ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items()
                )
            elif isinstance(value, float):
                shown = f"{value:.3f}"
            else:
                shown = str(value)
            print(f"| {part} | {key} | {shown} |")
    print("\ncommands:", *report["commands"], sep="\n  ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["pairs", "mstream", "crisislext26"], action="append")
    args = parser.parse_args(argv)
    parts = args.only or ["pairs", "mstream", "crisislext26"]
    config = ClusterConfig()
    report: dict[str, Any] = {}
    if "pairs" in parts:
        _pairs_part(report, config.join_threshold)
    if "mstream" in parts:
        _mstream_part(report, config)
    if "crisislext26" in parts:
        _crisis_part(report, config)
    report["commands"] = [
        " ".join([".venv/bin/python -m bench.eval", *(sys.argv[1:] if argv is None else argv)]),
        ".venv/bin/python -m bench.train_matcher   # the held-out folds and the shipped model",
    ]
    REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    _print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
