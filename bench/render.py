"""Part 2: rendering, `newapp create --yes` against `copier copy --defaults`, same answers."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path
from typing import Any

from common import WORK, median, timed
from envs import AUTHOR, TEMPLATE, bin_of, template_env

TARGET = 1.15  # newapp adds at most 15 % over copier itself
OUT = WORK / "render"
FRAMEWORKS = ("flask", "fastapi")


def commands(framework: str, dest: Path) -> dict[str, list[str]]:
    """newapp and plain copier, rendering the same plain template copy with the same answers."""
    name = f"bench-{framework}"
    newapp = [bin_of("newapp"), "create", "--yes", "--framework", framework, "--name", name]
    copier = [bin_of("copier"), "copy", "--defaults", "--quiet", "--data", f"framework={framework}"]
    return {
        f"newapp {framework}": [*newapp, *AUTHOR, str(dest / "newapp")],
        f"copier {framework}": [
            *copier,
            "--data",
            f"project_name={name}",
            *AUTHOR,
            str(TEMPLATE),
            str(dest / "copier"),
        ],
    }


def same_files(left: Path, right: Path) -> bool:
    """Whether two rendered trees hold the same files with the same bytes (newapp's _commit
    line in the answers file aside)."""
    cmp = filecmp.dircmp(left, right, ignore=[".copier-answers.yml"])
    return _equal(cmp)


def _equal(cmp: filecmp.dircmp[str]) -> bool:
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(_equal(sub) for sub in cmp.subdirs.values())


def one_round(index: int, env: dict[str, str]) -> dict[str, float]:
    """Each contender once, in an order that rotates with the round; ms per contender."""
    dest = OUT / str(index)
    cmds = {k: v for f in FRAMEWORKS for k, v in commands(f, dest / f).items()}
    names = list(cmds)
    shift = index % len(names)
    times = {name: timed(cmds[name], env) * 1000 for name in names[shift:] + names[:shift]}
    return times


def measure(rounds: int) -> dict[str, Any]:
    """Alternate newapp and copier for both frameworks; medians, ratios and a parity check."""
    shutil.rmtree(OUT, ignore_errors=True)
    env = template_env()
    one_round(-1, env)  # warm-up: file caches, .pyc files
    samples: dict[str, list[float]] = {}
    for index in range(rounds):
        for name, ms in one_round(index, env).items():
            samples.setdefault(name, []).append(ms)
        print(f"  render round {index + 1}/{rounds}", flush=True)
    parity = {f: same_files(OUT / "0" / f / "newapp", OUT / "0" / f / "copier") for f in FRAMEWORKS}
    shutil.rmtree(OUT, ignore_errors=True)
    medians = {name: median(values) for name, values in samples.items()}
    example = commands("flask", Path("DEST"))
    return {
        "rounds": rounds,
        "commands": {name: " ".join(cmd) for name, cmd in example.items()},
        "template": str(TEMPLATE),
        "samples_ms": samples,
        "median_ms": medians,
        "ratio": {f: medians[f"newapp {f}"] / medians[f"copier {f}"] for f in FRAMEWORKS},
        "same_files": parity,
        "target": TARGET,
    }
