"""Shared helpers: paths, medians, timed commands and servers in their own process groups."""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
APPS = BENCH / "apps"
HOST = "127.0.0.1"  # every server binds here and every load goes here: loopback only


def load_average() -> str:
    """The machine's load average over the last minute, as /proc/loadavg says it."""
    return Path("/proc/loadavg").read_text().split()[0]


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def run(
    cmd: Sequence[str],
    *,
    timeout: float = 900,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """Run a command to completion (bounded in time) and return its stdout; fail loudly."""
    result = subprocess.run(
        list(cmd),
        env=None if env is None else dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        shown = " ".join(cmd)
        raise RuntimeError(f"{shown} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result.stdout


def timed(cmd: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> float:
    """Wall-clock seconds of one run of `cmd`, output discarded; fails if the command fails."""
    start = time.perf_counter()
    subprocess.run(
        list(cmd),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        check=True,
    )
    return time.perf_counter() - start


@dataclass
class Group:
    """A process started in a new session, so that its whole tree is one process group."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(
        cls,
        name: str,
        cmd: Sequence[str],
        env: Mapping[str, str],
        log: Path,
        cwd: Path | None = None,
    ) -> Group:
        """Start `cmd` (in `cwd`, default ours) with stdout and stderr going to `log`."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                list(cmd),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name, proc, log)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 15.0) -> tuple[float, int | None]:
        """SIGTERM the group; SIGKILL it after `grace` s. Returns (seconds to exit, exit code,
        None when it had to be killed)."""
        if not self.alive():
            return 0.0, self.proc.returncode
        start = time.perf_counter()
        self._signal(signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            code = None
        self._signal(signal.SIGKILL)  # whatever is left of the group (orphaned workers)
        if code is None:
            self.proc.wait(timeout=10)
        return time.perf_counter() - start, code

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the group we created: pgid == our child's pid

    def log_tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:]
