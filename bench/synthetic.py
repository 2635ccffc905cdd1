"""Synthetic claim streams for benchmarks: many claims, each told by several accounts.

Each claim is a random sentence of Zipf-distributed words; half of its posts
drop one word and swap two, so the matcher has real work, and one post in five
is a retweet.

The words are English words, taken from the sentence encoder's vocabulary in
its order (roughly by frequency). Why not made-up tokens: "w12 w4711 w9" and
"w3 w1840 w77" look alike to the encoder (two distinct claims got a match
score of 0.6 on average, and 13 pairs in 150 passed the merge bar; English
sentences at most 0.03), and the stream merged most of the claims into a few
giant clusters. Negation, denial, question and hedge words are left out, so that
random sentences do not contradict each other by chance. Without the
encoder installed, the made-up words are used (the lexical model has no such
trouble with them).

A claim gains an alert each time a new independent account repeats it, which
gives the latency benchmark plenty of alert samples.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from functools import lru_cache

import orjson

from streams.domain.cues import asks, denies, hedges
from streams.domain.encoder import model_vocabulary
from streams.errors import ModelError

__all__ = ["ZipfText", "synthetic_items", "words"]

VOCABULARY = 50_000


#: Words that would make two random sentences contradict (``streams.domain.contradiction``).
_CUE_WORDS = frozenset(
    "not no never nor none nothing nobody neither without cannot dont didnt isnt wasnt "
    "aren arent won wont lost dead alive rise fall fell false fake true".split()
)


@lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    """Up to ``VOCABULARY`` English words, most frequent first (see the module's docstring)."""
    try:
        vocab = model_vocabulary()
    except ModelError:
        return tuple(f"w{i}" for i in range(VOCABULARY))
    # BERT's vocabulary: special and unused tokens, single characters, then whole words.
    start = vocab.index("the") if "the" in vocab else 0
    kept = (
        w
        for w in vocab[start:]
        if w.isascii()
        and w.isalpha()
        and len(w) >= 3
        and w not in _CUE_WORDS
        and not (denies(w) or asks(w) or hedges(w))
    )
    return tuple(itertools.islice(kept, VOCABULARY))


class ZipfText:
    """Texts of 8 to 14 words drawn by a Zipf law over ``words()``, as content words are."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocab = list(words())
        self.cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(self.vocab))))

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
