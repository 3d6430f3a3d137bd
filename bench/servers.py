"""Part 3 and 4: the servers under wrk, alternating, with their memory idle and under load."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import contenders
from common import APPS, HOST, WORK, Group, median
from contenders import Contender
from envs import Project
from load import Load, fetch, finish_wrk, memory_mib, port_is_free, start_wrk, wait_ready

BASE_PORT = 18300
TARGETS = {"flask": 4.0, "fastapi": 2.0}  # generated / naive requests per second
SHIPPED = {"flask": "gunicorn", "fastapi": "uvicorn"}  # the server each generated project runs
WITHIN_BEST = 0.90  # generated >= 90 % of the best configuration found


def base_env(project: Project, port: int) -> dict[str, str]:
    """What every contender runs with: loopback, its port, no WEB_CONCURRENCY, a secret key."""
    env = {k: v for k, v in os.environ.items() if k not in {"WEB_CONCURRENCY", "ACCESS_LOG"}}
    env.update(
        HOST=HOST,
        PORT=str(port),
        BENCH_PACKAGE=project.package,
        FLASK_SECRET_KEY="bench-only-not-a-secret",
        PYTHONPATH=str(APPS),
    )
    return env


def start_all(project: Project, entries: list[Contender]) -> list[tuple[Contender, Group, int]]:
    """Start the generated server first (its /hello answer feeds the ceiling), then the rest."""
    started: list[tuple[Contender, Group, int]] = []
    response = ""
    for index, contender in enumerate(entries):
        port = BASE_PORT + index + (20 if project.framework == "fastapi" else 0)
        if not port_is_free(port):
            raise RuntimeError(f"port {port} is taken; stop what listens there")
        env = base_env(project, port) | contender.env
        env |= {"BENCH_RESPONSE": response} if response else {}
        log = WORK / "logs" / f"{project.framework}-{index}.log"
        group = Group.start(contender.name, contender.command(port), env, log)
        started.append((contender, group, port))
        wait_ready(group, port)
        if contender.role == "generated":
            _, headers, body = fetch(port)
            response = json.dumps({"headers": headers, "body": body})
        print(f"  up: {contender.name} on {port}", flush=True)
    return started


def stop_all(started: list[tuple[Contender, Group, int]]) -> dict[str, dict[str, Any]]:
    """SIGTERM each server's group: seconds to exit and exit code (None: had to be killed)."""
    result = {}
    for contender, group, _ in started:
        seconds, code = group.stop()
        result[contender.name] = {"shutdown_s": seconds, "exit_code": code}
    return result


def measure_round(
    started: list[tuple[Contender, Group, int]], load: Load, index: int
) -> dict[str, dict[str, float]]:
    """One wrk run per server, in an order that rotates with the round; memory sampled mid-run."""
    shift = index % len(started)
    out = {}
    for contender, group, port in started[shift:] + started[:shift]:
        if not group.alive():
            raise RuntimeError(f"{contender.name} died:\n{group.log_tail()}")
        proc = start_wrk(load, port)
        time.sleep(load.seconds * 0.6)
        rss, pss = memory_mib(group.proc.pid)
        out[contender.name] = finish_wrk(proc, load.seconds) | {"rss_mib": rss, "pss_mib": pss}
    return out


def summarize(samples: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Median of each number over the rounds (errors: the total)."""
    summary = {}
    for name, runs in samples.items():
        keys = runs[0].keys()
        summary[name] = {k: median([r[k] for r in runs]) for k in keys}
        summary[name]["errors"] = sum(r["errors"] for r in runs)
        summary[name]["requests"] = sum(r["requests"] for r in runs)
    return summary


def measure_framework(project: Project, load: Load, rounds: int) -> dict[str, Any]:
    """Start every contender of one framework, warm them, alternate wrk runs, stop them."""
    entries = getattr(contenders, project.framework)(project)
    started: list[tuple[Contender, Group, int]] = []
    try:
        started = start_all(project, entries)
        time.sleep(2)
        idle = {c.name: memory_mib(g.proc.pid) for c, g, _ in started}
        for _, _, port in started:  # warm-up: imports, caches, lazily started workers
            finish_wrk(start_wrk(load, port, seconds=2), 2)
        samples: dict[str, list[dict[str, float]]] = {c.name: [] for c in entries}
        for index in range(rounds):
            for name, numbers in measure_round(started, load, index).items():
                samples[name].append(numbers)
            print(f"  {project.framework} round {index + 1}/{rounds}", flush=True)
    finally:
        shutdown = stop_all(started)
    return verdict(project, entries, summarize(samples), idle, shutdown)


def verdict(
    project: Project,
    entries: list[Contender],
    summary: dict[str, dict[str, float]],
    idle: dict[str, tuple[float, float]],
    shutdown: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Rows per contender plus the ratios the targets are about."""
    by_role = {c.role: c.name for c in entries if c.role != "alternative"}
    real = [c.name for c in entries if c.role in {"generated", "alternative"}]
    best = max(real, key=lambda name: summary[name]["rps"])
    shipped = SHIPPED[project.framework]
    same = [n for n in real if n.startswith(("generated", f"{shipped} "))]
    best_same = max(same, key=lambda name: summary[name]["rps"])
    gen = summary[by_role["generated"]]["rps"]
    rows = []
    for c in entries:
        row = {"name": c.name, "role": c.role, "command": contenders.shown(c)}
        row |= summary[c.name] | shutdown.get(c.name, {})
        row |= {"idle_rss_mib": idle[c.name][0], "idle_pss_mib": idle[c.name][1]}
        rows.append(row)
    return {
        "package": project.package,
        "rows": rows,
        "best": best,
        "ratio_to_naive": gen / summary[by_role["naive"]]["rps"],
        "ratio_to_ceiling": gen / summary[by_role["ceiling"]]["rps"],
        "ratio_to_best": gen / summary[best]["rps"],
        "shipped_server": shipped,
        "best_same_server": best_same,
        "ratio_to_best_same_server": gen / summary[best_same]["rps"],
        "target_to_naive": TARGETS[project.framework],
        "target_to_best": WITHIN_BEST,
    }
