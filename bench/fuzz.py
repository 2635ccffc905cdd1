"""``make fuzz``: coverage-guided fuzzing (atheris, libFuzzer) of the code that meets outside input.

Targets: ``item`` (raw bytes through decode, normalise, split and cluster, as
the cluster agent sees a record), ``ingest`` (a POST /items body through the
JSON/NDJSON parser and the item validator), ``feed`` (a fetched document
through feedparser/JSON Feed and the entry mapping), ``stream`` (bytes through
the line splitter, the SSE parser, and the X and Mastodon payload mappers).
Each target may only return or raise the package's own documented errors;
anything else is a crash, which libFuzzer reports with the input that caused
it. Every target runs in its own process for ``--seconds``; the report counts
the inputs tried and the crashes (``bench/fuzz.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("item", "ingest", "feed", "stream")


def _target(name: str) -> Any:
    import atheris

    with atheris.instrument_imports(include=["streams", "connectors"]):
        import orjson

        from connectors.sources.feed_mapping import FeedError, entry_item, parse_feed
        from connectors.sources.ingest import IngestServer
        from connectors.sources.mastodon_mapping import MastodonPayloadError, status_items
        from connectors.sources.sse import EventParser
        from connectors.sources.x_mapping import XPayloadError, tweet_items
        from streams.errors import InvalidItem
        from streams.stages import ClusterOutput, ClusterStage, DeadLetter

    state: dict[str, Any] = {"stage": ClusterStage(), "n": 0}

    def item(data: bytes) -> None:
        state["n"] += 1
        if state["n"] % 5000 == 0:
            state["stage"] = ClusterStage()  # bounded memory: the stream expires clusters the same way
        out = state["stage"].process(data)
        assert isinstance(out, ClusterOutput | DeadLetter)

    def ingest(data: bytes) -> None:
        lines = IngestServer._json_lines(data)
        if not isinstance(lines, list):
            return
        for line in lines:
            if isinstance(line, bytes):
                with contextlib.suppress(InvalidItem):
                    IngestServer._item(line, "fuzz")

    def feed(data: bytes) -> None:
        try:
            doc = parse_feed(data, "application/feed+json" if data[:1] == b"{" else "")
        except FeedError:
            return
        for entry in doc.entries[:20]:
            with contextlib.suppress(FeedError):
                entry_item(entry, doc, feed_url="https://f.example/rss", outlet=None, now=0.0)

    def stream(data: bytes) -> None:
        parser = EventParser()
        for line in data.split(b"\n"):
            parser.feed(line.decode("utf-8", "replace"))
            try:
                payload = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(payload, dict):
                for mapper, errors in (
                    (tweet_items, XPayloadError),
                    (lambda p: status_items(p, "h"), MastodonPayloadError),
                ):
                    with contextlib.suppress(errors, InvalidItem):
                        mapper(payload)

    return {"item": item, "ingest": ingest, "feed": feed, "stream": stream}[name]


def _seeds(name: str, corpus: Path) -> None:
    """Real inputs to start from, so the fuzzer mutates items, feeds and stream lines, not noise."""
    from tests.connectors.sources.feed_server import Article, _atom, _json, _rss
    from tests.connectors.sources.mastodon_server import status
    from tests.connectors.sources.x_server import tweet_line

    scenario = (ROOT / "corroborate" / "scenarios" / "panjshir.jsonl").read_bytes()
    lines = [line for line in scenario.splitlines() if line.strip()]
    seeds: list[bytes]
    if name == "item":
        seeds = lines
    elif name == "ingest":
        seeds = [scenario, b"[" + b",".join(lines[:5]) + b"]", lines[0]]
    elif name == "feed":
        art = Article(
            1,
            "Taliban claim Panjshir",
            "<p>Body <a href='https://x.example/a'>x</a></p>",
            "https://w.example/1",
        )
        seeds = [render([art]) for render in (_rss, _atom, _json)]
    else:
        seeds = [
            tweet_line(3, quote_of=9),
            b"event: update\ndata: " + json.dumps(status(2, boost_of=1)).encode(),
        ]
    for n, seed in enumerate(seeds):
        (corpus / f"seed-{n}").write_bytes(seed)


def _run_one(name: str, seconds: int) -> None:
    import atheris

    fn = _target(name)
    corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    _seeds(name, corpus)
    flags = [f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-max_len=65536", str(corpus)]
    atheris.Setup([sys.argv[0], *flags], fn)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", choices=TARGETS)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "fuzz.json")
    args = parser.parse_args(argv)
    if args.target:
        _run_one(args.target, args.seconds)
        return 0
    report: dict[str, Any] = {"command": f"python -m bench.fuzz --seconds {args.seconds}", "targets": {}}
    failed = False
    for name in TARGETS:
        with tempfile.TemporaryDirectory() as work:
            done = subprocess.run(
                [sys.executable, "-m", "bench.fuzz", "--target", name, "--seconds", str(args.seconds)],
                cwd=work,
                capture_output=True,
                text=True,
                env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
            )
        runs = re.findall(r"Done (\d+) runs in (\d+) second", done.stderr)
        crashed = done.returncode != 0
        failed |= crashed
        report["targets"][name] = {
            "inputs": int(runs[-1][0]) if runs else None,
            "seconds": int(runs[-1][1]) if runs else None,
            "crashes": 1 if crashed else 0,
            "exit": done.returncode,
            **({"tail": done.stderr[-3000:]} if crashed else {}),
        }
        print(f"{name:8s} {report['targets'][name]}", flush=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
