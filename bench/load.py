"""Load and measurement: wrk runs, readiness checks, and the memory of a process tree."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from common import BENCH, HOST, Group

LUA = BENCH / "report.lua"
PATH = "/hello"
SKIPPED_HEADERS = {"date", "server", "content-length", "connection", "keep-alive"}


@dataclass(frozen=True)
class Load:
    """wrk's shape: threads, open connections, seconds, the path and wrk's request timeout."""

    threads: int = 2
    connections: int = 64
    seconds: int = 3
    path: str = PATH
    timeout: int = 2

    def argv(self, port: int, seconds: int | None = None) -> list[str]:
        return [
            "wrk",
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{seconds or self.seconds}s",
            "--timeout",
            f"{self.timeout}s",
            "-s",
            str(LUA),
            f"http://{HOST}:{port}{self.path}",
        ]


def start_wrk(load: Load, port: int, seconds: int | None = None) -> subprocess.Popen[str]:
    """Start one bounded wrk run against 127.0.0.1:port."""
    return subprocess.Popen(
        load.argv(port, seconds), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wrk_json(proc: subprocess.Popen[str], seconds: int) -> dict[str, float]:
    """Wait for wrk and return the BENCH_JSON line its lua script printed, parsed."""
    out, err = proc.communicate(timeout=seconds + 30)
    line = next((x for x in out.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {out[-800:]} {err[-800:]}")
    raw: dict[str, float] = json.loads(line.removeprefix("BENCH_JSON "))
    return raw


def finish_wrk(proc: subprocess.Popen[str], seconds: int) -> dict[str, float]:
    """Wait for wrk and return requests/s, p50/p99 latency (ms) and errors."""
    raw = wrk_json(proc, seconds)
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": float(errors),
        "requests": float(raw["requests"]),
    }


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) != 0


def fetch(port: int, path: str = PATH) -> tuple[int, list[list[str]], str]:
    """GET `path` (/hello) once: status, headers (minus per-server ones) and body."""
    url = f"http://{HOST}:{port}{path}"
    with urllib.request.urlopen(url, timeout=2) as response:
        headers = [[k, v] for k, v in response.getheaders() if k.lower() not in SKIPPED_HEADERS]
        return response.status, headers, response.read().decode()


def wait_ready(group: Group, port: int, timeout: float = 60.0, path: str = PATH) -> None:
    """Poll `path` (/hello) until it answers 200; fail with the server's log if it dies or never
    does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group.alive():
            raise RuntimeError(f"{group.name} exited early:\n{group.log_tail()}")
        try:
            if fetch(port, path)[0] == 200:
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{group.name} not ready after {timeout:.0f} s:\n{group.log_tail()}")


def tree_pids(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def memory_mib(root: int) -> tuple[float, float]:
    """Summed RSS and PSS (MiB) of the process tree under `root`. RSS counts pages that forked
    workers share once per worker; PSS splits them, so it adds up to the real total."""
    rss = pss = 0
    for pid in tree_pids(root):
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition(":")
            if key == "Rss":
                rss += int(value.split()[0])
            elif key == "Pss":
                pss += int(value.split()[0])
    return rss / 1024, pss / 1024
