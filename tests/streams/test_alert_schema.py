"""Every alert the pipeline raises is valid against the published JSON Schema."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import orjson

from streams.messages import Alert
from tests.streams.test_batch import LINES, _run

SCHEMA = json.loads(resources.files("streams").joinpath("schemas/alert.v1.schema.json").read_text("utf-8"))


def test_the_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_alert_of_the_scenario_and_of_a_merge_and_quiet_is_valid() -> None:
    batch = _run(LINES)
    batch.quiet(max(e.last_seen for e in batch.evidence.values()) + 72 * 3600)
    alerts = batch.alerts
    assert {a.state for a in alerts} >= {"CORROBORATED", "CONTESTED", "QUIET"}
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for alert in alerts:
        wire = orjson.loads(alert.to_json())
        errors = sorted(validator.iter_errors(wire), key=str)
        assert not errors, (alert.alert_id, [e.message for e in errors[:3]])
        assert Alert.from_json(alert.to_json()) == alert


def test_a_field_every_consumer_relies_on_cannot_go_missing() -> None:
    wire = orjson.loads(_run(LINES).alerts[0].to_json())
    del wire["alert_id"]
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(wire)
