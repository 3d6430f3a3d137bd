"""Set-up: wrk from Debian, a plain copy of the template, the rendered projects and their venvs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from common import REPO, WORK, run

TEMPLATE = WORK / "template"  # copier.yml + template_* folders, no .git: no clone for anyone
TOOLS = WORK / "venv-tools"
# The projects target the Python running the bench (newapp's default, 3.14, may be newer than
# it, and uv refuses to install a project into a venv of an older Python).
AUTHOR = [
    "--data",
    "author_name=Bench",
    "--data",
    "author_email=bench@example.com",
    "--data",
    f"python_version={sys.version_info.major}.{sys.version_info.minor}",
]
EXTRA = {
    "flask": ["granian"],  # gunicorn comes with the project
    "fastapi": ["granian", "gunicorn", "uvicorn-worker"],
}


@dataclass(frozen=True)
class Project:
    """A rendered project, installed in its own venv."""

    framework: str
    package: str
    path: Path
    venv: Path

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")


def bin_of(name: str) -> str:
    """A console script of the Python running this (no pyenv shim in front of it)."""
    return str(Path(sys.executable).parent / name)


def ensure_apt(*tools: str) -> None:
    """Install Debian packages for the tools that are missing (wrk, hyperfine)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print(f"installing {' '.join(missing)} from Debian's packages", flush=True)
        run(["apt-get", "update"], timeout=600)
        run(["apt-get", "install", "-y", *missing], timeout=600)


def new_venv(path: Path, packages: list[str]) -> None:
    """A fresh venv at `path` on this Python, with `packages` installed by uv."""
    shutil.rmtree(path, ignore_errors=True)
    run(["uv", "venv", "-q", "--python", sys.executable, str(path)])
    run(["uv", "pip", "install", "-q", "-p", str(path / "bin" / "python"), *packages])


def copy_template() -> Path:
    """A plain, non-git copy of copier.yml and the template folders."""
    shutil.rmtree(TEMPLATE, ignore_errors=True)
    TEMPLATE.mkdir(parents=True)
    shutil.copy2(REPO / "copier.yml", TEMPLATE / "copier.yml")
    for folder in sorted(REPO.glob("template_*")):
        shutil.copytree(folder, TEMPLATE / folder.name)
    return TEMPLATE


def template_env() -> dict[str, str]:
    """The environment newapp renders in: the plain template copy."""
    return {**os.environ, "NEWAPP_TEMPLATE_DIR": str(TEMPLATE)}


def render_project(framework: str) -> Project:
    """Render bench-<framework> with `newapp create --yes` and install it with server extras."""
    path = WORK / f"project-{framework}"
    shutil.rmtree(path, ignore_errors=True)
    name = f"bench-{framework}"
    cmd = [bin_of("newapp"), "create", "--yes", "--framework", framework, "--name", name]
    run([*cmd, *AUTHOR, str(path)], env=template_env())
    project = Project(framework, name.replace("-", "_"), path, WORK / f"venv-{framework}")
    new_venv(project.venv, [str(path), *EXTRA[framework]])
    return project


def setup_tools() -> None:
    """The tools venv: matplotlib for the chart, cookiecutter for the start-up comparison."""
    new_venv(TOOLS, ["matplotlib", "cookiecutter"])


def versions(python: str) -> dict[str, str]:
    """Installed distributions of a venv, name -> version."""
    out = run(["uv", "pip", "list", "-p", python, "--format", "json"])
    return {item["name"].lower(): item["version"] for item in json.loads(out)}


def tool_version(cmd: list[str]) -> str:
    """First line a tool prints about its version."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else "?"
