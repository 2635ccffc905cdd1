from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.domain.merging import ClusterRef, UnionFind

refs = [ClusterRef(float(t), f"c{t}") for t in range(8)]
edges = st.lists(st.tuples(st.sampled_from(refs), st.sampled_from(refs)), max_size=20)


def _components(pairs: list[tuple[ClusterRef, ClusterRef]]) -> dict[str, str]:
    uf = UnionFind({})
    for a, b in pairs:
        uf.union(a, b)
    return {r.cluster_id: uf.find(r).cluster_id for r in refs}


@given(edges, st.randoms())
def test_outcome_does_not_depend_on_the_order_merges_are_found(
    pairs: list[tuple[ClusterRef, ClusterRef]], rnd
) -> None:  # type: ignore[no-untyped-def]
    shuffled = [(b, a) if rnd.random() < 0.5 else (a, b) for a, b in pairs]
    rnd.shuffle(shuffled)
    assert _components(pairs) == _components(shuffled)


@given(edges)
def test_the_earliest_cluster_survives(pairs: list[tuple[ClusterRef, ClusterRef]]) -> None:
    roots = _components(pairs)
    for ref in refs:
        members = [r for r in refs if roots[r.cluster_id] == roots[ref.cluster_id]]
        assert roots[ref.cluster_id] == min(members).cluster_id


def test_a_merge_found_twice_changes_nothing() -> None:
    parents: dict[str, tuple[str, float]] = {}
    uf = UnionFind(parents)
    first = uf.union(refs[3], refs[1])
    assert first is not None and first.alias == refs[3] and first.canonical == refs[1]
    assert uf.union(refs[1], refs[3]) is None
    assert parents == {"c3": ("c1", 1.0)}


def test_a_find_that_only_reads_leaves_the_parents_as_they_were() -> None:
    # The corroborate agent reads its partitioned ``aliases`` table this way: it may
    # write only the entries of its own partition's keys.
    parents = {"c3": ("c2", 2.0), "c2": ("c1", 1.0)}
    uf = UnionFind(parents)
    assert uf.find(refs[3], compress=False) == refs[1]
    assert parents == {"c3": ("c2", 2.0), "c2": ("c1", 1.0)}
    assert uf.find(refs[3]) == refs[1]
    assert parents["c3"] == ("c1", 1.0)
