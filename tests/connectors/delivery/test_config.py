from __future__ import annotations

from pathlib import Path

import pytest

from connectors.delivery.config import Secret, load_delivery_config
from connectors.errors import DeliveryConfigError
from tests.connectors.delivery.test_blocks import _alert

HOOK = "https://hooks.example.invalid/desk/very-secret-part"

CONFIG = """
[[destination]]
name = "desk"
type = "slack-webhook"
url_env = "DESK_HOOK"

[[destination]]
name = "bot"
type = "slack-api"
token_file = "{token_file}"
channel = "C1"

[[destination]]
name = "partner"
type = "webhook"
url_env = "PARTNER_URL"
secret_env = "PARTNER_SECRET"

[[route]]
to = ["desk"]
states = ["CORROBORATED", "CONTESTED"]

[[route]]
to = ["bot", "partner"]
keywords = ["panjshir"]
topics = ["afghanistan"]
min_weight = 1.0
"""


def _load(tmp_path: Path, text: str, env: dict[str, str]) -> object:
    token = tmp_path / "token"
    token.write_text("fake-token-from-a-file\n")
    path = tmp_path / "delivery.toml"
    path.write_text(text.replace("{token_file}", str(token)))
    return load_delivery_config(path, env)


ENV = {"DESK_HOOK": HOOK, "PARTNER_URL": "https://partner/x", "PARTNER_SECRET": "k"}


def test_credentials_come_from_the_environment_and_files_and_never_show(tmp_path: Path) -> None:
    config = _load(tmp_path, CONFIG, ENV)
    desk = config.destinations["desk"]  # type: ignore[attr-defined]
    assert desk.url.reveal() == HOOK and "very-secret" not in repr(desk) and "very-secret" not in str(desk)
    assert config.destinations["bot"].token == Secret("fake-token-from-a-file")  # type: ignore[attr-defined]


def test_routes_pick_destinations_by_state_keyword_topic_and_weight(tmp_path: Path) -> None:
    config = _load(tmp_path, CONFIG, ENV)
    alert = _alert()
    assert config.targets(alert) == ["desk"]  # type: ignore[attr-defined]
    import dataclasses

    tagged = dataclasses.replace(alert, topics=["afghanistan"])
    assert config.targets(tagged) == ["desk", "bot", "partner"]  # type: ignore[attr-defined]
    light = dataclasses.replace(tagged, support_weight=0.5, state="QUIET")
    assert config.targets(light) == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "env", "needle"),
    [
        (CONFIG.replace('url_env = "DESK_HOOK"', f'url = "{HOOK}"'), ENV, "must not be written in the file"),
        (CONFIG, {**ENV, "DESK_HOOK": ""}, "DESK_HOOK"),
        (CONFIG.replace('type = "webhook"', 'type = "pager"'), ENV, "not one of"),
        (CONFIG.replace('to = ["desk"]', 'to = ["desks"]'), ENV, "unknown destinations"),
        (CONFIG.replace('channel = "C1"', ""), ENV, "channel"),
    ],
)
def test_bad_configuration_says_what_and_where_without_the_secret(
    tmp_path: Path, text: str, env: dict[str, str], needle: str
) -> None:
    with pytest.raises(DeliveryConfigError, match=needle) as caught:
        _load(tmp_path, text, env)
    assert "very-secret" not in str(caught.value)
