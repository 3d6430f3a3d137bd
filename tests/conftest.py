"""Fixtures shared by newapp's tests: the repo, a plain copy of the templates, an isolated cwd."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from projects import MAIN, MypyCaches, Project, Variant, builder, run_folder, start

if TYPE_CHECKING:
    from postgres import Cluster
    from services import Redis
    from support import Server

REPO = Path(__file__).resolve().parents[1]
# In CI (CI=true) every component the suite needs is installed by .ci/run: a test that would
# skip for want of one fails instead, so a green run has proven everything it claims.
IN_CI = os.environ.get("CI", "").lower() == "true"
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


@pytest.fixture(scope="session", autouse=True)
def _renders_do_no_needless_work() -> Iterator[None]:
    """Every render in this process compiles a template source once, and calls git only where
    there is a git index (support.py says why)."""
    from support import git_index_synced_only_in_git, jinja_compiles_once

    with jinja_compiles_once(), git_index_synced_only_in_git():
        yield


@pytest.fixture(scope="session", autouse=True)
def _venvs_share_bytecode(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The virtualenvs of the whole run (every xdist worker's) borrow each other's compiled
    bytecode (support.borrow_bytecode)."""
    from support import share_bytecode_through

    share_bytecode_through(run_folder(tmp_path_factory) / "virtualenvs.txt")


@pytest.fixture(scope="session")
def template_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The templates outside git, to render from: from a git checkout copier clones it first,
    0.5 s more a render (test_copier_parity.py proves the two render the same files)."""
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
def projects(
    tmp_path_factory: pytest.TempPathFactory, template_copy: Path
) -> Callable[[Variant], Project]:
    """Generated projects, each rendered and installed in a fresh virtualenv once per worker."""
    return builder(tmp_path_factory, template_copy)


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> MypyCaches:
    """This worker's mypy cache, for every project it checks (`mypy_cache.seeded("3.11")`):
    the libraries the projects share are analysed once a run, not once a project."""
    return MypyCaches(tmp_path_factory)


@pytest.fixture(scope="session")
def servers(
    projects: Callable[[Variant], Project], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Server]]:
    """The production server of each framework's main project (`servers("flask")`), started
    once on first use and stopped at the end; its tests share the main build's xdist group."""
    from support import stop

    started: dict[str, Server] = {}

    def server(framework: str) -> Server:
        if framework not in started:
            log_dir = tmp_path_factory.mktemp(f"{framework}-server")
            started[framework] = start(projects(MAIN[framework]), log_dir)
        return started[framework]

    yield server
    for running in started.values():
        stop(running)


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


@pytest.fixture(scope="session")
def redis() -> Iterator[Redis]:
    """A throwaway Redis for this worker, always stopped at the end; the test skips, with the
    reason, where redis-server cannot be had."""
    from services import REDIS, start_redis, stop_redis, unavailable

    reason = unavailable(REDIS)
    if reason is not None:
        pytest.skip(reason)
    server = start_redis()
    try:
        yield server
    finally:
        stop_redis(server)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI ({reason}): .ci/run must install what this test needs"
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """On an xdist worker with --dist loadgroup, a grouped test's id must carry its group
    (xdist's only channel to the scheduler): without it each worker would build every project."""
    if getattr(item.config.option, "loadgroup", False) and _group(item) and "@" not in item.nodeid:
        pytest.fail(
            "--dist loadgroup is not grouping tests with this pytest (pytest-xdist#1386); "
            "install newapp's test extra, which pins a pytest it works with",
            pytrace=False,
        )


def _group(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    return str(mark.args[0] if mark.args else mark.kwargs.get("name"))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers more than the CPUs this run may use. The end-to-end tests wait on
    servers, Chromium, PostgreSQL and Prometheus for part of each worker's time (the sum of
    the tests' wall times is about 1.7 times their CPU time), and the extra workers' tests fill
    those waits: on 2 CPUs, 949 tests took 720 s with 3 workers and 796 s with 2 (the same CPU
    time); 970 took 442 s with 4 workers, 450-465 s with 3, and 474 s with 5 (on a machine
    shared with other work)."""
    return len(os.sched_getaffinity(0)) + 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run FastAPI's main build's tests module by module in reverse order.

    xdist hands the two main builds' groups, the largest, to two workers at the start, and the
    two run the same modules in the same order: their waits (slow clients held for 20 s, a
    database stopped and started, servers coming up) came at the same moments and left a CPU
    idle. Reversed, one build's waits meet the other's CPU-bound checks. Each module's tests
    stay together and in their order, for its fixtures; the order is the same on every worker,
    as xdist requires."""
    reversed_group = MAIN["fastapi"].build
    places = [i for i, item in enumerate(items) if _group(item) == reversed_group]
    modules: dict[str, list[pytest.Item]] = {}
    for i in places:
        modules.setdefault(items[i].nodeid.split("::")[0], []).append(items[i])
    reordered = [item for module in reversed(modules.values()) for item in module]
    for i, item in zip(places, reordered, strict=True):
        items[i] = item
