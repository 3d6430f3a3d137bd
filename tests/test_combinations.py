"""Every combination of the when-to-use answers, for both frameworks, renders a clean project.

Rendering all 128 is cheap; installing them is not. So this module renders every one and
checks what needs no install (it compiles, ruff is clean, each item `newapp recommend` promises
is there), and proves which answers change a project's code: the end-to-end tests then install
one project per distinct code (support.distinct) and run its own tests, ruff and mypy.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from newapp.contents import contents
from support import code_signature, combinations, render

NOT_CODE = {"README.md", ".copier-answers.yml"}


def code_digest(project: Path) -> str:
    """A digest of every file except README.md and the answers file."""
    digest = hashlib.sha256()
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        relative = path.relative_to(project).as_posix()
        if relative not in NOT_CODE:
            digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_every_combination_renders_a_clean_project(framework: str, tmp_path: Path) -> None:
    digests: dict[tuple[Any, ...], set[str]] = {}
    projects = []
    for number, answers in enumerate(combinations(framework)):
        project = render(tmp_path / f"p{number}", {**answers, "project_name": "p"})
        projects.append(project)
        for source in project.rglob("*.py"):
            compile(source.read_text(), str(source), "exec")  # writes no __pycache__
        for item in contents(answers):
            text = (project / item.path.format(package="p")).read_text()
            assert item.proof in text, f"{answers}: {item.text!r} not in {item.path}"
        digests.setdefault(code_signature(answers), set()).add(code_digest(project))
    # Same signature, same code: so installing one project per signature covers them all.
    assert all(len(found) == 1 for found in digests.values()), digests
    # And different signatures, different code: no answer in CODE_KEYS is a no-op.
    assert len({next(iter(found)) for found in digests.values()}) == len(digests)
    for command in (["check"], ["format", "--check"]):
        ruff = [sys.executable, "-m", "ruff", *command, "--no-cache", *map(str, projects)]
        result = subprocess.run(ruff, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
