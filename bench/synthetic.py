"""Synthetic claim streams for benchmarks: many claims, each told by several accounts.

Each claim is a random sentence of Zipf-distributed words; half of its posts
drop one word and swap two, so the matcher has real work, and one post in five
is a retweet.
A claim gains an alert each time a new independent account repeats it, which
gives the latency benchmark plenty of alert samples.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import orjson

__all__ = ["ZipfText", "synthetic_items"]

VOCABULARY = 50_000


class ZipfText:
    """Texts of 8 to 14 words drawn by a Zipf law over ``VOCABULARY`` words, as content words are."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocab = [f"w{i}" for i in range(VOCABULARY)]
        self.cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(VOCABULARY)))

    def text(self) -> str:
        return " ".join(self.rng.choices(self.vocab, cum_weights=self.cum, k=self.rng.randint(8, 14)))

    def reword(self, text: str) -> str:
        """Drop one word and swap two neighbours: a rewording that keeps the claim."""
        words = text.split()
        words.pop(self.rng.randrange(len(words)))
        i = self.rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)


def synthetic_items(n: int, *, claims: int = 2000, seed: int = 7) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    texts = ZipfText(rng)
    sentences = [texts.text() for _ in range(claims)]
    first_post: dict[int, tuple[str, str]] = {}  # claim -> (item id, author) of its first post
    for i in range(n):
        c = rng.randrange(claims)
        base = sentences[c]
        item_id = f"syn:{i}"
        author = f"acct{rng.randrange(50_000)}"
        retweet = first_post.get(c) if rng.random() < 0.2 else None
        first_post.setdefault(c, (item_id, author))
        obj = {
            "id": item_id,
            "platform": "twitter",
            "author": author,
            "text": f"RT @{retweet[1]}: {base}"
            if retweet
            else (texts.reword(base) if rng.random() < 0.5 else base),
            "created_at": 1_700_000_000 + i * 0.01,
            "lang": "en",
            "retweet_of": retweet[0] if retweet else None,
        }
        yield item_id, orjson.dumps(obj)
