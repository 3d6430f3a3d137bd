"""Fixtures shared by newapp's tests: the repo, a plain copy of the templates, an isolated cwd."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

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
