from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corroborate.broker import EmbeddedBroker, metadata_ready

pytestmark = pytest.mark.broker


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); check its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_broker_answers_metadata_and_stops(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "b.log").start()
    assert metadata_ready("127.0.0.1", broker.port)
    pid = broker.pid
    assert pid is not None
    broker.stop()
    assert not _alive(pid)
    assert not metadata_ready("127.0.0.1", broker.port, timeout=0.2)


def test_two_brokers_get_different_ports(tmp_path: Path) -> None:
    with (
        EmbeddedBroker(log_path=tmp_path / "a.log") as a,
        EmbeddedBroker(log_path=tmp_path / "b.log") as b,
    ):
        assert a.port != b.port


def test_broker_dies_with_a_killed_parent(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from corroborate.broker import EmbeddedBroker;"
        f"b = EmbeddedBroker(log_path=Path({str(tmp_path / 'c.log')!r})).start();"
        "print(b.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert _alive(child_pid)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid), "orphan broker left behind"
