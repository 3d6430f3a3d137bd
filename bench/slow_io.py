"""Flask under slow I/O: which gunicorn thread count serves views that wait 50 ms best.

    python bench/slow_io.py [--rounds N] [--seconds S]

Uses the Flask project and venv that `python bench/run.py` set up in bench/.work/. Every
contender is the generated gunicorn config (workers from the CPU count, as shipped) with a
different --threads, serving the generated app plus GET /slow (apps/slow_flask.py). Each round
runs wrk on /slow (128 connections: many requests waiting at once) and on /hello (64, the
fast path) against every contender in a rotating order. Writes bench/.work/slow_io.json and
prints a Markdown table for RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time

from common import APPS, HOST, WORK, Group, median
from envs import Project
from load import LUA, wait_ready
from servers import base_env

THREADS = (4, 8, 16, 32)
PORT = 18400


def wrk(port: int, path: str, connections: int, seconds: int) -> dict[str, float]:
    """One bounded wrk run on 127.0.0.1: requests/s, p99 ms, errors."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(LUA)]
    out = subprocess.run(
        [*argv, f"http://{HOST}:{port}{path}"],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    raw = json.loads(next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))[11:])
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    rps = raw["requests"] / (raw["duration_us"] / 1e6)
    return {"rps": rps, "p99_ms": raw["p99_us"] / 1000, "errors": float(errors)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    project = Project("flask", "bench_flask", WORK / "project-flask", WORK / "venv-flask")
    conf = [project.python, "-m", "gunicorn", "--config", f"python:{project.package}.gunicorn_conf"]
    started = []
    try:
        for index, threads in enumerate(THREADS):
            port = PORT + index
            env = base_env(project, port) | {"PYTHONPATH": str(APPS)}
            argv = [*conf, "--threads", str(threads), "slow_flask:app"]
            group = Group.start(f"t={threads}", argv, env, WORK / "logs" / f"slow-{threads}.log")
            started.append((threads, group, port))
            wait_ready(group, port)
        samples: dict[str, list[dict[str, float]]] = {}
        for round_index in range(args.rounds):
            shift = round_index % len(started)
            for threads, _, port in started[shift:] + started[:shift]:
                for path, connections in (("/slow", 128), ("/hello", 64)):
                    key = f"{threads} {path}"
                    samples.setdefault(key, []).append(wrk(port, path, connections, args.seconds))
            print(f"  round {round_index + 1}/{args.rounds}", flush=True)
            time.sleep(0.5)
    finally:
        for _, group, _ in started:
            group.stop()
    summary = {
        key: {name: median([run[name] for run in runs]) for name in runs[0]}
        for key, runs in samples.items()
    }
    (WORK / "slow_io.json").write_text(json.dumps(summary, indent=2))
    print("| threads per worker | /slow req/s | /slow p99 ms | /hello req/s | /hello p99 ms |")
    print("|---|---|---|---|---|")
    for threads in THREADS:
        slow, fast = summary[f"{threads} /slow"], summary[f"{threads} /hello"]
        print(
            f"| {threads} | {slow['rps']:.0f} | {slow['p99_ms']:.0f} | "
            f"{fast['rps']:.0f} | {fast['p99_ms']:.1f} |"
        )


if __name__ == "__main__":
    main()
