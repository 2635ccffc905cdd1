from __future__ import annotations

from pathlib import Path

import pytest

import streams.domain
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
        ({"CORROBORATE_POLICY": "/nope.toml"}, "CORROBORATE_POLICY"),
        ({"CORROBORATE_STANCE_MODEL": "/nope.json"}, "CORROBORATE_STANCE_MODEL"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env)


def test_a_policy_file_gives_topics_their_own_thresholds(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "policy.toml"
    path.write_text("[topics.conflict]\nmin_origins = 3\n")
    book = Settings.from_env({"CORROBORATE_POLICY": str(path), "CORROBORATE_MIN_WEIGHT": "1.5"}).policy_book()
    assert book.for_topic("conflict").min_origins == 3 and book.for_topic("conflict").min_weight == 1.5
    path.write_text("[topics.conflict]\nmin_origins = 'three'\n")
    with pytest.raises(ConfigError, match="min_origins"):
        Settings.from_env({"CORROBORATE_POLICY": str(path)}).app_config("x:1")


def test_the_encoder_can_be_turned_off_for_the_lexical_model() -> None:
    on = Settings.from_env({}).match_config()
    assert on.encoder is not None and on.model.uses_cosine
    off = Settings.from_env({"CORROBORATE_ENCODER": "off"}).match_config()
    assert off.encoder is None and not off.model.uses_cosine


def test_the_adapted_encoder_runs_with_the_model_fitted_on_it() -> None:
    adapted = Settings.from_env({"CORROBORATE_ENCODER": "adapted"}).match_config()
    assert adapted.encoder is not None and adapted.encoder.adapter == adapted.model.adapter == "lora-1"
    assert Settings.from_env({}).match_config().model.adapter is None
    plain_model = str(Path(__file__).parents[2] / "streams" / "domain" / "match_model.json")
    env = {"CORROBORATE_ENCODER": "adapted", "CORROBORATE_MATCH_MODEL": plain_model}
    with pytest.raises(ConfigError, match="adapter None, this encoder has lora-1"):
        Settings.from_env(env).match_config()


def test_a_model_that_does_not_fit_the_encoder_setting_is_refused() -> None:
    lexical = str(Path(streams.domain.__file__).parent / "match_model_lexical.json")
    with pytest.raises(ConfigError, match="CORROBORATE_ENCODER=off"):
        Settings.from_env({"CORROBORATE_MATCH_MODEL": lexical}).match_config()
    with pytest.raises(ConfigError, match="CORROBORATE_ENCODER"):
        Settings.from_env({"CORROBORATE_ENCODER": "maybe"})


def test_the_learnt_contradiction_model_is_off_unless_turned_on() -> None:
    assert Settings.from_env({}).cluster_config().judge is None
    judge = Settings.from_env({"CORROBORATE_ENTAILMENT": "on"}).cluster_config().judge
    assert judge is not None and judge("Panjshir has fallen", "Panjshir has not fallen") > 0.5
    with pytest.raises(ConfigError, match="CORROBORATE_ENTAILMENT"):
        Settings.from_env({"CORROBORATE_ENTAILMENT": "yes"})


def test_the_clusterer_blames_the_sides_of_the_operators_registry(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "sources.toml"
    path.write_text(
        '[[source]]\nid = "army"\nkind = "party"\nparty = "civil-war"\naliases = ["the army"]\n'
        'actor_words = ["army"]\n\n[[source]]\nid = "rsf"\nkind = "party"\nparty = "civil-war"\n'
        'aliases = ["rsf", "rapid support forces"]\n'
    )
    actors = Settings.from_env({"CORROBORATE_SOURCES": str(path)}).cluster_config().actors
    assert actors.blamed("RSF shelled the market in El Fasher") == {"rsf"}
    assert actors.opposed(actors.blamed("Army jets bombed the market"), frozenset({"rsf"})) == ("army", "rsf")
    assert Settings.from_env({}).cluster_config().actors.blamed("RSF shelled the market") == frozenset()
