from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import SourceConfigError
from connectors.sources.config import load_sources_config, override_var

GOOD = """
[[source]]
name = "x"
kind = "x-stream"
token_env = "X_TOKEN_FOR_TEST"
rules = [{ value = "panjshir", tag = "afghanistan" }]

[[source]]
name = "wires"
kind = "feeds"
interval = 120
feeds = [{ url = "https://wire.example/world.rss", outlet = "wire.example" }]

[[source]]
name = "partners"
kind = "http-ingest"
listen = "0.0.0.0:8088"
tokens = [{ name = "partner-a", token_file = "TOKENFILE" }]

[[source]]
name = "crisis"
kind = "replay"
path = "/data/crisislext26"
format = "crisislext26"
enabled = false
"""


def _write(tmp_path: Path, text: str) -> Path:
    token = tmp_path / "token"
    token.write_text("partner-secret-value\n")
    path = tmp_path / "sources.toml"
    path.write_text(text.replace("TOKENFILE", str(token)))
    return path


def test_a_good_file_loads_with_secrets_from_env_and_files(tmp_path: Path) -> None:
    config = load_sources_config(_write(tmp_path, GOOD), {"X_TOKEN_FOR_TEST": "x-secret-value"})
    assert list(config.sources) == ["x", "wires", "partners", "crisis"]
    assert [s.name for s in config.enabled()] == ["x", "wires", "partners"]
    assert config.sources["x"].token is not None and config.sources["x"].token.reveal() == "x-secret-value"
    assert config.sources["partners"].tokens["partner-a"].reveal() == "partner-secret-value"
    assert "secret-value" not in repr(config)


def test_environment_overrides_scalar_options(tmp_path: Path) -> None:
    env = {
        "X_TOKEN_FOR_TEST": "t",
        override_var("x", "base_url"): "http://proxy.internal:8080",
        override_var("wires", "interval"): "30",
        override_var("crisis", "enabled"): "true",
        override_var("crisis", "speed"): "2.5",
    }
    config = load_sources_config(_write(tmp_path, GOOD), env)
    assert config.sources["x"].get("base_url") == "http://proxy.internal:8080"
    assert config.sources["wires"].get("interval") == 30
    assert config.sources["crisis"].get("speed") == 2.5 and len(config.enabled()) == 4
    assert override_var("wire-feeds.eu", "interval") == "CORROBORATE_SOURCE_WIRE_FEEDS_EU_INTERVAL"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ('[[source]]\nname = "a"\nkind = "telegram"\n', {}, "kind 'telegram' is not one of"),
        ('[[source]]\nname = "a"\nkind = "feeds"\nfeeds = []\nintervall = 3\n', {}, "unknown key"),
        (
            '[[source]]\nname = "x"\nkind = "x-stream"\ntoken = "literal"\n',
            {},
            "must not be written in the file",
        ),
        ('[[source]]\nname = "x"\nkind = "x-stream"\ntoken_env = "UNSET_VAR"\n', {}, "UNSET_VAR"),
        ('[[source]]\nname = "x"\nkind = "x-stream"\n', {}, "needs token"),
        ('[[source]]\nname = "r"\nkind = "replay"\npath = "p"\nformat = "csv"\n', {}, "format 'csv'"),
        ('[[source]]\nname = "f"\nkind = "feeds"\nfeeds = [{ interval = 3 }]\n', {}, "with a url"),
        ('[[source]]\nname = "i"\nkind = "http-ingest"\n', {}, "needs tokens"),
        (
            '[[source]]\nname = "r"\nkind = "replay"\npath = "p"\n'
            '[[source]]\nname = "r"\nkind = "replay"\npath = "q"\n',
            {},
            "two sources are named",
        ),
        (
            '[[source]]\nname = "r"\nkind = "replay"\npath = "p"\n',
            {"CORROBORATE_SOURCE_R_TOKEN_ENV": "X"},
            "not a scalar",
        ),
        ("[[source]\n", {}, "not valid TOML"),
    ],
)
def test_mistakes_name_the_source_and_the_key(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SourceConfigError, match=message):
        load_sources_config(path, env)
