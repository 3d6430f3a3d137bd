"""Generated projects as the end-to-end tests build them: answer sets, installs, servers."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support import (
    Server,
    clean_env,
    find_python,
    free_port,
    install,
    make_venv,
    render,
    start_server,
)


def _clamp(version: str, lowest: str = "3.11", highest: str = "3.13") -> str:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(part) for part in v.split("."))

    return min(max(version, lowest, key=key), highest, key=key)


# The Python running these tests, as the main projects' python_version answer (clamped to the
# versions the question offers); their virtualenvs use this interpreter, so they never skip.
CURRENT = _clamp(f"{sys.version_info.major}.{sys.version_info.minor}")
NAMES = {"flask": "Flask", "fastapi": "FastAPI"}
LONG_PACKAGE = "p" + "_abcdefghi" * 3 + "_abcdefgh"  # 40 characters, the most allowed
LONG_PROJECT = "-".join(["a12345678"] * 6) + "-abcd"  # 64 characters, the most allowed


@dataclass(frozen=True)
class Variant:
    """One rendered and installed project: its answers and how it is installed."""

    framework: str
    app_kind: str = "api"
    python_version: str = CURRENT
    editable: bool = True  # False installs the built wheel, which checks what it packages
    long_names: bool = False  # the longest names and port allowed: no line may get too long
    extra: tuple[tuple[str, Any], ...] = ()  # more answers (when-to-use ones)

    @property
    def id(self) -> str:
        long = "-long-names" if self.long_names else ""
        if self.extra:  # a combination: the when-to-use answers that are yes
            yes = [key for key, value in self.extra if value is True]
            named = [str(value) for key, value in self.extra if key == "database"]
            if len(self.extra) < 8:  # some answers given, the rest defaulted: name the noes too
                yes += [f"no-{key}" for key, value in self.extra if value is False]
            return "-".join(["combo", self.framework, self.app_kind, *named, *yes])
        return f"{self.framework}-{self.app_kind}-py{self.python_version}{long}"

    @property
    def package(self) -> str:
        if self.long_names:
            return LONG_PACKAGE
        answers = hashlib.sha256(repr(self.extra).encode()).hexdigest()[:6]
        return f"e2e_{self.framework}_{self.app_kind}_{answers}"

    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = {
            "framework": self.framework,
            "app_kind": self.app_kind,
            "python_version": self.python_version,
            "ci": True,
            "project_name": self.package.replace("_", "-"),
            "package_name": self.package,
        }
        answers.update(self.extra)
        if self.long_names:
            answers.update(project_name=LONG_PROJECT, port=65535)
        return answers


@dataclass(frozen=True)
class Project:
    """A rendered project with its own virtualenv."""

    variant: Variant
    root: Path
    python: Path

    @property
    def package(self) -> str:
        return self.variant.package

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(extra, venv_python=self.python)

    def server_env(self, port: int, **extra: str) -> dict[str, str]:
        secret = (
            {"FLASK_SECRET_KEY": "e2e-only-secret"} if self.variant.framework == "flask" else {}
        )
        return self.env(HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="2", **secret, **extra)


def by_framework(variants: list[Variant]) -> list[Any]:
    # One xdist group per framework: its tests share a worker, so its session fixtures (the
    # virtualenvs, the running server) are built once (with --dist loadgroup).
    return [pytest.param(v, id=v.id, marks=pytest.mark.xdist_group(v.framework)) for v in variants]


def by_variant(variants: list[Variant]) -> list[Any]:
    # One xdist group per variant: its tests share the one worker that builds it, and the
    # variants spread over the workers instead of queueing behind their framework's.
    return [pytest.param(v, id=v.id, marks=pytest.mark.xdist_group(v.id)) for v in variants]


FRAMEWORKS = [pytest.param(name, id=name, marks=pytest.mark.xdist_group(name)) for name in NAMES]


def builder(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Variant], Project]:
    """Render and install a variant on first use; later calls get the same project (the
    session fixture `projects` in conftest.py)."""
    built: dict[Variant, Project | BaseException] = {}

    def build(variant: Variant) -> Project:
        if variant not in built:
            try:
                built[variant] = _build(variant, tmp_path_factory.mktemp(variant.id))
            except Exception as error:  # remembered, so a broken install fails once, quickly
                built[variant] = error
        result = built[variant]
        if isinstance(result, BaseException):
            raise result
        return result

    return build


def _build(variant: Variant, where: Path) -> Project:
    python: str | Path | None = sys.executable
    if variant.python_version != CURRENT:
        python = find_python(variant.python_version)
    if python is None:
        pytest.skip(f"no Python {variant.python_version} here (looked in pyenv and PATH)")
    root = render(where / "project", variant.answers())
    venv_python = make_venv(root / ".venv", python)
    install(venv_python, root, editable=variant.editable)
    return Project(variant, root, venv_python)


def start(project: Project, log_dir: Path, **env: str) -> Server:
    port = free_port()
    return start_server(
        [project.python, "-m", project.package],
        project.server_env(port, **env),
        "127.0.0.1",
        port,
        log_dir,
        cwd=project.root,
    )


def answered(framework: str, app_kind: str = "api", **answers: Any) -> Variant:
    """A variant with these when-to-use (and database) answers, the rest defaulted."""
    return Variant(framework, app_kind, extra=tuple(sorted(answers.items())))


# Each framework's main project (database: sqlite, the default; FastAPI async, the default).
MAIN = {name: Variant(name) for name in NAMES}
# FastAPI's sync flavour (async_ok=no: a sync engine, plain def routes), with the outbound
# client of high_concurrency and its docs off until DOCS_ENABLED=true.
FASTAPI_SYNC = answered(
    "fastapi", async_ok=False, high_concurrency=True, auto_docs=False, database="sqlite"
)
# auto_docs and type_validation given: for a web app they default to no.
FASTAPI_WEB_IO = answered(
    "fastapi", "web", high_concurrency=True, auto_docs=True, type_validation=True, database="sqlite"
)
FASTAPI_WEB_PLAIN = answered("fastapi", "web", auto_docs=False, database="none")
# Flask validating from type hints without docs pages: OpenAPI on with FLASK_DOCS_ENABLED=true.
FLASK_WEB_TYPED = answered("flask", "web", auto_docs=False, type_validation=True, database="sqlite")
POSTGRES = {
    "flask": answered("flask", database="postgresql"),
    "fastapi-async": answered("fastapi", database="postgresql"),
    "fastapi-sync": answered("fastapi", async_ok=False, database="postgresql"),
}
