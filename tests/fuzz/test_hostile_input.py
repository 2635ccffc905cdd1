"""Hostile input through the code that meets it first: the item decoder with the
normaliser and clusterer behind it (``ClusterStage.process``), and the HTTP
ingest body parser. Every input ends as a result or a dead letter with a
reason; none raises, none takes unbounded time or memory. ``make fuzz`` runs
the same targets under atheris (coverage-guided) and counts the inputs.
"""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.sources.ingest import IngestServer
from streams.errors import InvalidItem
from streams.records import MAX_TEXT_CHARS
from streams.stages import ClusterOutput, ClusterStage, DeadLetter

STAGE = ClusterStage()

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=50),
)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=40,
)
_hostile_text = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Mn", "So"]), max_size=400),
    st.builds(lambda w, n: " ".join([w] * n), st.text(min_size=1, max_size=12), st.integers(1, 3000)),
    st.builds(
        lambda c, n: c * n, st.characters(exclude_categories=["Cs"]), st.integers(1, MAX_TEXT_CHARS + 10)
    ),
)


def _process(raw: bytes) -> None:
    out = STAGE.process(raw)
    assert isinstance(out, ClusterOutput | DeadLetter)
    if isinstance(out, DeadLetter):
        assert out.reason and out.raw == raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_random_bytes_become_an_item_or_a_dead_letter(raw: bytes) -> None:
    _process(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_any_json_value_becomes_an_item_or_a_dead_letter(value: object) -> None:
    _process(orjson.dumps(value))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    _hostile_text,
    st.sampled_from(["2021-09-06T05:00:00Z", 1630904400, "not a time", None, 10**18, -(10**18), 1e300]),
)
def test_hostile_texts_and_times_are_handled(text: str, created: object) -> None:
    _process(orjson.dumps({"id": "fuzz", "text": text, "created_at": created}))


def test_deep_huge_and_broken_documents_are_dead_lettered_with_reasons() -> None:
    cases = {
        b"[" * 150_000 + b"]" * 150_000: "too_large",
        b"[" * 5_000 + b"]" * 5_000: "malformed_json",  # deeper than the parser allows
        b'{"id": "x", "text": "\\ud800", "created_at": 1}': "malformed_json",  # a lone surrogate
        b'{"id": "x", "text": "caf\xe9", "created_at": 1}': "not_utf8",
        b'{"id": "x", "text": "' + b"a" * 300_000 + b'", "created_at": 1}': "too_large",
        b'{"id": "x", "text": "a", "created_at": 1e400}': "malformed_json",
    }
    for raw, reason in cases.items():
        out = STAGE.process(raw)
        assert isinstance(out, DeadLetter) and out.reason == reason, (raw[:40], out)


_deep = st.integers(1, 1100).map(lambda d: b"[" + b"[" * d + b"]" * d + b"]")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000) | _json.map(orjson.dumps) | _deep)
def test_the_ingest_parser_answers_every_body(body: bytes) -> None:
    lines = IngestServer._json_lines(body)
    if isinstance(lines, list):
        for line in lines:
            if isinstance(line, InvalidItem):
                assert line.reason == "too_deep"
                continue
            try:
                IngestServer._item(line, "fuzz")
            except InvalidItem as exc:
                assert exc.reason
