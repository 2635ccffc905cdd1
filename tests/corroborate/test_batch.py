"""``corroborate match-pairs`` and ``corroborate cluster``: one output line per input line, in order."""

from __future__ import annotations

import io
import subprocess

import orjson

from corroborate.batch import alert_items, cluster_items, match_pairs, stance_lines
from corroborate.config import Settings
from tests.conftest import CLI, SCENARIO

SETTINGS = Settings.from_env({})


def _lines(data: bytes) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in data.splitlines()]


def test_match_pairs_answers_each_line_and_marks_bad_ones() -> None:
    src = io.BytesIO(
        b'{"a": "Pakistani jets are bombing the Panjshir valley",'
        b' "b": "Pakistan air force jets bombing Panjshir valley"}\n'
        b"not json\n"
        b'{"a": "wow", "b": "this is huge"}\n'
        b'{"a": 1, "b": "x"}\n'
    )
    out = io.BytesIO()
    assert match_pairs(SETTINGS, src, out) == 1
    rows = _lines(out.getvalue())
    assert len(rows) == 4
    assert rows[0]["same"] is True and 0.0 <= float(rows[0]["score"]) <= 1.0  # type: ignore[arg-type]
    assert "line 2" in str(rows[1]["error"]) and rows[1]["same"] is None
    assert rows[2] == {"same": False, "score": 0.0}
    assert "line 4" in str(rows[3]["error"])


def test_cluster_gives_the_scenario_claims_and_keeps_input_order() -> None:
    out = io.BytesIO()
    assert cluster_items(SETTINGS, io.BytesIO(SCENARIO.read_bytes()), out) == 0
    rows = _lines(out.getvalue())
    ids = [orjson.loads(line)["id"] for line in SCENARIO.read_bytes().splitlines()]
    assert [r["id"] for r in rows] == ids
    cluster = {str(r["id"]): str(r["cluster"]) for r in rows}
    jets = {"tw:1003", "tw:1004", "tw:1005", "tw:1007", "tw:1014", "rss:news18-0610", "rss:fpj-0640"}
    assert len({cluster[i] for i in jets}) == 1
    assert cluster["rss:reuters-0510"] == cluster["rss:timesnow-0520"] != cluster["tw:1003"]
    assert len({cluster[i] for i in ("tw:1002", "tw:1009", "tw:1010", "tw:1018")}) == 4  # unrelated posts


def test_cluster_reports_bad_items_in_place() -> None:
    src = io.BytesIO(b'{"id": "a", "text": "x", "created_at": "2021-09-06T05:00:00Z"}\n{"id": "b"}\n')
    out = io.BytesIO()
    assert cluster_items(SETTINGS, src, out) == 1
    rows = _lines(out.getvalue())
    assert rows[0]["id"] == "a" and rows[0]["cluster"]
    assert rows[1]["id"] == "b" and rows[1]["cluster"] is None and "missing_field" in str(rows[1]["error"])


def test_the_commands_read_stdin_and_write_stdout(cli_env: dict[str, str]) -> None:
    done = subprocess.run(
        [*CLI, "match-pairs"],
        input=b'{"a": "Taliban took Panjshir valley today", "b": "Taliban took Panjshir valley today"}\n',
        env=cli_env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout)[0]["same"] is True
    done = subprocess.run(
        [*CLI, "stance"],
        input=b'{"target": "Taliban took Panjshir", "text": "Taliban took Panjshir? source?"}\n',
        env=cli_env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout)[0]["stance"] == "query"


def test_stance_answers_each_line_in_order_and_marks_bad_ones() -> None:
    claim = "The Taliban have captured Panjshir valley"
    rows_in = [
        {"target": claim, "text": "Reports that Panjshir has fallen are fake"},
        {"target": claim, "text": "Is it true the Taliban have captured Panjshir valley?"},
        {"target": claim, "text": claim},
    ]
    src = io.BytesIO(b"\n".join(orjson.dumps(r) for r in rows_in) + b'\n{"target": 3}\n')
    out = io.BytesIO()
    assert stance_lines(SETTINGS, src, out) == 1
    rows = _lines(out.getvalue())
    assert [r["stance"] for r in rows] == ["deny", "query", "support", None]
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows[:3])  # type: ignore[arg-type]
    assert "line 4" in str(rows[3]["error"])


def test_alerts_gives_every_alert_of_the_scenario_with_unique_ids() -> None:
    out = io.BytesIO()
    assert alert_items(SETTINGS, io.BytesIO(SCENARIO.read_bytes() + b"not json\n"), out) == 1
    rows = _lines(out.getvalue())
    alerts, errors = [r for r in rows if "alert_id" in r], [r for r in rows if "error" in r]
    assert len(errors) == 1 and len({a["alert_id"] for a in alerts}) == len(alerts)
    assert {"CORROBORATED", "CONTESTED"} <= {a["state"] for a in alerts}
