"""The bundled scenarios: valid items in time order, each replayable by name."""

from __future__ import annotations

import pytest

from corroborate.cli import bundled_scenarios, scenario_path
from corroborate.errors import CorroborateError
from streams.records import decode_item


def test_the_bundled_scenarios_are_listed() -> None:
    shipped = {"panjshir", "kakhovka", "harvey", "turkey", "death-hoax", "beirut", "retraction"}
    assert shipped <= set(bundled_scenarios())


@pytest.mark.parametrize("name", bundled_scenarios())
def test_a_bundled_scenario_is_valid_items_in_time_order(name: str) -> None:
    lines = [line for line in scenario_path(name).read_bytes().splitlines() if line.strip()]
    items = [decode_item(line) for line in lines]
    assert len({i.id for i in items}) == len(items)
    assert [i.created_at for i in items] == sorted(i.created_at for i in items)


def test_an_unknown_scenario_names_the_bundled_ones() -> None:
    with pytest.raises(CorroborateError, match=r"bundled: .*panjshir"):
        scenario_path("nope")
