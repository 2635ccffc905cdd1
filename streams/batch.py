"""The stream's clustering, run in one process over a sequence of items.

Why: back-testing and evaluation need the exact decisions the stream makes,
without a broker. This drives the same objects the agents drive (the
cluster stage, per-block matching, the union of clusters) with dicts where
the agents have tables, in input order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streams.domain.blocking import BlockEntry, add_to_block, block_matches
from streams.domain.clustering import ClusterConfig
from streams.domain.matching import SimilarityScorer
from streams.domain.merging import ClusterRef, UnionFind
from streams.domain.normalise import AliasTable
from streams.stages import ClusterOutput, ClusterStage, DeadLetter

__all__ = ["BatchClusterer", "BatchResult"]


@dataclass(frozen=True, slots=True)
class BatchResult:
    item_id: str
    cluster_id: str
    """The cluster the item joined when it arrived (before later merges)."""


class BatchClusterer:
    """Feed raw item JSON in order; ask for each item's final cluster at the end."""

    def __init__(
        self,
        config: ClusterConfig | None = None,
        *,
        aliases: AliasTable | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config or ClusterConfig()
        self.stage = ClusterStage(self.config, aliases=aliases, **({"clock": clock} if clock else {}))
        self._scorer = SimilarityScorer(self.config.match)
        self._blocks: dict[str, list[BlockEntry]] = {}
        self._parents: dict[str, tuple[str, float]] = {}
        self._unions = UnionFind(self._parents)
        self._created: dict[str, float] = {}
        self.merges = 0

    def add(self, raw: bytes, *, match: bool = True) -> BatchResult | DeadLetter:
        """Cluster one raw item; ``match=False`` founds a cluster without looking (bench fill)."""
        out = self.stage.process(raw, match=match)
        if isinstance(out, DeadLetter):
            return out
        assert isinstance(out, ClusterOutput)
        cid = out.claim.cluster_id
        if cid not in self._created:
            state = self.stage.clusterer.get(cid)
            self._created[cid] = state.created if state is not None else out.claim.item.created_at
        for merge in out.merges:
            if self._unions.union(merge.a, merge.b):
                self.merges += 1
        for announce in out.announces:
            entries = self._blocks.get(announce.key, [])
            new = announce.entry
            found = (
                block_matches(
                    announce.key,
                    new,
                    entries,
                    self._scorer,
                    threshold=self.config.merge_threshold,
                    quiet_seconds=self.config.quiet_seconds,
                )
                if match
                else []
            )
            for hit in found:
                old = hit.entry
                if self._unions.union(
                    ClusterRef(new.first_seen, new.cluster_id), ClusterRef(old.first_seen, old.cluster_id)
                ):
                    self.merges += 1
            self._blocks[announce.key] = add_to_block(
                entries, new, max_entries=self.config.block_entries, quiet_seconds=self.config.quiet_seconds
            )
        return BatchResult(out.claim.item.id, cid)

    def final(self, cluster_id: str) -> str:
        """The cluster id that ``cluster_id`` ended up as, after every merge so far."""
        return self._unions.find(ClusterRef(self._created.get(cluster_id, 0.0), cluster_id)).cluster_id
