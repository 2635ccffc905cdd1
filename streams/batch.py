"""The stream's clustering, run in one process over a sequence of items.

Why: back-testing and evaluation need the exact decisions the stream makes,
without a broker. This drives the same objects the agents drive (the
cluster stage, per-block matching, the union of clusters) with dicts where
the agents have tables, in input order.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from streams.domain.blocking import BlockEntry
from streams.domain.clustering import ClusterConfig
from streams.domain.merging import ClusterRef, UnionFind
from streams.domain.normalise import AliasTable
from streams.domain.policy import ClaimEvidence, PolicyBook, PolicyConfig
from streams.domain.registry import SourceRegistry
from streams.domain.stance import StanceModel
from streams.messages import (
    Alert,
    ClaimsRecord,
    ClusterAlias,
    ClusterLink,
)
from streams.stages import BlockStage, ClusterOutput, ClusterStage, CorroborationStage, DeadLetter

__all__ = ["BatchClusterer", "BatchCorroborator", "BatchResult"]


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
        self.fold(out, match=match)
        return BatchResult(out.claim.item.id, out.claim.cluster_id)

    def fold(self, out: ClusterOutput, *, match: bool = True) -> tuple[list[str], list[ClusterLink]]:
        """Send the output's exemplars to their blocks and apply merges.

        Returns the cluster ids retired as aliases, and the contradiction links found.
        """
        found = list(out.merges)
        links = list(out.links)
        for announce in out.announces:
            merges, linked, self._blocks[announce.key] = self.blocks.process(
                announce, self._blocks.get(announce.key, []), match=match
            )
            found += merges
            links += linked
        retired = []
        for merge in found:
            done = self._unions.union(merge.a, merge.b)
            if done is not None:
                self.merges += 1
                retired.append(done.alias.cluster_id)
        return retired, links

    def final(self, cluster_id: str) -> str:
        """The cluster id that ``cluster_id`` ended up as, after every merge so far."""
        # The rank of a cluster only matters when two roots meet; a lookup needs none.
        return self._unions.find(ClusterRef(0.0, cluster_id)).cluster_id


class BatchCorroborator:
    """Clustering and corroboration in one process: every alert the stream would raise, in order.

    Why: the demo's expected alerts, the RumourEval thread replays and tests
    need the corroboration decisions without a broker. Records go through a
    queue in the order the agents would send them, and each is handled as the
    corroborate agent handles it: aliases retire their evidence into the
    canonical cluster, contradiction links exchange supporting origins.
    """

    def __init__(
        self,
        registry: SourceRegistry,
        policy: PolicyConfig | PolicyBook | None = None,
        config: ClusterConfig | None = None,
        *,
        aliases: AliasTable | None = None,
        stance_model: StanceModel | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        # The clusterer blames the sides of the same registry the corroborator weighs.
        config = config or ClusterConfig(actors=registry.actors)
        self.clusters = BatchClusterer(config, aliases=aliases, clock=clock)
        self.stage = (
            CorroborationStage(registry, policy, aliases=aliases, stance_model=stance_model, clock=clock)
            if clock
            else CorroborationStage(registry, policy, aliases=aliases, stance_model=stance_model)
        )
        self.evidence: dict[str, ClaimEvidence] = {}
        self.alerts: list[Alert] = []
        self._aliases: dict[str, str] = {}

    def add(self, raw: bytes) -> list[Alert] | DeadLetter:
        """Alerts raised by one raw item, including those of the merges and links it caused."""
        out = self.clusters.stage.process(raw)
        if isinstance(out, DeadLetter):
            return out
        assert isinstance(out, ClusterOutput)
        retired, links = self.clusters.fold(out)
        queue: deque[ClaimsRecord] = deque([out.claim])
        queue.extend(ClusterAlias(alias, self.clusters.final(alias), 0.0) for alias in retired)
        queue.extend(links)
        raised: list[Alert] = []
        while queue:
            raised += self._handle(queue.popleft(), queue)
        self.alerts.extend(raised)
        return raised

    def quiet(self, at: float) -> list[Alert]:
        """QUIET alerts for every alerted claim, as if the quiet period had passed for all."""
        raised = [a for ev in self.evidence.values() if (a := self.stage.quiet(ev, at=at)) is not None]
        self.alerts.extend(raised)
        return raised

    def _resolve(self, cluster_id: str) -> str:
        while cluster_id in self._aliases:
            cluster_id = self._aliases[cluster_id]
        return cluster_id

    def _handle(self, record: ClaimsRecord, queue: deque[ClaimsRecord]) -> list[Alert]:
        if isinstance(record, ClusterAlias):
            if record.alias in self._aliases:
                return []
            self._aliases[record.alias] = record.canonical
            gone = self.evidence.pop(record.alias, None)
            if gone is None:
                return []
            moved, last = self.stage.retire(gone, record.canonical)
            queue.append(moved)
            return [last]
        target = self._resolve(record.cluster_id)
        if target != record.cluster_id:
            record = dataclasses.replace(record, cluster_id=target)
        handled = self.stage.handle(record, self.evidence.get(target))
        if handled.forget:
            self.evidence.pop(target, None)
        if handled.evidence is None:
            return []
        self.evidence[target] = handled.evidence
        queue.extend(handled.sends)
        return [] if handled.alert is None else [handled.alert]
