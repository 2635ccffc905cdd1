"""The stream's clustering, run in one process over a sequence of items.

Why: back-testing and evaluation need the exact decisions the stream makes,
without a broker. This drives the same objects the agents drive (the
cluster stage, per-block matching, the union of clusters) with dicts where
the agents have tables, in input order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streams.domain.blocking import BlockEntry
from streams.domain.clustering import ClusterConfig
from streams.domain.merging import ClusterRef, UnionFind
from streams.domain.normalise import AliasTable
from streams.stages import BlockStage, ClusterOutput, ClusterStage, DeadLetter

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
        self.blocks = BlockStage(self.config)
        self._blocks: dict[str, list[BlockEntry]] = {}
        self._unions = UnionFind({})
        self.merges = 0

    def add(self, raw: bytes, *, match: bool = True) -> BatchResult | DeadLetter:
        """Cluster one raw item; ``match=False`` founds a cluster without looking (bench fill)."""
        out = self.stage.process(raw, match=match)
        if isinstance(out, DeadLetter):
            return out
        assert isinstance(out, ClusterOutput)
        found = list(out.merges)
        for announce in out.announces:
            merges, self._blocks[announce.key] = self.blocks.process(
                announce, self._blocks.get(announce.key, []), match=match
            )
            found += merges
        for merge in found:
            if self._unions.union(merge.a, merge.b):
                self.merges += 1
        return BatchResult(out.claim.item.id, out.claim.cluster_id)

    def final(self, cluster_id: str) -> str:
        """The cluster id that ``cluster_id`` ended up as, after every merge so far."""
        # The rank of a cluster only matters when two roots meet; a lookup needs none.
        return self._unions.find(ClusterRef(0.0, cluster_id)).cluster_id
