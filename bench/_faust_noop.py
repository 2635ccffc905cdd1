"""A faust worker with one agent that does nothing, counting N events; prints its rate."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import faust

from streams.app import AppConfig, create_app

bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app(AppConfig(bootstrap_servers=bootstrap, app_id=f"noop-{os.getpid()}"))
source = app.topic(topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
state = {"count": 0, "t0": 0.0}


@app.agent(source)
async def noop(stream: Any) -> None:
    async for _ in stream:
        if state["count"] == 0:
            state["t0"] = time.perf_counter()
        state["count"] += 1
        if state["count"] == n:
            rate = (n - 1) / (time.perf_counter() - state["t0"])
            sys.__stdout__.write(f"{rate}\n")
            sys.__stdout__.flush()
            os.kill(os.getpid(), 15)


faust.Worker(app, loglevel="ERROR", quiet=True, redirect_stdouts=False).execute_from_commandline()
