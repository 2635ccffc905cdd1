"""A Slack-compatible server on 127.0.0.1, started once per session; each test starts it clean."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.slack_server import FakeSlack


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
