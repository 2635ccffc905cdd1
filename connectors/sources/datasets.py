"""The public data sets' own formats as items, for replays and back-tests.

CrisisLexT26 (``<event>/<event>-tweets_labeled.csv``: tweet id, text and
labels) and RumourEval 2019 (``posts.train-dev.jsonl``: threads of source
posts and replies). Labels are never copied onto the items: a replay is what
the stream would have seen, and an evaluation that let labels through would
measure nothing. Items come out in time order, as a stream would see them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from connectors.errors import SourceError
from streams.records import Item, parse_ts

__all__ = ["CrisisTweet", "crisislext26_items", "crisislext26_tweets", "rumoureval_items", "snowflake_ts"]


def snowflake_ts(tweet_id: str) -> float:
    """Creation time (epoch seconds) encoded in a Twitter snowflake id (ids after Nov 2010)."""
    return ((int(tweet_id) >> 22) + 1288834974657) / 1000.0


@dataclass(frozen=True, slots=True)
class CrisisTweet:
    id: str
    text: str
    event: str
    created_at: float


def _crisis_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise SourceError(f"no CrisisLexT26 data at {root}: give the folder, one event's folder or one CSV")
    files = sorted(root.glob("*-tweets_labeled.csv")) or sorted(root.glob("*/*-tweets_labeled.csv"))
    if not files:
        raise SourceError(f"{root} holds no *-tweets_labeled.csv file")
    return files


def crisislext26_tweets(root: Path) -> Iterator[CrisisTweet]:
    """Every labelled tweet under ``root`` (the data set, one event, or one file), file by file.

    One event's file has its ids in spreadsheet notation ("2.1104070912444E+017"):
    the time in the id survives the rounding (to well under a second), the id
    does not, so those tweets get ``event:row`` ids.
    """
    for path in _crisis_files(root):
        event = path.parent.name
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for n, row in enumerate(reader):
                if len(row) < 2:
                    continue
                raw = row[0].strip().strip('"')
                if raw.isdigit():
                    yield CrisisTweet(raw, row[1], event, snowflake_ts(raw))
                    continue
                try:
                    approx = int(float(raw))
                except ValueError:
                    continue
                yield CrisisTweet(f"{event}:{n}", row[1], event, snowflake_ts(str(approx)))


def crisislext26_items(root: Path) -> list[Item]:
    tweets = sorted(crisislext26_tweets(root), key=lambda t: (t.created_at, t.id))
    return [
        Item(id=f"tw:{t.id}", text=t.text, created_at=t.created_at, platform="twitter", lang="en")
        for t in tweets
    ]


def rumoureval_items(path: Path) -> list[Item]:
    """Source posts and replies of every thread, replies linked to their parents, in time order.

    Deleted Reddit posts (no time, no text) are left out: the stream never saw them.
    """
    if path.is_dir():
        path = path / "posts.train-dev.jsonl"
    try:
        rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read RumourEval posts from {path}: {exc}") from exc
    prefix = {"twitter": "tw", "reddit": "reddit"}
    items = []
    for r in rows:
        if not r.get("created_at") or r.get("text") is None:
            continue
        pre = prefix.get(r.get("platform"), str(r.get("platform")))
        parent = r.get("parent_id")
        items.append(
            Item(
                id=f"{pre}:{r['post_id']}",
                text=r.get("text") or "",
                created_at=parse_ts(r["created_at"], "created_at"),
                platform=str(r.get("platform") or "unknown"),
                author=r.get("author") or "",
                reply_to=None if parent is None else f"{pre}:{parent}",
                extra={"thread": str(r.get("thread_id"))},
            )
        )
    return sorted(items, key=lambda i: i.created_at)
