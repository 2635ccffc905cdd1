"""Session fixtures that build real things: the embedded broker, once per session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import settings

from corroborate.broker import EmbeddedBroker
from tests.connectors.slack_server import FakeSlack

# No per-example deadline: the matcher's first call on a text runs the sentence encoder
# (tens of milliseconds, more on a loaded 2-core machine), and a deadline would turn that
# into a flaky "DeadlineExceeded". Property tests here check results, not speed
# (``make bench`` measures speed).
settings.register_profile("corroborate", deadline=None)
settings.load_profile("corroborate")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
SCENARIO = ROOT / "corroborate" / "scenarios" / "panjshir.jsonl"
CLI = [sys.executable, "-m", "corroborate.cli"]


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a CLI subprocess: its own state dir, no external Kafka."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "CORROBORATE_"))}
    env["CORROBORATE_STATE_DIR"] = str(tmp_path / "state")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def pipeline_env(cli_env: dict[str, str], bootstrap: str, prefix: str, **extra: str) -> dict[str, str]:
    """Environment for a CLI run on the session broker, isolated by its own topic prefix and group."""
    return {
        **cli_env,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CORROBORATE_TOPIC_PREFIX": prefix,
        "CORROBORATE_APP_ID": f"app-{prefix}",
        "CORROBORATE_SESSION_TIMEOUT": "4",
        **extra,
    }


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {path} not present")
    return path


def item_json(item_id: str, author: str, text: str, minute: int, **extra: object) -> bytes:
    """One item record at 05:MM on 6 September 2021 (the scenario's morning)."""
    return orjson.dumps(
        {
            "id": item_id,
            "author": author,
            "text": text,
            "created_at": f"2021-09-06T05:{minute:02d}:00Z",
            **extra,
        }
    )


@pytest.fixture(scope="session")
def slack_server() -> Iterator[tuple[FakeSlack, str]]:
    fake = FakeSlack()
    server, base = fake.start()
    yield fake, base
    server.shutdown()


@pytest.fixture
def slack(slack_server: tuple[FakeSlack, str]) -> tuple[FakeSlack, str]:
    fake, base = slack_server
    fake.reset()
    fake.rate, fake.burst, fake.retry_after = 50.0, 10.0, "1"
    return fake, base
