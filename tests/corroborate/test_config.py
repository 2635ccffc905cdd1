from __future__ import annotations

import pytest

from corroborate.config import Settings
from corroborate.errors import ConfigError


def test_defaults_mean_embedded_broker_with_short_sessions() -> None:
    s = Settings.from_env({})
    assert s.embedded
    cfg = s.app_config("127.0.0.1:1")
    assert cfg.session_timeout == 4.0 and cfg.topics.alerts == "corroborate.alerts"


def test_external_kafka_gets_longer_sessions_and_prefix() -> None:
    s = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "CORROBORATE_TOPIC_PREFIX": "desk1."})
    cfg = s.app_config("k:9092")
    assert not s.embedded and cfg.session_timeout == 30.0 and cfg.topics.items == "desk1.items"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"CORROBORATE_PARTITIONS": "many"}, "CORROBORATE_PARTITIONS"),
        ({"CORROBORATE_PARTITIONS": "0"}, "at least"),
        ({"CORROBORATE_SOURCES": "/nope.toml"}, "no such file"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env)
