from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from connectors.secrets import Secret
from connectors.sources.ingest import IngestServer
from tests.connectors.sources.conftest import Topics

pytestmark = pytest.mark.broker

PARTNER = "ingest-test-token"


def _line(n: int, **extra: object) -> bytes:
    return orjson.dumps(
        {
            "id": f"p:{n}",
            "text": f"Partner report {n} from Panjshir",
            "created_at": "2021-09-06T05:00:00Z",
            **extra,
        }
    )


@pytest.fixture
async def ingest(topics: Topics) -> AsyncIterator[tuple[IngestServer, httpx.AsyncClient]]:
    server = IngestServer(
        topics.publisher("ingest"),
        tokens={"partner-a": Secret(PARTNER)},
        port=0,
        max_body_bytes=64 * 1024,
        max_items=100,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(server.run(stop))
    await asyncio.wait_for(server.ready.wait(), 10)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server.bound_port}", headers={"Authorization": f"Bearer {PARTNER}"}
    ) as client:
        yield server, client
    stop.set()
    await asyncio.wait_for(task, 10)


NDJSON = {"Content-Type": "application/x-ndjson"}


async def test_a_missing_or_wrong_token_is_401(ingest: tuple[IngestServer, httpx.AsyncClient]) -> None:
    server, client = ingest
    for auth in (
        {"Authorization": ""},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Basic {PARTNER}"},
    ):
        resp = await client.post("/items", content=_line(1), headers={**NDJSON, **auth})
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert server.stats.dropped["unauthorised"] == 3 and server.stats.produced == 0


async def test_an_oversized_body_is_413_with_or_without_a_length(
    ingest: tuple[IngestServer, httpx.AsyncClient],
) -> None:
    _, client = ingest
    big = b"\n".join(_line(n, pad="x" * 1000) for n in range(100))
    resp = await client.post("/items", content=big, headers=NDJSON)
    assert resp.status_code == 413 and "bytes" in resp.json()["error"]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    resp = await client.post("/items", content=chunks(), headers=NDJSON)
    assert resp.status_code == 413


async def test_bad_lines_get_their_own_errors_and_the_good_lines_go_through(
    ingest: tuple[IngestServer, httpx.AsyncClient], topics: Topics
) -> None:
    _, client = ingest
    body = b"\n".join(
        [
            _line(1),
            b"{not json",
            orjson.dumps({"id": "p:2", "text": "no time"}),
            b"[1, 2]",
            _line(3, submitted_by="someone-else"),
            b"",
            orjson.dumps({"id": "p:4", "text": "x" * 30_000, "created_at": "2021-09-06T05:00:00Z"}),
        ]
    )
    resp = await client.post("/items", content=body, headers=NDJSON)
    assert resp.status_code == 202
    out = resp.json()
    assert out["accepted"] == ["p:1", "p:3"]
    assert [(r["line"], r["error"]) for r in out["rejected"]] == [
        (2, "malformed_json"),
        (3, "missing_field"),
        (4, "not_an_object"),
        (7, "text_too_long"),
    ]
    items = [orjson.loads(v) for _, v, _ in await topics.records(topics.names.items)]
    assert [i["id"] for i in items] == ["p:1", "p:3"]
    assert {i["submitted_by"] for i in items} == {"partner-a"}, "the token names the sender, not the body"
    dead = await topics.records(topics.names.deadletter)
    assert sorted(h["x-error-reason"].decode() for _, _, h in dead) == [
        "malformed_json",
        "missing_field",
        "not_an_object",
        "text_too_long",
    ]
    # All bad: 400 with the same per-line report.
    resp = await client.post("/items", content=b"{bad\n[]", headers=NDJSON)
    assert resp.status_code == 400 and len(resp.json()["rejected"]) == 2


async def test_json_arrays_are_taken_and_a_resubmitted_batch_is_not_produced_twice(
    ingest: tuple[IngestServer, httpx.AsyncClient], topics: Topics
) -> None:
    _, client = ingest
    batch = [orjson.loads(_line(n)) for n in range(10, 15)]
    first = await client.post("/items", json=batch)
    again = await client.post("/items", json=batch)
    single = await client.post("/items", json=orjson.loads(_line(16)))
    assert first.status_code == again.status_code == single.status_code == 202
    assert again.json() == {"accepted": [], "repeated": [f"p:{n}" for n in range(10, 15)], "rejected": []}
    ids = [k.decode() for k, _, _ in await topics.records(topics.names.items) if k]
    assert sorted(ids) == sorted(f"p:{n}" for n in (*range(10, 15), 16))
    resp = await client.post("/items", content=b"<xml/>", headers={"Content-Type": "application/xml"})
    assert resp.status_code == 415
    too_many = b"\n".join(_line(n) for n in range(101))
    assert (await client.post("/items", content=too_many, headers=NDJSON)).status_code == 413


async def test_hostile_bodies_get_an_answer_never_a_server_error(
    ingest: tuple[IngestServer, httpx.AsyncClient],
) -> None:
    import random

    rng = random.Random(7)
    _, client = ingest

    def body() -> bytes:
        kind = rng.randrange(6)
        if kind == 0:
            return rng.randbytes(rng.randrange(1, 3000))
        if kind == 1:
            depth = rng.randrange(1, 3000)
            return b"[" * depth + b"]" * depth
        if kind == 2:
            return b"\n".join(_line(n, text="\x00\x1b[31m\u202e" * rng.randrange(1, 50)) for n in range(5))
        if kind == 3:
            return b'{"id": "x", "text": "\xff\xfe", "created_at": 1}\n' + _line(1)
        if kind == 4:
            return orjson.dumps([{"id": rng.random(), "text": [1], "created_at": {}}] * rng.randrange(1, 50))
        return b"\n" * rng.randrange(1, 1000)

    statuses = set()
    for _ in range(300):
        ctype = rng.choice(["application/x-ndjson", "application/json", "text/plain", "application/xml", ""])
        resp = await client.post("/items", content=body(), headers={"Content-Type": ctype})
        statuses.add(resp.status_code)
        assert resp.status_code in {202, 400, 413, 415}, resp.text
        assert resp.headers["Content-Type"].startswith("application/json")
    assert {202, 400, 415} <= statuses
