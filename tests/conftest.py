"""Fixtures shared by newapp's tests: the repo, a plain copy of the templates, an isolated cwd."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from projects import Project, Variant, builder

if TYPE_CHECKING:
    from postgres import Cluster

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_PARTS = ("copier.yml", "template_flask", "template_fastapi", "template_shared")


def copy_template(dest: Path) -> Path:
    """copier.yml and the template folders, outside git (copier renders it without a clone)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in TEMPLATE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part)
        elif source.is_file():
            shutil.copy2(source, dest / part)
    return dest


@pytest.fixture(scope="session")
def template_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty folder, with no git identity, no colour, a wide terminal."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("NEWAPP_DEBUG", raising=False)
    yield work


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes, by relative path."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Variant], Project]:
    """Generated projects, each rendered and installed in a fresh virtualenv once per worker."""
    return builder(tmp_path_factory)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for this worker, always stopped and removed at the end;
    the test skips, with the reason, where PostgreSQL cannot be had."""
    from postgres import remove, start_cluster, unavailable

    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        remove(cluster)
