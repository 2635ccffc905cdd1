"""Cost per claim as the window of live claims grows: 10 k, 100 k and 1 M.

Each size runs in a fresh process: fill the window with distinct claims
(founded without matching, which leaves the same state as matching them
would, in a fraction of the time), then time the stream's full clustering
path (``streams.batch``: local candidates, verification, block keys and
cross-worker merge detection) on probe items, half rewordings of live
claims and half new claims. Throughput is the median of five rounds;
memory per live claim is the resident-set growth over the fill divided by
the claims. Words follow a Zipf law over 50,000 words, as content words do.

Run: ``.venv/bin/python -m bench.window [--sizes 10000 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.synthetic import ZipfText

__all__ = ["main", "measure"]

ROUNDS = 5
ROUND_ITEMS = 600


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * 4096


def measure(size: int) -> dict[str, Any]:
    from streams.batch import BatchClusterer  # imported in the child only
    from streams.domain.clustering import ClusterConfig

    claims = ZipfText(random.Random(size))
    batch = BatchClusterer(ClusterConfig(max_live=10**9))  # the window is what is measured here
    live: list[str] = []
    gc.collect()
    before = _rss()
    fill_start = time.perf_counter()
    for i in range(size):
        text = claims.text()
        live.append(text)
        batch.add(orjson.dumps({"id": f"f{i}", "text": text, "created_at": 1.7e9 + i * 1e-3}), match=False)
    fill_s = time.perf_counter() - fill_start
    gc.collect()
    per_claim = (_rss() - before) / size
    rng = random.Random(7)
    rates = []
    n = 0
    for _ in range(ROUNDS):
        probes = []
        for _ in range(ROUND_ITEMS):
            text = claims.reword(rng.choice(live)) if rng.random() < 0.5 else claims.text()
            probes.append(orjson.dumps({"id": f"p{n}", "text": text, "created_at": 1.7e9 + size * 1e-3 + n}))
            n += 1
        start = time.perf_counter()
        for raw in batch.stage.in_batches(probes, lambda r: r):  # as the cluster agent does
            batch.add(raw)
        rates.append(ROUND_ITEMS / (time.perf_counter() - start))
    return {
        "live_claims": size,
        "items_per_s_median": round(statistics.median(rates), 1),
        "items_per_s_rounds": [round(r, 1) for r in rates],
        "bytes_per_live_claim": round(per_claim),
        "fill_s": round(fill_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "window.json")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.stdout.write(json.dumps(measure(args.child)) + "\n")
        return 0
    results = []
    for size in args.sizes:
        done = subprocess.run(
            [sys.executable, "-m", "bench.window", "--child", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(row)
        print(json.dumps(row), flush=True)
    base = results[0]["items_per_s_median"]
    report = {
        "sizes": results,
        "ratio_to_smallest": {r["live_claims"]: round(r["items_per_s_median"] / base, 3) for r in results},
        "command": ".venv/bin/python -m bench.window --sizes " + " ".join(map(str, args.sizes)),
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report["ratio_to_smallest"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
