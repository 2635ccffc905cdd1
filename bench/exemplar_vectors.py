"""Encoder passes per post when the live clusters outnumber the encoder's cache.

A flood of new claims (each post founds its cluster, ``bench.synthetic.ZipfText``)
runs through the stream's clustering path (``streams.batch``, batches prefetched as
the cluster agent does) with the sentence encoder on, twice in one process: with
the exemplars keeping their vectors (``streams.domain.vectors``) and, as the
baseline, without (the code before: a candidate whose vector had left the
encoder's cache went through the network again). The encoder's cache is
shrunk to ``--cache`` texts so that a few thousand posts show what a window of
200,000 live claims against a 20,000-text cache does. Reported: encoder passes
per post (a count, not a timing) and posts per second, per segment, and their
ratios to the baseline.

Run: ``.venv/bin/python -m bench.exemplar_vectors [--posts 6000 --cache 1000]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any

import orjson

from bench.synthetic import ZipfText

__all__ = ["main", "measure"]


class _KeepsNothing:
    """The baseline: exemplars keep no vector."""

    def keep(self, text: str, vector: object = None) -> None: ...

    def release(self, text: str) -> None: ...

    def fill(self, text: str, vector: object) -> None: ...

    def get(self, text: str) -> None:
        return None


def measure(posts: int, cache: int, *, keep: bool, segment: int = 1000) -> dict[str, Any]:
    from streams.batch import BatchClusterer
    from streams.domain.clustering import ClusterConfig
    from streams.domain.encoder import load_encoder
    from streams.domain.matching import MatchConfig

    encoder = load_encoder(cache_size=cache)
    batch = BatchClusterer(ClusterConfig(match=MatchConfig(encoder=encoder)))
    if not keep:
        batch.stage.clusterer._vectors = _KeepsNothing()  # type: ignore[assignment]
    text = ZipfText(random.Random(posts))
    raws = [orjson.dumps({"id": f"n{i}", "text": text.text(), "created_at": 1.7e9 + i}) for i in range(posts)]
    passes, rates = [], []
    for start in range(0, posts, segment):
        chunk = raws[start : start + segment]
        encoded, t0 = encoder.encoded, time.perf_counter()
        for raw in batch.stage.in_batches(chunk, lambda r: r):
            batch.add(raw)
        rates.append(len(chunk) / (time.perf_counter() - t0))
        passes.append((encoder.encoded - encoded) / len(chunk))
    return {
        "keep_vectors": keep,
        "live_clusters_at_end": len(batch.stage.clusterer),
        "encoder_passes_per_post_by_segment": [round(p, 2) for p in passes],
        "posts_per_s_by_segment": [round(r, 1) for r in rates],
        # The last half: the window well past the cache, as a long-running worker is.
        "encoder_passes_per_post_late": round(statistics.median(passes[len(passes) // 2 :]), 2),
        "posts_per_s_late_median": round(statistics.median(rates[len(rates) // 2 :]), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=6000)
    parser.add_argument("--cache", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("vectors.json"))
    args = parser.parse_args(argv)
    baseline = measure(args.posts, args.cache, keep=False)
    kept = measure(args.posts, args.cache, keep=True)
    report = {
        "command": "python -m bench.exemplar_vectors",
        "posts": args.posts,
        "encoder_cache": args.cache,
        "baseline_without_kept_vectors": baseline,
        "with_kept_vectors": kept,
        "passes_ratio_late": round(
            kept["encoder_passes_per_post_late"] / max(baseline["encoder_passes_per_post_late"], 1e-9), 3
        ),
        "speed_ratio_late": round(kept["posts_per_s_late_median"] / baseline["posts_per_s_late_median"], 2),
    }
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
