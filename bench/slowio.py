"""Part 5: Flask under slow I/O, which gunicorn thread count serves views that wait best.

Every contender is the generated gunicorn config (workers as shipped: one per CPU, at least 2)
with another --threads, serving the generated app plus GET /slow (apps/slow_flask.py), which
sleeps 50 ms like a view waiting on a database or an HTTP API. Each round runs wrk on /slow
(128 connections: many requests waiting at once) and on /hello (64, the fast path: what many
threads cost in GIL contention) against every contender, in an order that rotates each round.
"""

from __future__ import annotations

import os
import time
from typing import Any

from common import APPS, WORK, Group, median
from envs import Project
from load import Load, finish_wrk, start_wrk, wait_ready
from servers import base_env

THREADS = (4, 8, 16, 32, 64)
SHIPPED = {8: "default", 32: "high_concurrency"}  # what gunicorn_conf.py.jinja sets
PORT = 18400
SLOW = Load(connections=128, path="/slow", timeout=5)
FAST = Load(connections=64)
DRAIN_SECONDS = 2.0


def measure(project: Project, rounds: int, seconds: int) -> dict[str, Any]:
    """Start one server per thread count, alternate wrk runs on /slow and /hello, stop them."""
    conf = [project.python, "-m", "gunicorn", "--config", f"python:{project.package}.gunicorn_conf"]
    started: list[tuple[int, Group, int]] = []
    samples: dict[str, list[dict[str, float]]] = {}
    try:
        for index, threads in enumerate(THREADS):
            port = PORT + index
            env = base_env(project, port) | {"PYTHONPATH": str(APPS)}
            argv = [*conf, "--threads", str(threads), "slow_flask:app"]
            log = WORK / "logs" / f"slow-{threads}.log"
            group = Group.start(f"threads={threads}", argv, env, log)
            started.append((threads, group, port))
            wait_ready(group, port)
        for _, _, port in started:  # warm-up
            finish_wrk(start_wrk(SLOW, port, seconds=1), 1)
        for index in range(rounds):
            shift = index % len(started)
            for threads, group, port in started[shift:] + started[:shift]:
                if not group.alive():
                    raise RuntimeError(f"threads={threads} died:\n{group.log_tail()}")
                for load in (SLOW, FAST):
                    numbers = finish_wrk(start_wrk(load, port, seconds), seconds)
                    samples.setdefault(f"{threads} {load.path}", []).append(numbers)
                    # wrk stops, but the requests queued behind the busy threads still run
                    # (128 x 50 ms / 8 threads: 0.8 s); let them drain before the next run.
                    time.sleep(DRAIN_SECONDS)
            print(f"  slow I/O round {index + 1}/{rounds}", flush=True)
    finally:
        for _, group, _ in started:
            group.stop()
    rows = []
    for threads in THREADS:
        row: dict[str, Any] = {"threads": threads, "shipped": SHIPPED.get(threads, "")}
        for key, load in (("slow", SLOW), ("hello", FAST)):
            runs = samples[f"{threads} {load.path}"]
            row[key] = {name: median([r[name] for r in runs]) for name in ("rps", "p99_ms")}
            row[key]["errors"] = sum(r["errors"] for r in runs)
        rows.append(row)
    return {
        "rounds": rounds,
        "seconds": seconds,
        "pause_ms": 50,
        "workers": max(2, len(os.sched_getaffinity(0))),  # as gunicorn_conf.py.jinja has it
        "loads": {"slow": vars(SLOW), "hello": vars(FAST)},
        "command": " ".join([*conf, "--threads", "N", "slow_flask:app"]),
        "rows": rows,
    }
