"""Batch commands over JSON lines: ``match-pairs``, ``cluster``, ``stance`` and ``alerts``.

Why they exist: analysts back-test on archives, and evaluation checks the
matcher and the clusterer on held-out data; both need the stream's exact
decisions, one output line per input line, in order. A bad line gives an
``error`` line in its place (so output lines still align with input lines)
and a non-zero exit status at the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO

import orjson

from corroborate.config import Settings
from streams.batch import BatchClusterer, BatchCorroborator, BatchResult
from streams.domain.matching import SimilarityScorer
from streams.domain.normalise import load_aliases, normalise
from streams.domain.pair_features import Signature
from streams.domain.registry import load_registry
from streams.stages import ClusterStage

__all__ = ["alert_items", "cluster_items", "match_pairs", "stance_lines"]


def _error_line(out: IO[bytes], lineno: int, message: str, **extra: object) -> None:
    out.write(orjson.dumps({**extra, "error": f"line {lineno}: {message}"}) + b"\n")


def _text_pairs(
    src: IO[bytes], out: IO[bytes], names: tuple[str, str], blank: dict[str, object], errors: list[int]
) -> Iterator[tuple[str, str]]:
    """The two named strings of each JSON line; a bad line gets its error line (``blank`` fields null)."""
    for lineno, line in enumerate(src, 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
            a, b = obj[names[0]], obj[names[1]]
            if not isinstance(a, str) or not isinstance(b, str):
                raise TypeError(f"{names[0]} and {names[1]} must be strings")
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            errors.append(lineno)
            shape = ", ".join(f"'{n}': text" for n in names)
            _error_line(out, lineno, f"expected {{{shape}}}: {exc}", **blank)
            continue
        yield a, b


def match_pairs(settings: Settings, src: IO[bytes], out: IO[bytes]) -> int:
    """``{"a": TEXT, "b": TEXT}`` in, ``{"same": BOOL, "score": FLOAT}`` out, a line each."""
    scorer = SimilarityScorer(settings.match_config())
    aliases = load_aliases(settings.aliases_path)
    threshold = scorer.config.threshold
    errors: list[int] = []
    for a, b in _text_pairs(src, out, ("a", "b"), {"same": None, "score": None}, errors):
        score = scorer.score(Signature.of(normalise(a, aliases)), Signature.of(normalise(b, aliases)))
        out.write(orjson.dumps({"same": score >= threshold, "score": round(score, 4)}) + b"\n")
    out.flush()
    return 1 if errors else 0


def _item_lines(src: IO[bytes], stage: ClusterStage) -> Iterator[tuple[int, bytes]]:
    """Numbered non-blank lines, a batch at a time with their claim texts encoded first,
    as the cluster agent does (a pass of the encoder per line costs several times more)."""
    lines = ((n, line.rstrip(b"\r\n")) for n, line in enumerate(src, 1) if line.strip())
    return stage.in_batches(lines, lambda numbered: numbered[1])


def cluster_items(settings: Settings, src: IO[bytes], out: IO[bytes]) -> int:
    """Items in, ``{"id": ID, "cluster": CLUSTER_ID}`` out in input order, after every merge."""
    batch = BatchClusterer(settings.cluster_config(), aliases=load_aliases(settings.aliases_path))
    results: list[BatchResult | tuple[int, str, object]] = []
    for lineno, line in _item_lines(src, batch.stage):
        got = batch.add(line)
        if isinstance(got, BatchResult):
            results.append(got)
        else:
            item_id: object = None
            with contextlib.suppress(orjson.JSONDecodeError, AttributeError):
                item_id = orjson.loads(line).get("id")
            results.append((lineno, f"{got.reason}: {got.detail}", item_id))
    errors = 0
    for r in results:
        if isinstance(r, BatchResult):
            out.write(orjson.dumps({"id": r.item_id, "cluster": batch.final(r.cluster_id)}) + b"\n")
        else:
            errors += 1
            _error_line(out, r[0], r[1], id=r[2], cluster=None)
    out.flush()
    return 1 if errors else 0


def stance_lines(settings: Settings, src: IO[bytes], out: IO[bytes]) -> int:
    """``{"target": CLAIM, "text": POST}`` in, ``{"stance": ..., "score": FLOAT, "cue": ...}`` out."""
    model = settings.stance_model()
    errors: list[int] = []
    for target, text in _text_pairs(src, out, ("target", "text"), {"stance": None, "score": None}, errors):
        result = model.classify(target, text)
        out.write(
            orjson.dumps({"stance": result.stance.value, "score": result.score, "cue": result.cue}) + b"\n"
        )
    out.flush()
    return 1 if errors else 0


def alert_items(settings: Settings, src: IO[bytes], out: IO[bytes]) -> int:
    """Items in, in that order; every alert the stream would raise out, as the alerts topic has them."""
    batch = BatchCorroborator(
        load_registry(settings.sources_path),
        settings.policy_book(),
        settings.cluster_config(),
        aliases=load_aliases(settings.aliases_path),
        stance_model=settings.stance_model(),
    )
    errors = 0
    for lineno, line in _item_lines(src, batch.clusters.stage):
        got = batch.add(line)
        if isinstance(got, list):
            for alert in got:
                out.write(alert.to_json() + b"\n")
        else:
            errors += 1
            _error_line(out, lineno, f"{got.reason}: {got.detail}")
    out.flush()
    return 1 if errors else 0
