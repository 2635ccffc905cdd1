"""Readers of the shared evaluation data (``../shared/data``), never copied into the repo.

Each reader returns plain tuples, so training, evaluation and tests share one
reading of each format. ``SharedDataMissing`` says which file is absent.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from connectors.sources.datasets import crisislext26_tweets as dataset_tweets
from connectors.sources.datasets import snowflake_ts

__all__ = [
    "SHARED",
    "LabelledPair",
    "Pair",
    "RumourPost",
    "SharedDataMissing",
    "crisislext26_tweets",
    "emergent_pairs",
    "mstream_titles",
    "pit2015_pairs",
    "require",
    "rumoureval_posts",
    "sick_pairs",
    "snli_pairs",
    "snowflake_ts",
    "url_corpus_pairs",
]

SHARED = Path(
    os.environ.get("CORROBORATE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


class SharedDataMissing(FileNotFoundError):
    """A shared data file is absent: evaluation of that part is skipped, not failed."""


def require(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        raise SharedDataMissing(f"{path} is absent; set CORROBORATE_SHARED_DATA to the shared data folder")
    return path


@dataclass(frozen=True, slots=True)
class Pair:
    group: str
    """Pairs of one group (PIT topic, URL-corpus headline) go to one fold together."""
    a: str
    b: str
    same: bool


def pit2015_pairs(split: str = "dev") -> list[Pair]:
    """PIT-2015: paraphrase when 3 or more of 5 voted yes, not when 1 or fewer; 2 is left out."""
    out = []
    for line in require("pit2015", f"{split}.data").read_text("utf-8").splitlines():
        f = line.split("\t")
        pos, _neg = map(int, re.findall(r"\d+", f[4]))
        if pos != 2:
            out.append(Pair(f[0], f[2], f[3], pos >= 3))
    return out


def url_corpus_pairs(split: str = "train") -> list[Pair]:
    """Twitter URL corpus: headline (a) vs tweet (b); ``sim.txt`` 1 = paraphrase."""
    folder = require("twitter-url-corpus", split)
    a = (folder / "a.toks").read_text("utf-8").splitlines()
    b = (folder / "b.toks").read_text("utf-8").splitlines()
    sim = (folder / "sim.txt").read_text("utf-8").split()
    return [Pair(x, x, y, s == "1") for x, y, s in zip(a, b, sim, strict=True)]


def mstream_titles(name: str = "News-T") -> list[tuple[str, str, int]]:
    """(id, text, story cluster) in file order (time order for ``News-T``)."""
    rows = []
    for line in require("mstream", name).read_text("utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows.append((str(d["Id"]), str(d["textCleaned"]), int(d["clusterNo"])))
    return rows


def crisislext26_tweets() -> Iterator[tuple[str, str, str, float]]:
    """(tweet id, text, event, created_at) for every labelled tweet of every event (the replay's reader)."""
    for t in dataset_tweets(require("crisislext26")):
        yield t.id, t.text, t.event, t.created_at


@dataclass(frozen=True, slots=True)
class RumourPost:
    """One RumourEval 2019 post with its thread's source text as the stance target."""

    split: str
    platform: str
    event: str
    thread_id: str
    post_id: str
    parent_id: str | None
    is_source: bool
    created_at: str
    author: str
    text: str
    target: str
    stance: str
    veracity: str


def rumoureval_posts() -> list[RumourPost]:
    """Posts of the train and dev threads, in file order; a source post's target is itself."""
    rows = [
        json.loads(line) for line in require("rumoureval2019", "posts.train-dev.jsonl").open(encoding="utf-8")
    ]
    sources = {r["thread_id"]: r["text"] for r in rows if r["is_source"]}
    return [
        RumourPost(
            split=r["split"],
            platform=r["platform"],
            event=r["event"] or f"reddit:{r['thread_id']}",
            thread_id=r["thread_id"],
            post_id=str(r["post_id"]),
            parent_id=None if r["parent_id"] is None else str(r["parent_id"]),
            is_source=bool(r["is_source"]),
            created_at=r["created_at"],
            author=r["author"] or "",
            text=r["text"] or "",
            target=sources.get(r["thread_id"], r["text"] or ""),
            stance=r["stance"],
            veracity=r["thread_veracity"],
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class LabelledPair:
    group: str
    """Pairs of one group (Emergent claim, SICK/SNLI premise) go to one fold together."""
    target: str
    text: str
    label: str


_EMERGENT_STANCE = {"for": "support", "against": "deny", "observing": "comment"}


def emergent_pairs() -> list[LabelledPair]:
    """Claim vs headline; for/against/observing read as support/deny/comment."""
    with require("emergent", "emergent.dev.csv").open(encoding="utf-8", newline="") as fh:
        return [
            LabelledPair(
                r["claimId"],
                r["claimHeadline"],
                r["articleHeadline"],
                _EMERGENT_STANCE[r["articleHeadlineStance"]],
            )
            for r in csv.DictReader(fh)
        ]


def sick_pairs(split: str = "train") -> list[LabelledPair]:
    """SICK sentence pairs labelled ENTAILMENT / NEUTRAL / CONTRADICTION."""
    name = {"train": "SICK_train.txt", "trial": "SICK_trial.txt"}[split]
    with require("sick", name).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        return [
            LabelledPair(r["sentence_A"], r["sentence_A"], r["sentence_B"], r["entailment_judgment"])
            for r in reader
        ]


def snli_pairs() -> list[LabelledPair]:
    """SNLI pairs with a gold label (no-majority pairs left out), labels upper-cased."""
    out = []
    for line in require("snli-subset", "snli_1.0_dev.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        if r["gold_label"] != "-":
            out.append(LabelledPair(r["captionID"], r["sentence1"], r["sentence2"], r["gold_label"].upper()))
    return out
