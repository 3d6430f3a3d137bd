"""The Pythons a project may start from that this machine cannot run (3.14 and 3.15 here): every
dependency of every generated variant resolves to binary wheels for them, and a project's own
ruff and mypy are clean targeting them. Runtime tests stay on the Pythons the machine has
(test_generated_e2e.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from projects import FRAMEWORKS, MAIN, MypyCaches, stamp
from support import DATABASES, find_python, render, run, run_ok, uv_executable

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

CHOICES = [
    str(v) for v in yaml.safe_load((REPO / "copier.yml").read_text())["python_version"]["choices"]
]
UNRUNNABLE = [version for version in CHOICES if find_python(version) is None]

# Each framework's largest set of dependencies per database (and, for FastAPI, engine kind):
# every other answer set's dependencies are a subset of one of these, so it resolves too.
FLASK_ALL = {"app_kind": "web", "auto_docs": True, "type_validation": True}
FASTAPI_ALL = {"app_kind": "web", "high_concurrency": True}
RICHEST = {
    **{f"flask-{db}": {"framework": "flask", **FLASK_ALL, "database": db} for db in DATABASES},
    "fastapi-none": {"framework": "fastapi", **FASTAPI_ALL, "database": "none"},
    **{
        f"fastapi-{db}-{'async' if aio else 'sync'}": {
            "framework": "fastapi",
            **FASTAPI_ALL,
            "async_ok": aio,
            "database": db,
        }
        for db in DATABASES
        if db != "none"
        for aio in (True, False)
    },
}
# The platform of the Docker image the project builds (python:X-slim, Debian's glibc).
PLATFORM = "x86_64-manylinux_2_28"


@pytest.mark.xdist_group("new-pythons")
@pytest.mark.parametrize("answers", list(RICHEST.values()), ids=list(RICHEST))
@pytest.mark.parametrize("version", UNRUNNABLE)
def test_every_dependency_has_wheels_for_the_python(
    tmp_path: Path, template_copy: Path, version: str, answers: dict[str, Any]
) -> None:
    project = render(tmp_path / "project", {**answers, "python_version": version}, template_copy)
    compile_ = [uv_executable(), "pip", "compile", "pyproject.toml", "--extra", "dev", "--quiet"]
    compile_ += ["--python-version", version, "--python-platform", PLATFORM]
    compile_ += ["--only-binary", ":all:", "--output-file", tmp_path / "pinned.txt"]
    result = run(compile_, project, timeout=120)
    assert result.returncode == 0, result.stderr
    pinned = (tmp_path / "pinned.txt").read_text()
    assert f"{answers['framework']}==" in pinned


# What ruff reads: the richest code of each framework and database, for a web app and an API.
CODE = [
    *RICHEST.values(),
    *({**a, "app_kind": "api"} for a in RICHEST.values() if a["database"] == "sqlite"),
]


@pytest.mark.xdist_group("new-pythons")
@pytest.mark.parametrize("version", UNRUNNABLE)
def test_ruff_is_clean_targeting_the_python(
    tmp_path: Path, template_copy: Path, version: str
) -> None:
    """Ruff changes what it asks for with its target (for 3.14 it formats `except (A, B):`
    without the parentheses): each project's own ruff config, rendered for `version`."""
    for number, answers in enumerate(CODE):
        render(tmp_path / str(number), {**answers, "python_version": version}, template_copy)
    target = ["--target-version", f"py{version.replace('.', '')}"]
    # One run over all the projects; ruff reads each file's nearest pyproject.toml.
    for check in (["check", *target, "."], ["format", "--check", *target, "."]):
        run_ok([sys.executable, "-m", "ruff", *check], tmp_path)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_mypy_is_clean_for_the_newest_python(
    projects: Any, mypy_cache: MypyCaches, tmp_path: Path, template_copy: Path, framework: str
) -> None:
    """The main project rendered for the newest Python offered, type-checked by its installed
    twin (same answers, this machine's Python). The newest stands for the ones between: the
    type stubs drop what a release removes from that release on, and the Pythons this machine
    has check the oldest end."""
    newest = CHOICES[-1]
    twin = projects(MAIN[framework])
    answers = {**MAIN[framework].answers(), "python_version": newest}
    project = render(tmp_path / "project", answers, template_copy)
    stamp(project, f"{MAIN[framework].build}-py{newest}")
    with mypy_cache.seeded(newest) as cache:
        env = twin.env(MYPY_CACHE_DIR=str(cache))
        run_ok([twin.python, "-m", "mypy", "--python-version", newest], project, env)
