"""Synthetic claim streams for benchmarks: many claims, each told by several accounts.

Each claim is a random sentence from a word pool; each of its posts drops or
swaps a word so the matcher has real work, and one post in five is a retweet.
A claim gains an alert each time a new independent account repeats it, which
gives the latency benchmark plenty of alert samples.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import orjson

__all__ = ["synthetic_items"]

_POOL = [
    "army",
    "rebels",
    "city",
    "bridge",
    "airport",
    "port",
    "convoy",
    "hospital",
    "school",
    "dam",
    "power",
    "plant",
    "border",
    "village",
    "capital",
    "province",
    "valley",
    "district",
    "market",
    "station",
    "embassy",
    "ministry",
    "parliament",
    "refinery",
    "mine",
    "attack",
    "seized",
    "shelled",
    "bombed",
    "evacuated",
    "flooded",
    "burned",
    "blocked",
    "captured",
    "destroyed",
    "surrounded",
    "north",
    "south",
    "east",
    "west",
    "central",
    "coastal",
    "mountain",
    "river",
    "highway",
    "railway",
    "northern",
    "southern",
]


def synthetic_items(n: int, *, claims: int = 2000, seed: int = 7) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    sentences = [[*rng.sample(_POOL, 9), f"n{c}x"] for c in range(claims)]
    for i in range(n):
        c = rng.randrange(claims)
        words = list(sentences[c])
        if rng.random() < 0.5:
            words.pop(rng.randrange(len(words) - 1))
        item_id = f"syn:{i}"
        obj = {
            "id": item_id,
            "platform": "twitter",
            "author": f"acct{rng.randrange(50_000)}",
            "text": " ".join(words),
            "created_at": 1_700_000_000 + i * 0.01,
            "lang": "en",
            "retweet_of": f"syn:{i - 1}" if i and rng.random() < 0.2 else None,
        }
        yield item_id, orjson.dumps(obj)
