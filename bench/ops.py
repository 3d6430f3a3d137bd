"""What operations cost (issue 20): GET /hello and GET /items/{id} with metrics off, on (the
default), and on with traces exported, side by side in one run; writes section 8 of RESULTS.md.

    python bench/ops.py                      # both frameworks, 40 rounds: about 20 minutes
    python bench/ops.py --rounds 3 --frameworks fastapi

Each framework's main project (newapp create --yes, SQLite) is rendered from this checkout's
template and installed in its own venv under bench/.work/; its database is migrated and seeded
with ITEMS items. Three servers of it run at once on 127.0.0.1, 2 workers each, access log off:
`off` (METRICS_ENABLED=false), `metrics` (the defaults) and `traces` (the defaults plus
OTEL_EXPORTER_OTLP_ENDPOINT, pointing at a sink in this process that answers every export
with 200 and drops it). Each round gives every server one wrk run per path, in an order that
rotates; the numbers are medians, and ratios are to `off` within the same round. Many short
rounds rather than a few long ones: a round's ratio moves by 5-10 % with the other tenants'
load, and a 5 % target needs the median's 95 % confidence interval (shown) to be narrower.
The servers are started afresh every RESTART_EVERY rounds (see there).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import envs
from common import BENCH, HOST, WORK, Group, load_average, median, run
from database import DbLoad
from load import finish_wrk, start_wrk, tree_pids, wait_ready

RESULTS_MD = BENCH / "RESULTS.md"
RAW = WORK / "ops.json"
HEADING = "## 8. Operations: metrics and traces (issue 20)"
ITEMS = 200
CONTENDERS = ("off", "metrics", "traces")
PATHS = ("hello", "get")
# Fresh servers every this many rounds: one server process runs a few per cent faster or slower
# than another of the same code for as long as it lives (two `off` servers beside a third:
# 1.005 and 1.017 its CPU per request), so a run on one set of processes measures them as much
# as the code. Restarts put that in the rounds' spread, and so in the interval.
RESTART_EVERY = 10  # items.lua's modes: GET /hello, GET /items/{a random seeded id}


def sink() -> ThreadingHTTPServer:
    """An OTLP/HTTP endpoint that takes every export and drops it (a collector's stand-in)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def setup(framework: str) -> envs.Project:
    """The main project, rendered from this checkout and installed in bench/.work/."""
    template = envs.copy_template()
    path = WORK / f"ops-project-{framework}"
    shutil.rmtree(path, ignore_errors=True)
    name = f"ops-{framework}"
    cmd = [envs.bin_of("newapp"), "create", "--yes", "--framework", framework, "--name", name]
    # No sign-in, so the seeding and the reads need no token (bench/signin.py measures tokens).
    cmd += ["--no-auth"]
    # For the Python running this (the default, 3.14, may not be on the machine).
    here = f"python_version={sys.version_info.major}.{sys.version_info.minor}"
    env = {**envs.template_env(), "NEWAPP_TEMPLATE_DIR": str(template)}
    run([*cmd, *envs.AUTHOR, "--data", here, str(path)], env=env)
    project = envs.Project(framework, name.replace("-", "_"), path, WORK / f"ops-venv-{framework}")
    envs.new_venv(project.venv, [str(path)])
    return project


def server_env(
    project: envs.Project, port: int, database: Path, extra: dict[str, str]
) -> dict[str, str]:
    env = {
        "PATH": str(Path(project.python).parent) + ":/usr/bin:/bin",
        "HOST": HOST,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": f"sqlite:///{database}",
        "FLASK_SECRET_KEY": "bench-only",
        "LOG_FORMAT": "json",
        **extra,
    }
    return env


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by the process tree under `root` (its workers)."""
    ticks = 0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def one_run(group: Group, port: int, load: DbLoad, seconds: int) -> dict[str, float]:
    """One wrk run, with the CPU time the server spent per request: on a shared machine the
    requests/s follow the other tenants' load, the CPU a request costs much less."""
    before = cpu_seconds(group.proc.pid)
    result = finish_wrk(start_wrk(load, port), seconds)
    spent = cpu_seconds(group.proc.pid) - before
    return {**result, "cpu_us": spent / max(result["requests"], 1) * 1e6}


def seed(port: int, headers: dict[str, str] | None = None) -> None:
    """ITEMS items, written through the API (as `headers`' user, where it needs one)."""
    for number in range(ITEMS):
        body = json.dumps({"name": f"item {number}", "description": "seeded"}).encode()
        request = urllib.request.Request(
            f"http://{HOST}:{port}/items",
            body,
            {"Content-Type": "application/json", **(headers or {})},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 201


def measure(framework: str, rounds: int, seconds: int) -> dict[str, Any]:
    project = setup(framework)
    folder = WORK / f"ops-db-{framework}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    collector = sink()
    extras = {
        "off": {"METRICS_ENABLED": "false"},
        "metrics": {},
        "traces": {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{HOST}:{collector.server_port}"},
    }
    envs_by_name = {}
    for offset, name in enumerate(CONTENDERS):
        port = 18600 + offset + (10 if framework == "fastapi" else 0)
        envs_by_name[name] = server_env(project, port, folder / f"{name}.db", extras[name])
        run([project.python, "-m", project.package, "migrate"], env=envs_by_name[name], cwd=folder)
    started: dict[str, tuple[Group, int]] = {}
    try:
        samples: dict[str, dict[str, list[dict[str, float]]]] = {
            path: {name: [] for name in CONTENDERS} for path in PATHS
        }
        for number in range(rounds):
            if number % RESTART_EVERY == 0:
                restart(project, folder, envs_by_name, started, seed_them=number == 0)
            order = CONTENDERS[number % 3 :] + CONTENDERS[: number % 3]
            for path in PATHS:
                for name in order:
                    load = DbLoad(seconds=seconds, mode=path, low=1, high=ITEMS)
                    group, port = started[name]
                    samples[path][name].append(one_run(group, port, load, seconds))
            print(f"{framework}: round {number + 1}/{rounds} done", flush=True)
    finally:
        for group, _ in started.values():
            group.stop()
        collector.shutdown()
    return {"versions": envs.versions(project.python), "samples": samples}


def restart(
    project: envs.Project,
    folder: Path,
    envs_by_name: dict[str, dict[str, str]],
    started: dict[str, tuple[Group, int]],
    seed_them: bool,
) -> None:
    """(Re)start the three servers, each on its own database (seeded the first time)."""
    for group, _ in started.values():
        group.stop()
    for name, env in envs_by_name.items():
        group = Group.start(
            f"{project.framework}-{name}",
            [project.python, "-m", project.package],
            env,
            folder / f"{name}.log",
            cwd=folder,
        )
        port = int(env["PORT"])
        started[name] = (group, port)
        wait_ready(group, port, timeout=120)
        if seed_them:
            seed(port)


def summary(samples: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Per contender: median requests/s, p99, errors, and the median of per-round ratios to off."""
    out = {}
    for name, runs in samples.items():
        pairs = list(zip(runs, samples["off"], strict=True))
        ratios = [run["rps"] / base["rps"] for run, base in pairs]
        cpu_ratios = [run["cpu_us"] / base["cpu_us"] for run, base in pairs]
        low, high = median_bounds(cpu_ratios)
        out[name] = {
            "cpu_us": median([run["cpu_us"] for run in runs]),
            "cpu_ratio": median(cpu_ratios),
            "cpu_low": low,
            "cpu_high": high,
            "rps": median([run["rps"] for run in runs]),
            "p99_ms": median([run["p99_ms"] for run in runs]),
            "errors": sum(run["errors"] for run in runs),
            "ratio": median(ratios),
        }
    return out


def median_bounds(values: list[float]) -> tuple[float, float]:
    """A 95 % confidence interval for the median of `values`, from their order statistics (no
    assumption about their distribution): on a shared machine one round's ratio moves by
    5-10 %, so a median of a few rounds alone cannot tell 1.04 from 1.06."""
    ordered = sorted(values)
    n = len(ordered)
    k = max(0, int((n - 1.96 * n**0.5) / 2))
    return ordered[k], ordered[n - 1 - k]


def section(results: dict[str, Any], rounds: int, seconds: int, load: str) -> list[str]:
    lines = [
        HEADING,
        "",
        f"Measured by `python bench/ops.py --rounds {rounds}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load} (the machine "
        "is shared with other developers' test suites: absolute numbers move between runs; the "
        "ratios are per round, the three servers side by side, started afresh every "
        f"{RESTART_EVERY} rounds). Each framework's main project "
        "(SQLite), 2 workers, access log off, `wrk -t2 -c64 "
        f"-d{seconds}s` per server and path per round; `GET /items/{{id}}` reads one of "
        f"{ITEMS} seeded items at random. `off` is `METRICS_ENABLED=false`; `metrics` the "
        "defaults; `traces` the defaults plus `OTEL_EXPORTER_OTLP_ENDPOINT` (a sink in the "
        "bench process takes the exports: a collector's work is not counted, its CPU is).",
        "",
        "CPU per request is the servers' user + system CPU time over a run divided by the "
        "requests it answered (from /proc): it depends far less on the other tenants' load "
        "than requests/s do, so it is the figure the target is judged by. Each ratio is the "
        "median of the rounds' ratios; in brackets, a 95 % confidence interval for it (from the "
        "rounds' order statistics): one round's ratio moves by 5-10 % with the other tenants.",
        "",
        "| framework | path | CPU/request off | metrics | metrics / off (95 % CI) | traces "
        "| traces / off | req/s off / metrics / traces | req/s metrics / off | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for framework, result in results.items():
        for path in PATHS:
            s = summary(result["samples"][path])
            shown = "/hello" if path == "hello" else "/items/{id}"
            errors = int(sum(s[name]["errors"] for name in CONTENDERS))
            cpu = {name: s[name]["cpu_us"] for name in CONTENDERS}
            rps = " / ".join(f"{s[name]['rps']:.0f}" for name in CONTENDERS)
            low, high = s["metrics"]["cpu_low"], s["metrics"]["cpu_high"]
            lines.append(
                f"| {framework} | `GET {shown}` | {cpu['off']:.0f} us | {cpu['metrics']:.0f} us"
                f" | {s['metrics']['cpu_ratio']:.3f} ({low:.3f}-{high:.3f})"
                f" | {cpu['traces']:.0f} us | "
                f"{s['traces']['cpu_ratio']:.3f} | {rps} | {s['metrics']['ratio']:.3f} | {errors} |"
            )
    return [*lines, ""]


def write_section(lines: list[str], heading: str = HEADING) -> None:
    """Replace the section of RESULTS.md under `heading` where it stands (or add it before the
    server commands), a blank line before the next heading."""
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    parts = text.split("\n## ")
    new = "\n".join(lines).strip().removeprefix("## ") + "\n"
    at = next((i for i, p in enumerate(parts) if ("## " + p).startswith(heading)), None)
    if at is None:
        at = next((i for i, p in enumerate(parts) if p.startswith("Server commands")), len(parts))
        parts.insert(at, new)
    else:
        parts[at] = new
    RESULTS_MD.write_text("\n## ".join(parts).rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--frameworks", default="flask,fastapi")
    args = parser.parse_args()
    envs.ensure_apt("wrk")
    load = load_average()
    results = {}
    for framework in args.frameworks.split(","):
        results[framework] = measure(framework, args.rounds, args.seconds)
    load = f"{load} at the start, {load_average()} at the end"
    WORK.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps(results, indent=2))
    write_section(section(results, args.rounds, args.seconds, load))
    print("\n".join(section(results, args.rounds, args.seconds, load)))


if __name__ == "__main__":
    sys.exit(main())
