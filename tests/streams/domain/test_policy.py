"""The alert policy: evidence states, topics with their own thresholds, quiet claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.batch import BatchCorroborator
from streams.domain.policy import EvidenceState, PolicyConfig, evaluate, load_policy_book, with_opposing
from streams.domain.provenance import Origin
from streams.domain.registry import load_registry
from streams.domain.stance import Stance
from streams.errors import PolicyError
from tests.conftest import item_json

CLAIM = [
    ("1", "reuters", "Explosion reported at the fertiliser plant in West, Texas, many injured"),
    ("2", "AP", "An explosion at the fertiliser plant in West, Texas has injured many people"),
    ("3", "BBCWorld", "Explosion at a fertiliser plant in West, Texas: many people injured"),
]


def _run(policy_file: Path | None, topics: list[str]) -> list[str]:
    book = load_policy_book(policy_file)
    batch = BatchCorroborator(load_registry(None), book, clock=lambda: 0.0)
    for n, (item_id, author, text) in enumerate(CLAIM):
        batch.add(item_json(item_id, author, text, n, topics=topics))
    return [a.state for a in batch.alerts]


def test_a_topic_can_ask_for_more_independent_origins(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[default]\nmin_origins = 2\n\n[topics.conflict]\nmin_origins = 4\nwindow_hours = 12\n")
    assert "CORROBORATED" in _run(path, [])  # three wires are enough by default
    assert "CORROBORATED" in _run(path, ["weather"])  # a topic without a policy of its own
    assert _run(path, ["conflict"]) == []  # three are not enough for this desk
    book = load_policy_book(path)
    assert book.for_topic("conflict").window_seconds == 12 * 3600.0
    assert book.for_topic("conflict").min_weight == PolicyConfig().min_weight  # inherited


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[default]\nmin_orgins = 2\n", "unknown keys"),
        ("[default]\nmin_origins = -1\n", "non-negative"),
        ("[topic.x]\nmin_origins = 1\n", "unknown tables"),
        ("[default\n", "not valid TOML"),
    ],
)
def test_a_bad_policy_file_says_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        load_policy_book(path)


def _origin(source: str, stance: Stance, last_seen: float, via: str | None = None) -> Origin:
    return Origin(
        f"{source}-{last_seen}",
        source,
        "newspaper",
        0.75,
        None,
        stance,
        0.0,
        None,
        via_cluster=via,
        last_seen=last_seen,
    )


def test_a_source_on_both_sides_counts_where_it_spoke_last() -> None:
    report = _origin("daily-planet", Stance.SUPPORT, 100.0)
    correction = _origin("daily-planet", Stance.DENY, 200.0, via="c-other")
    assert with_opposing([report], [correction]) == [correction]  # its correction came later
    early_denial = _origin("daily-planet", Stance.DENY, 50.0, via="c-other")
    assert with_opposing([report], [early_denial]) == [report]  # its report came later
    other = _origin("cityhall", Stance.DENY, 10.0, via="c-other")
    assert with_opposing([report], [other]) == [report, other]


def _seen(source: str, stance: Stance, at_hours: float) -> Origin:
    return Origin(f"{source}-{at_hours}", source, "wire", 1.0, None, stance, at_hours * 3600.0, None)


def test_the_window_is_for_convergence_only() -> None:
    config = PolicyConfig()  # two origins, weight 1.0, within 24 h
    claim = [_seen("reuters", Stance.SUPPORT, 0), _seen("ap", Stance.SUPPORT, 2)]
    assert evaluate(claim, config).state is EvidenceState.CORROBORATED
    # A fourth outlet two days on does not make Monday's confirmation unconfirmed ...
    assert evaluate([*claim, _seen("afp", Stance.SUPPORT, 50)], config).state is EvidenceState.CORROBORATED
    # ... and a denial a day and a half later contests it, however old its support.
    late = evaluate([*claim, _seen("navy", Stance.DENY, 36)], config)
    assert late.state is EvidenceState.CONTESTED and late.support_origins == 2
    # Two origins three days apart never converged.
    apart = [_seen("reuters", Stance.SUPPORT, 0), _seen("ap", Stance.SUPPORT, 72)]
    assert evaluate(apart, config).state is EvidenceState.UNVERIFIED
