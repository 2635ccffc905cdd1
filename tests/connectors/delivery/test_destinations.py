"""Each destination against the Slack-compatible server on 127.0.0.1: answers, refusals, failures."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import orjson

from connectors.delivery.config import DestinationConfig, Secret
from connectors.delivery.destinations import (
    Delivered,
    Failed,
    RetryAfter,
    SignedWebhook,
    SlackWebApi,
    SlackWebhook,
)
from connectors.delivery.signing import SIGNATURE_HEADER, verify
from tests.connectors.delivery.test_blocks import _alert
from tests.connectors.slack_server import FakeSlack

Slack = tuple[FakeSlack, str]


async def _nothing(_: dict[str, Any]) -> None:
    return None


def _webhook(base: str, **kw: Any) -> SlackWebhook:
    return SlackWebhook(
        DestinationConfig("desk", "slack-webhook", url=Secret(f"{base}/services/T/B/x"), **kw)
    )


def _api(base: str, token: str = "fake-bot-token") -> SlackWebApi:
    return SlackWebApi(
        DestinationConfig("bot", "slack-api", token=Secret(token), channel="C1", base_url=f"{base}/api")
    )


async def test_incoming_webhook_posts_and_reads_slacks_answers(slack: Slack) -> None:
    fake, base = slack
    async with httpx.AsyncClient() as client:
        got = await _webhook(base).deliver(_alert(), {}, client, _nothing)
        assert isinstance(got, Delivered) and got.record["version"] == 3
        assert len(fake.webhook_posts["/services/T/B/x"]) == 1
        fake.reset()
        fake.rate, fake.burst = 0.001, 1.0
        await _webhook(base).deliver(_alert(), {}, client, _nothing)
        limited = await _webhook(base).deliver(_alert(), {}, client, _nothing)
        assert isinstance(limited, RetryAfter) and limited.seconds == 1.0


async def test_a_webhook_post_that_may_have_gone_through_is_not_repeated(slack: Slack) -> None:
    fake, base = slack
    async with httpx.AsyncClient() as client:
        fake.fail_next("/services/", 1, 503)
        got = await _webhook(base).deliver(_alert(), {}, client, _nothing)
        assert isinstance(got, Failed) and not got.repeat_safe and "503" in got.reason
        fake.fail_next("/services/", 1, 503)
        brave = await _webhook(base, repeat_on_5xx=True).deliver(_alert(), {}, client, _nothing)
        assert isinstance(brave, Failed) and brave.repeat_safe
        fake.fail_next("/services/", 1, 0)  # cut before an answer: maybe posted
        cut = await _webhook(base).deliver(_alert(), {}, client, _nothing)
        assert isinstance(cut, Failed) and not cut.repeat_safe
    async with httpx.AsyncClient() as client:
        nowhere = SlackWebhook(
            DestinationConfig("d", "slack-webhook", url=Secret("http://127.0.0.1:9/services/x"))
        )
        refused = await nowhere.deliver(_alert(), {}, client, _nothing)
        assert isinstance(refused, Failed) and refused.repeat_safe  # never sent: safe
        assert "services" not in refused.reason


async def test_oversized_blocks_are_what_slack_would_refuse_and_ours_are_not(slack: Slack) -> None:
    _, base = slack
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{base}/services/T/B/x",
            content=orjson.dumps(
                {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]}
            ),
        )
        assert response.status_code == 400 and response.text == "invalid_blocks"
        huge = dataclasses.replace(_alert(), claim="z" * 50_000)
        assert isinstance(await _webhook(base).deliver(huge, {}, client, _nothing), Delivered)


async def test_web_api_posts_once_then_updates_in_place_with_thread_replies(slack: Slack) -> None:
    fake, base = slack
    api = _api(base)
    journal: list[dict[str, Any]] = []

    async def keep(record: dict[str, Any]) -> None:
        journal.append(record)

    async with httpx.AsyncClient() as client:
        first = await api.deliver(dataclasses.replace(_alert(), version=1), {}, client, keep)
        assert isinstance(first, Delivered) and first.record["ts"]
        assert journal[0]["posting"] == "c1"  # the intent was recorded before posting
        second = await api.deliver(_alert(), first.record, client, keep)
        assert isinstance(second, Delivered) and second.record["ts"] == first.record["ts"]
    top = fake.top_level("C1")
    assert len(top) == 1 and top[0]["updates"] == 1 and "v3" in top[0]["text"]
    replies = [m for m in fake.messages.values() if m.get("thread_ts") == top[0]["ts"]]
    assert len(replies) == 1 and replies[0]["metadata"]["event_payload"]["alert_id"] == "c1:3"


async def test_a_post_interrupted_after_slack_took_it_is_found_not_posted_again(slack: Slack) -> None:
    fake, base = slack
    api = _api(base)
    async with httpx.AsyncClient() as client:
        posted = await api.deliver(_alert(), {}, client, _nothing)
        assert isinstance(posted, Delivered)
        # The worker died after Slack posted but before the ts was recorded: only the intent survived.
        again = await _api(base).deliver(_alert(), {"posting": "c1"}, client, _nothing)
        assert isinstance(again, Delivered) and again.record["ts"] == posted.record["ts"]
    assert len(fake.top_level("C1")) == 1


async def test_web_api_errors_rate_limits_and_bad_tokens(slack: Slack) -> None:
    fake, base = slack
    async with httpx.AsyncClient() as client:
        bad = await _api(base, token="fake-wrong-token").deliver(_alert(), {}, client, _nothing)
        assert isinstance(bad, Failed) and "invalid_auth" in bad.reason and not bad.repeat_safe
        assert "fake-wrong-token" not in bad.reason
        fake.fail_next("/api/chat.postMessage", 1, 503)
        flaky = await _api(base).deliver(_alert(), {}, client, _nothing)
        assert isinstance(flaky, Failed) and flaky.repeat_safe
        fake.reset()
        fake.rate, fake.burst = 0.001, 1.0
        await _api(base).deliver(_alert(), {}, client, _nothing)
        limited = await _api(base).deliver(
            dataclasses.replace(_alert(), cluster_id="c9"), {}, client, _nothing
        )
        assert isinstance(limited, RetryAfter)


async def test_generic_webhook_is_signed_and_carries_the_alert_id(slack: Slack) -> None:
    fake, base = slack
    hook = SignedWebhook(
        DestinationConfig("p", "webhook", url=Secret(f"{base}/hooks/p"), secret=Secret("k3y")),
        clock=lambda: 1000.0,
    )
    async with httpx.AsyncClient() as client:
        assert isinstance(await hook.deliver(_alert(), {}, client, _nothing), Delivered)
        fake.fail_next("/hooks/", 1, 503)
        retry = await hook.deliver(_alert(), {}, client, _nothing)
        assert isinstance(retry, Failed) and retry.repeat_safe  # the receiver dedupes by Idempotency-Key
    headers, body = fake.hook_requests[0]
    assert headers["idempotency-key"] == "c1:3"
    assert verify(b"k3y", headers[SIGNATURE_HEADER.lower()], body, now=1010.0)
    assert orjson.loads(body)["alert_id"] == "c1:3"


async def test_a_deleted_claim_message_is_posted_anew_on_the_next_version(slack: Slack) -> None:
    fake, base = slack
    async with httpx.AsyncClient() as client:
        first = await _api(base).deliver(dataclasses.replace(_alert(), version=1), {}, client, _nothing)
        assert isinstance(first, Delivered)
        del fake.messages[first.record["ts"]]  # a moderator removed it
        again = await _api(base).deliver(_alert(), first.record, client, _nothing)
        assert isinstance(again, Delivered) and again.record["ts"] != first.record["ts"]
    assert len(fake.top_level("C1")) == 1
