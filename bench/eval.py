"""``make eval``: quality of matching and clustering on the shared data, as a table.

Pair matching: five folds split by group (PIT topic, URL-corpus headline), the
model refitted on four and scored on the fifth, so every figure is held out;
precision, recall and F1 at the matcher's pair threshold and at the
clusterer's stricter join threshold. The encoder's opt-in adapter was trained
on every one of these pairs, so its figures (``pairs_adapted``) are those of
adapters trained per fold (``bench/adapter_heldout.json``, written by
``bench/train_encoder_adapter.py --heldout``, which needs PyTorch).
Clustering: the stream's clustering (``streams.batch``, the same objects the
agents run) over MStream News-T in its time order, scored by B-cubed
precision/recall against the story clusters, and over all of CrisisLexT26 in
tweet-time order, where no cluster may mix two crisis events. Stance: held-out
figures of the stance model on RumourEval 2019 and Emergent
(``bench.train_stance``). Contradiction: the cue detector on SICK and SNLI
(nothing of it is fitted, so all is held out), and the detector with the learnt
entailment model behind the cues, as the stream runs it when it is turned on (held-out figures for SICK
trial and, from ``bench/entailment_heldout.json``, for SNLI). Threads: each RumourEval thread
replayed as a stream (source post, then replies in time order) through the
whole corroboration, its source claim's final state set against the thread's
veracity label. Parts whose data is absent are reported as skipped. Writes
``bench/eval.json`` beside the printed table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from bench import train_stance
from bench.datasets import (
    LabelledPair,
    RumourPost,
    SharedDataMissing,
    crisislext26_tweets,
    emergent_pairs,
    mstream_titles,
    pit2015_pairs,
    rumoureval_posts,
    sick_pairs,
    snli_pairs,
    url_corpus_pairs,
)
from bench.train_entailment import HELDOUT as ENTAILMENT_HELDOUT
from bench.train_matcher import ADAPTER_HELDOUT, Scored, cross_validate, examples, prf
from streams.batch import BatchClusterer, BatchCorroborator, BatchResult
from streams.domain.clustering import ClusterConfig
from streams.domain.contradiction import Judge, contradiction
from streams.domain.entailment import load_entailment_model
from streams.domain.matching import MatchConfig, claim_similarity
from streams.domain.normalise import normalise
from streams.domain.policy import PolicyConfig
from streams.domain.registry import load_registry
from streams.domain.stance import Stance, classify_stance
from streams.stages import contradiction_links

__all__ = ["bcubed", "cluster_stream", "main"]

REPORT = Path(__file__).resolve().parent / "eval.json"


def bcubed(pred: Sequence[str], gold: Sequence[object]) -> tuple[float, float]:
    """B-cubed precision and recall of a predicted clustering against gold labels."""
    by_pred: dict[str, list[int]] = defaultdict(list)
    by_gold: dict[object, list[int]] = defaultdict(list)
    for i, (p, g) in enumerate(zip(pred, gold, strict=True)):
        by_pred[p].append(i)
        by_gold[g].append(i)
    pair: Counter[tuple[str, object]] = Counter(zip(pred, gold, strict=True))
    n = len(pred)
    precision = sum(pair[(pred[i], gold[i])] / len(by_pred[pred[i]]) for i in range(n)) / n
    recall = sum(pair[(pred[i], gold[i])] / len(by_gold[gold[i]]) for i in range(n)) / n
    return precision, recall


def cluster_stream(
    rows: Iterable[tuple[str, str, float]], config: ClusterConfig
) -> tuple[list[str], float, int]:
    """(final cluster per row, seconds, merges) for rows of (id, text, created_at) in order."""
    batch = BatchClusterer(config)
    joined: list[str] = []
    start = time.perf_counter()
    raws = ((i, orjson.dumps({"id": i, "text": text, "created_at": ts})) for i, text, ts in rows)
    for item_id, raw in batch.stage.in_batches(raws, lambda r: r[1]):
        got = batch.add(raw)
        joined.append(got.cluster_id if isinstance(got, BatchResult) else f"dead:{item_id}")
    seconds = time.perf_counter() - start
    return [batch.final(c) for c in joined], seconds, batch.merges


def _pairs_part(report: dict[str, Any], join: float) -> None:
    matcher = MatchConfig()
    if ADAPTER_HELDOUT.exists():
        # CORROBORATE_ENCODER=adapted: its adapter was trained on these pairs, so only
        # adapters trained per fold (bench/train_encoder_adapter.py --heldout) score them.
        honest = json.loads(ADAPTER_HELDOUT.read_text("utf-8"))
        report["pairs_adapted"] = {
            f"{name}@{label}": honest[key][name]
            for name in ("pit2015_dev", "url_corpus_train")
            for label, key in (("pair", "heldout"), ("join", "heldout_at_join"))
        }
        source = {"file": "bench/adapter_heldout.json", "adapter": honest["adapter"]}
        report["pairs_adapted"]["source"] = source
    try:
        pit, url = examples(pit2015_pairs()), examples(url_corpus_pairs())
    except SharedDataMissing as exc:
        report["pairs"] = {"skipped": str(exc)}
        return
    held_pit, held_url = cross_validate(pit, url)
    out: dict[str, Any] = {}
    for name, held in (("pit2015_dev", held_pit), ("url_corpus_train", held_url)):
        for label, t in (("pair", matcher.threshold), ("join", join)):
            p, r, f = prf(held, t)
            out[f"{name}@{label}"] = {
                "threshold": t,
                "precision": p,
                "recall": r,
                "f1": f,
                "pairs": len(held),
            }
    report["pairs"] = out


def _mstream_part(report: dict[str, Any], config: ClusterConfig) -> None:
    try:
        rows = mstream_titles("News-T")
    except SharedDataMissing as exc:
        report["mstream"] = {"skipped": str(exc)}
        return
    pred, seconds, merges = cluster_stream(((i, t, float(n)) for n, (i, t, _) in enumerate(rows)), config)
    p, r = bcubed(pred, [g for _, _, g in rows])
    report["mstream"] = {
        "items": len(rows),
        "stories": len({g for _, _, g in rows}),
        "clusters": len(set(pred)),
        "bcubed_precision": p,
        "bcubed_recall": r,
        "bcubed_f1": 2 * p * r / (p + r),
        "merges": merges,
        "items_per_s": len(rows) / seconds,
    }


def _crisis_part(report: dict[str, Any], config: ClusterConfig) -> None:
    try:
        rows = sorted(crisislext26_tweets(), key=lambda t: (t[3], t[0]))
    except SharedDataMissing as exc:
        report["crisislext26"] = {"skipped": str(exc)}
        return
    # A tweet filed under two events (one is) is one item with both labels.
    labels: dict[str, set[str]] = defaultdict(set)
    tweets = []
    for item_id, text, event, ts in rows:
        if item_id not in labels:
            tweets.append((item_id, text, ts))
        labels[item_id].add(event)
    pred, seconds, merges = cluster_stream(tweets, config)
    events = [labels[i] for i, _, _ in tweets]
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[str] = Counter(pred)
    for c, evs in zip(pred, events, strict=True):
        votes[c].update(evs)
    # An item is foreign to its cluster when none of its events is the cluster's main event.
    foreign = [
        (c, i)
        for c, evs, (i, _, _) in zip(pred, events, tweets, strict=True)
        if votes[c].most_common(1)[0][0] not in evs
    ]
    mixed = sorted({c for c, _ in foreign})
    p, _ = bcubed(pred, [min(e) for e in events])
    report["crisislext26"] = {
        "items": len(tweets),
        "events": len({e for evs in events for e in evs}),
        "clusters": len(sizes),
        "clusters_of_2_or_more": sum(1 for s in sizes.values() if s > 1),
        "items_in_clusters_of_2_or_more": sum(s for s in sizes.values() if s > 1),
        "clusters_mixing_events": len(mixed),
        "items_in_mixed_clusters": sum(sizes[c] for c in mixed),
        "items_not_of_their_clusters_event": len(foreign),
        "mixed_examples": [sorted(votes[c]) for c in mixed[:5]],
        "bcubed_precision_vs_event": p,
        "merges": merges,
        "items_per_s": len(tweets) / seconds,
    }


def _stance_part(report: dict[str, Any]) -> None:
    try:
        examples_ = train_stance.load_examples()
    except SharedDataMissing as exc:
        report["stance"] = {"skipped": str(exc)}
        return
    out: dict[str, Any] = {}
    for result in train_stance.evaluate(examples_, quiet=True):
        name = str(result.pop("set"))
        out[name] = result
    report["stance"] = out


def contradiction_scores(pairs: Sequence[LabelledPair], judge: Judge | None = None) -> dict[str, Any]:
    verdicts: list[Scored] = []
    cues: Counter[str] = Counter()
    for p in pairs:
        found = contradiction(p.target, p.text, judge=judge)
        if found.contradicts:
            cues[found.cue.split(":")[0]] += 1
        verdicts.append(Scored(float(found.contradicts), p.label == "CONTRADICTION"))
    return {"pairs": len(pairs), **_contradiction_prf(verdicts), "cues": dict(cues)}


def _contradiction_prf(verdicts: Sequence[Scored]) -> dict[str, float]:
    """Precision, recall and F1 of the CONTRADICTION class from yes/no verdicts."""
    precision, recall, f1 = prf(verdicts, 0.5)
    return {"precision": precision, "recall": recall, "f1": f1}


def _lookup(known: dict[tuple[str, str], float]) -> Judge:
    """The model's verdicts, computed in batches beforehand, as a judge."""
    return lambda a, b: known[(a, b)]


def _emergent_as_contradiction() -> list[LabelledPair]:
    """Emergent's claim vs headline pairs, an "against" headline read as a contradiction.

    Why: SICK and SNLI are captions; the stream judges news and posts. A headline that
    debunks a claim is the nearest labelled stand-in for a contradiction in news copy,
    and the entailment model never saw these pairs."""
    return [
        dataclasses.replace(p, label="CONTRADICTION" if p.label == "deny" else "OTHER")
        for p in emergent_pairs()
    ]


def stream_judges_against(
    pairs: Sequence[LabelledPair], config: ClusterConfig | None = None
) -> dict[str, Any]:
    """Emergent's "against" headlines found as the stream would find them, each headline
    set against its claim alone: from the join bar the headline joins the claim and its
    stance decides (deny); from the link bar a contradiction link does (``contradiction_links``,
    the weak cues from the weak-link bar); below it the two are never compared.

    Why beside the cues alone: in the stream the claim matcher, not shared words, says
    whether two texts are about one thing. An approximation of the stream (no other
    headlines in between, no cluster exemplars): the pair is scored as the stream scores
    an item against an exemplar."""
    cfg = config or ClusterConfig()
    verdicts: list[Scored] = []
    by: Counter[str] = Counter()
    for p in pairs:
        score = claim_similarity(normalise(p.target), normalise(p.text))
        found = False
        if score >= cfg.join_threshold:
            found = classify_stance(p.text, target=p.target, relevance=score).stance is Stance.DENY
            by["stance deny" if found else "joined, no deny"] += 1
        elif score >= cfg.link_threshold:
            links = contradiction_links(
                "claim", "h", p.text, [("other", "c", p.target, score)], weak_bar=cfg.weak_link_threshold
            )
            found = bool(links)
            by["link" if found else "linkable, no cue"] += 1
        else:
            by["below the link bar"] += 1
        verdicts.append(Scored(float(found), p.label == "CONTRADICTION"))
    return {"pairs": len(pairs), **_contradiction_prf(verdicts), "paths": dict(by)}


def _contradiction_part(report: dict[str, Any]) -> None:
    """The cues alone, and the detector as the stream runs it (cues, then the entailment
    model). The model was trained on SICK train and SNLI, so on those its figures are in
    sample; SICK trial and Emergent are held out, and SNLI's held-out figures come from
    per-fold models (``bench/entailment_heldout.json``)."""
    out: dict[str, Any] = {}
    model = load_entailment_model()
    for name, read in (
        ("sick_train", lambda: sick_pairs("train")),
        ("sick_trial", lambda: sick_pairs("trial")),
        ("snli_dev_subset", snli_pairs),
        ("emergent_news", _emergent_as_contradiction),
    ):
        try:
            pairs = read()
        except SharedDataMissing as exc:
            out[name] = {"skipped": str(exc)}
            continue
        out[name] = contradiction_scores(pairs)
        if name == "emergent_news":
            out[f"{name} as the stream judges it (matcher, stance, links; held out)"] = stream_judges_against(
                pairs
            )
        verdicts = model.judge_many([(p.target, p.text) for p in pairs])
        known = {(p.target, p.text): v.contradiction for p, v in zip(pairs, verdicts, strict=True)}
        seen = "held out" if name in {"sick_trial", "emergent_news"} else "in sample"
        out[f"{name} with model ({seen})"] = contradiction_scores(pairs, _lookup(known))
    if ENTAILMENT_HELDOUT.exists():
        held = json.loads(ENTAILMENT_HELDOUT.read_text("utf-8"))["snli_heldout"]
        out["snli_dev_subset with model (held out: per-fold models)"] = held["detector"]
    report["contradiction"] = out


def thread_items(posts: Sequence[RumourPost]) -> list[bytes]:
    """One thread's posts as items: the source first, then replies by time.

    A post without a time (a few Reddit replies) takes its thread's source time.
    """
    first = min((p.created_at for p in posts if p.created_at), default="2015-01-01T00:00:00+00:00")
    ordered = sorted(posts, key=lambda p: (not p.is_source, p.created_at or first, p.post_id))
    return [
        orjson.dumps(
            {
                "id": f"{p.platform}:{p.post_id}",
                "text": p.text or "(empty)",
                "created_at": p.created_at or first,
                "author": p.author or f"anon:{p.post_id}",
                "platform": p.platform,
                "reply_to": None if p.parent_id is None else f"{p.platform}:{p.parent_id}",
            }
        )
        for p in ordered
    ]


def replay_threads(
    posts: Sequence[RumourPost], policy: PolicyConfig | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(thread -> final state of its source post's claim, thread -> veracity), each thread a stream."""
    threads: dict[str, list[RumourPost]] = defaultdict(list)
    for p in posts:
        threads[p.thread_id].append(p)
    registry = load_registry(None)
    states, veracity = {}, {}
    for thread_id, members in sorted(threads.items()):
        source = next((p for p in members if p.is_source), None)
        if source is None:
            continue
        batch = BatchCorroborator(registry, policy, clock=lambda: 0.0)
        joined = ""
        for raw in thread_items(members):
            batch.add(raw)
        joined = batch.clusters.stage.clusterer.cluster_of(f"{source.platform}:{source.post_id}") or ""
        evidence = batch.evidence.get(batch.clusters.final(joined))
        states[thread_id] = evidence.state.value if evidence is not None else "UNVERIFIED"
        veracity[thread_id] = source.veracity
    return states, veracity


def _threads_part(report: dict[str, Any]) -> None:
    try:
        posts = rumoureval_posts()
    except SharedDataMissing as exc:
        report["threads"] = {"skipped": str(exc)}
        return
    out: dict[str, Any] = {}
    # The default policy, and one where each side of a contest needs twice the weight
    # (two unknown accounts, or one known outlet): how much of "contested" is one reply.
    for label, policy in (("", PolicyConfig()), (" (side weight 0.6)", PolicyConfig(min_side_weight=0.6))):
        states, veracity = replay_threads(posts, policy)
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for thread_id, state in states.items():
            table[veracity[thread_id]][state] += 1
        for v in ("true", "false", "unverified"):
            out[f"veracity {v}{label}"] = {
                s: table[v][s] for s in ("CORROBORATED", "CONTESTED", "UNVERIFIED")
            }
        out["threads"] = len(states)
    report["threads"] = out


def _print(report: dict[str, Any]) -> None:
    print("| part | measure | value |")
    print("|---|---|---|")
    for part, values in report.items():
        if part == "commands":
            continue
        for key, value in values.items():
            if isinstance(value, dict):
                shown = ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items()
                )
            elif isinstance(value, float):
                shown = f"{value:.3f}"
            else:
                shown = str(value)
            print(f"| {part} | {key} | {shown} |")
    print("\ncommands:", *report["commands"], sep="\n  ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    all_parts = ["pairs", "mstream", "crisislext26", "stance", "contradiction", "threads"]
    parser.add_argument("--only", choices=all_parts, action="append")
    args = parser.parse_args(argv)
    parts = args.only or all_parts
    config = ClusterConfig()
    report: dict[str, Any] = {}
    if args.only and REPORT.exists():
        # A part run alone updates its table; the others' figures stay.
        kept = [*all_parts, "pairs_adapted"]
        report = {k: v for k, v in json.loads(REPORT.read_text("utf-8")).items() if k in kept}
    if "pairs" in parts:
        _pairs_part(report, config.join_threshold)
    if "mstream" in parts:
        _mstream_part(report, config)
    if "crisislext26" in parts:
        _crisis_part(report, config)
    if "stance" in parts:
        _stance_part(report)
    if "contradiction" in parts:
        _contradiction_part(report)
    if "threads" in parts:
        _threads_part(report)
    report["commands"] = [
        " ".join([".venv/bin/python -m bench.eval", *(sys.argv[1:] if argv is None else argv)]),
        ".venv/bin/python -m bench.train_matcher   # the held-out folds and the shipped model",
        ".venv/bin/python -m bench.train_stance    # the same for the stance model",
        "python -m bench.train_entailment --heldout  # per-fold entailment models (PyTorch venv)",
    ]
    REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    _print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
