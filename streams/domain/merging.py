"""Union of clusters found to make one claim: which id survives, and the aliases.

Why a union-find with a fixed rule: merges arrive in any order from any
block, and several workers can discover the same merge. The surviving id is
the one with the earliest first-seen time (ties: the smaller id), so the
outcome does not depend on the order merges are found in, and a merge found
twice changes nothing. The losing id becomes an alias of the winner; every
record of the alias is forwarded to the winner downstream.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

__all__ = ["ClusterRef", "Merge", "UnionFind"]


@dataclass(frozen=True, slots=True, order=True)
class ClusterRef:
    first_seen: float
    cluster_id: str


@dataclass(frozen=True, slots=True)
class Merge:
    alias: ClusterRef
    canonical: ClusterRef


class UnionFind:
    """Over a mapping ``cluster id -> (parent id, parent first_seen)``; roots are absent.

    The mapping can be a plain dict or a changelogged table, so the union
    survives restarts.
    """

    def __init__(self, parents: MutableMapping[str, tuple[str, float]]) -> None:
        self._parents = parents

    def find(self, ref: ClusterRef, *, compress: bool = True) -> ClusterRef:
        """The root of ``ref``'s set. ``compress=False`` only reads: for a mapping whose
        entries may only be written by the owner of each key (a partitioned table)."""
        path: list[str] = []
        node = ref
        while True:
            parent = self._parents.get(node.cluster_id)
            if parent is None or parent[0] == node.cluster_id:
                break
            path.append(node.cluster_id)
            node = ClusterRef(parent[1], parent[0])
        for cid in path[:-1] if compress else ():  # path compression
            self._parents[cid] = (node.cluster_id, node.first_seen)
        return node

    def union(self, a: ClusterRef, b: ClusterRef) -> Merge | None:
        """Join the sets of ``a`` and ``b``; the merge of their roots, or None if already one."""
        ra, rb = self.find(a), self.find(b)
        if ra.cluster_id == rb.cluster_id:
            return None
        canonical, alias = (ra, rb) if ra < rb else (rb, ra)
        self._parents[alias.cluster_id] = (canonical.cluster_id, canonical.first_seen)
        return Merge(alias, canonical)
