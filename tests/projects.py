"""Generated projects as the end-to-end tests build them: answer sets, builds, servers.

A variant is an answer set a test asks for; a build is one distinct project code (the answers
that change the code, the Python, how it is installed). Variants with the same code share one
build, and every test of a build carries that build's xdist group, so each distinct code is
rendered and installed once in the whole run, on one worker.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from newapp.questions import QuestionSet
from support import (
    FACTORS,
    REPO_ROOT,
    Server,
    clean_env,
    code_signature,
    find_python,
    free_port,
    install,
    make_venv,
    render,
    run_ok,
    start_server,
)


def _clamp(version: str, lowest: str = "3.11", highest: str = "3.13") -> str:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(part) for part in v.split("."))

    return min(max(version, lowest, key=key), highest, key=key)


# The Python running these tests, as the main projects' python_version answer (clamped to the
# versions the question offers); this interpreter can always run them, so they never skip.
CURRENT = _clamp(f"{sys.version_info.major}.{sys.version_info.minor}")


def interpreter(version: str) -> Path | None:
    """The Python that projects answering python_version=`version` are installed with."""
    found = find_python(version)
    return found or (Path(sys.executable) if version == CURRENT else None)


NAMES = {"flask": "Flask", "fastapi": "FastAPI"}
LONG_PACKAGE = "p" + "_abcdefghi" * 3 + "_abcdefgh"  # 40 characters, the most allowed
LONG_PROJECT = "-".join(["a12345678"] * 6) + "-abcd"  # 64 characters, the most allowed
# The answers that decide the code, in copier.yml's asking order (the defaults of later ones
# may follow earlier ones, so they are worked out in that order).
CODE_QUESTIONS = ("app_kind", *FACTORS, "framework", "database", "auth")


@cache
def _questions() -> QuestionSet:
    return QuestionSet(REPO_ROOT)


@dataclass(frozen=True)
class Variant:
    """An answer set a test asks for, and how its project is installed."""

    framework: str
    app_kind: str = "api"
    python_version: str = CURRENT
    editable: bool = True  # False installs the built wheel, which checks what it packages
    long_names: bool = False  # the longest names and port allowed: no line may get too long
    extra: tuple[tuple[str, Any], ...] = ()  # more answers (when-to-use ones, database)

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

    def code_answers(self) -> dict[str, Any]:
        """Every answer that decides the code: the given ones, the rest copier.yml's defaults."""
        questions = _questions()
        given = {"framework": self.framework, "app_kind": self.app_kind, **dict(self.extra)}
        answers: dict[str, Any] = {}
        for key in CODE_QUESTIONS:
            answers[key] = given[key] if key in given else questions.default(key, answers)
        return answers

    @property
    def code(self) -> tuple[Any, ...]:
        """What decides the files of this variant's project: the same for every variant whose
        project has the same text, however it is installed."""
        return (code_signature(self.code_answers()), self.python_version, self.long_names)

    @property
    def build(self) -> str:
        """The build this variant's code is: the same for every variant with the same code,
        installed the same way."""
        signature, python_version, _ = self.code  # long names: the suffix below
        key = (signature, python_version, self.editable)
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:6]
        return f"{self.framework}-{self.app_kind}-{digest}{'-long' if self.long_names else ''}"

    @property
    def package(self) -> str:
        if self.long_names:
            return LONG_PACKAGE
        return "e2e_" + self.build.replace("-", "_")

    def has_the_code_of(self, answers: dict[str, Any]) -> bool:
        """Whether a project made with `answers` (its answers file) has this variant's code:
        the same code answers and Python."""
        made = {key: answers.get(key) for key in CODE_QUESTIONS}
        return (made, answers.get("python_version")) == (self.code_answers(), self.python_version)

    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = {
            **self.code_answers(),
            "python_version": self.python_version,
            "ci": True,
            "project_name": self.package.replace("_", "-"),
            "package_name": self.package,
        }
        if self.long_names:
            answers.update(project_name=LONG_PROJECT, port=65535)
        return answers


@dataclass(frozen=True)
class Project:
    """A rendered project, installed in a virtualenv."""

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
        settings = {"HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2", **secret}
        return self.env(**{**settings, **extra})  # a test's own settings win


def grouped(name: str, variant: Variant) -> Any:
    """A variant as a test parameter named `name`, in its build's xdist group: the tests of one
    build run on the worker that built it (with --dist loadgroup), and the builds spread over
    the workers."""
    return pytest.param(variant, id=name, marks=pytest.mark.xdist_group(variant.build))


def by_variant(variants: list[Variant]) -> list[Any]:
    """Parameters for tests of these variants, named by their ids, each in its build's group."""
    return [grouped(v.id, v) for v in variants]


def builder(
    tmp_path_factory: pytest.TempPathFactory, template: Path
) -> Callable[[Variant], Project]:
    """Render (from `template`, a plain copy of the templates) and install a build on first
    use; later calls for the same code get the same project (the session fixture `projects` in
    conftest.py)."""
    built: dict[str, Project | BaseException] = {}
    venvs = Venvs(tmp_path_factory)

    def build(variant: Variant) -> Project:
        if variant.build not in built:
            try:
                where = tmp_path_factory.mktemp(variant.build)
                built[variant.build] = _build(variant, where, template, venvs)
            except Exception as error:  # remembered, so a broken install fails once, quickly
                built[variant.build] = error
        result = built[variant.build]
        if isinstance(result, BaseException):
            raise result
        return result

    return build


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's temporary folder, which every xdist worker shares (each worker's own folder,
    popen-gw0, ..., is inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


class Venvs:
    """One fresh virtualenv per Python and dependency set for the whole run, shared by every
    xdist worker: the first project with those dependencies installs them, later ones (on any
    worker) install only themselves (--no-deps). A file lock per virtualenv orders the installs
    into it, so two workers never make the same one twice."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._root = run_folder(tmp_path_factory) / "venvs"
        self._root.mkdir(exist_ok=True)

    def install(self, python: str | Path, project: Path, editable: bool) -> Path:
        key = hashlib.sha256(repr((str(python), dependencies(project))).encode()).hexdigest()
        folder = self._root / key[:12]
        with locked(self._root / f"{key[:12]}.lock"):
            if (folder / "complete").is_file():
                venv_python = folder / ".venv" / "bin" / "python"
                install(venv_python, project, editable=editable, deps=False)
                return venv_python
            shutil.rmtree(folder, ignore_errors=True)  # what a failed install left
            venv_python = make_venv(folder / ".venv", python)
            install(venv_python, project, editable=editable)
            (folder / "complete").touch()
            return venv_python


class MypyCaches:
    """A mypy cache per xdist worker (MYPY_CACHE_DIR), each seeded with a copy of the run's
    first cache for the same target Python: mypy analyses FastAPI, pydantic, SQLAlchemy... for
    a Python once a run (about 12 s of CPU), not once a worker. Copies, not one shared cache:
    every project has modules of the same names (tests.test_app, conftest), and two runs
    writing them into one cache at once left one project's entries passing for another's."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._own = tmp_path_factory.mktemp("mypy-cache")
        self._seeds = run_folder(tmp_path_factory) / "mypy"
        self._seeds.mkdir(exist_ok=True)

    @contextmanager
    def seeded(self, python_version: str) -> Iterator[Path]:
        """This worker's cache folder, with a cache for `python_version` if the run has one.
        The first worker to need a Python holds its lock through that (cold) run, then
        publishes a copy: on a CPU-bound machine the others are better off waiting for it."""
        if (self._own / python_version).is_dir():
            yield self._own
            return
        seed = self._seeds / python_version
        with locked(self._seeds / f"{python_version}.lock"):
            if not seed.is_dir():
                yield self._own
                made = self._own / python_version
                if made.is_dir():  # copied, then renamed: a seed is whole or absent
                    partial = seed.with_name(f"{python_version}.partial")
                    shutil.copytree(made, partial)
                    partial.rename(seed)
                return
            shutil.copytree(seed, self._own / python_version)
        yield self._own


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file at `path` (made if missing), across processes."""
    with path.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def dependencies(project: Path) -> tuple[str, ...]:
    """What installing the project with its dev extra brings in: its requirement strings."""
    declared = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    dev = declared.get("optional-dependencies", {}).get("dev", [])
    return tuple(sorted([*declared.get("dependencies", []), *dev]))


def _build(variant: Variant, where: Path, template: Path, venvs: Venvs) -> Project:
    python = interpreter(variant.python_version)
    if python is None:
        pytest.skip(f"no Python {variant.python_version} here (looked in pyenv and PATH)")
    root = render(where / "project", variant.answers(), template)
    stamp(root, variant.build)
    return Project(variant, root, venvs.install(python, root, variant.editable))


def stamp(root: Path, build: str) -> None:
    """Give every file of a project the same modification time, one of this build's own.
    mypy trusts a cached module whose path (relative: tests/test_app.py), size and mtime
    match: projects rendered in the same second, with package names of one length, would
    pass for each other in a cache they share (MypyCaches). With times that differ, mypy
    compares the files' hashes."""
    moment = 1_500_000_000 + int(hashlib.sha256(build.encode()).hexdigest()[:7], 16)
    for path in root.rglob("*"):
        os.utime(path, (moment, moment))


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


def migrate(project: Project, url: str) -> None:
    """`python -m <package> migrate` on the database at `url`, the project's one documented
    command."""
    run_ok(
        [project.python, "-m", project.package, "migrate"],
        cwd=project.root,
        env=project.env(DATABASE_URL=url),
        timeout=120,
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
# A framework name as a test parameter, in its main project's build group (its server's too).
FRAMEWORKS = [
    pytest.param(name, id=name, marks=pytest.mark.xdist_group(MAIN[name].build)) for name in NAMES
]
POSTGRES = {
    "flask": answered("flask", database="postgresql"),
    "fastapi-async": answered("fastapi", database="postgresql"),
    "fastapi-sync": answered("fastapi", async_ok=False, database="postgresql"),
}
