"""Part 1: CLI start-up, newapp against python -c pass, copier and cookiecutter, alternating."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from common import median, timed
from envs import TOOLS, bin_of

TARGET = 1 / 3  # newapp --help at most a third of copier --help
STARTUP_MODULES = {
    "site",
    "encodings",
    "io",
    "abc",
    "codecs",
    "zipimport",
    "_frozen_importlib_external",
}


def commands() -> dict[str, list[str]]:
    """The contenders, each by absolute path (a pyenv shim would add its own start-up)."""
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "newapp --help": [bin_of("newapp"), "--help"],
        "newapp --version": [bin_of("newapp"), "--version"],
        "copier --help": [bin_of("copier"), "--help"],
    }
    cookiecutter = TOOLS / "bin" / "cookiecutter"
    if cookiecutter.exists():
        cmds["cookiecutter --help"] = [str(cookiecutter), "--help"]
    return cmds


def import_times(argv: list[str]) -> dict[str, float]:
    """Top-level packages (at any depth) a command imports, by cumulative ms (-X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.split("|")
        name = name.strip()
        if cumulative.strip().isdigit() and "." not in name:
            rows[name] = max(rows.get(name, 0.0), int(cumulative) / 1000)
    return rows


def importtime_rows(top: int = 10) -> list[tuple[str, float]]:
    """The heaviest imports of `newapp --help` that `python -c pass` does not pay for too."""
    baseline = import_times(["-c", "pass"])
    rows = import_times([bin_of("newapp"), "--help"])
    extra = [(name, ms) for name, ms in rows.items() if name not in baseline]
    return sorted(extra, key=lambda row: -row[1])[:top]


def measure(rounds: int, warmup: int = 2) -> dict[str, Any]:
    """Alternate the commands for `rounds` rounds; medians and ratios in ms."""
    cmds = commands()
    env = dict(os.environ)
    for _ in range(warmup):
        for cmd in cmds.values():
            timed(cmd, env)
    samples: dict[str, list[float]] = {name: [] for name in cmds}
    names = list(cmds)
    for index in range(rounds):
        shift = index % len(names)  # rotate the order so no one always runs first
        for name in names[shift:] + names[:shift]:
            samples[name].append(timed(cmds[name], env) * 1000)
        print(f"  start-up round {index + 1}/{rounds}", flush=True)
    medians = {name: median(values) for name, values in samples.items()}
    return {
        "rounds": rounds,
        "commands": {name: " ".join(cmd) for name, cmd in cmds.items()},
        "samples_ms": samples,
        "median_ms": medians,
        "ratio_help_to_copier": medians["newapp --help"] / medians["copier --help"],
        "target": TARGET,
        "importtime": importtime_rows(),
    }
