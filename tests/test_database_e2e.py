"""End to end: generated projects on a real database, SQLite and PostgreSQL, over real HTTP.

Each project is rendered, installed in a fresh virtualenv, migrated with its own command, and
served by its own production server (2 workers) on 127.0.0.1.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from postgres import Cluster, wait_until
from projects import FASTAPI_SYNC, MAIN, POSTGRES, Project, Variant, grouped, start
from signin import add_user, ready_postgresql, ready_sqlite, request, sign_in
from support import Response, Server, run, run_ok, stop

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

CREATES = 200  # concurrent POST /items against two worker processes
CLIENTS = 32  # connections at once: more than one worker's threads, so requests queue
JSON = {"Content-Type": "application/json"}
# Text a store must keep byte for byte: quotes, SQL, markup, emoji, right-to-left, combining.
LITERAL = "O'Brien \"quoted\" '; DROP TABLE items; -- <b>&amp;</b> \U0001f600 שלום e\u0301"


SQLITE = [
    grouped("flask-sqlite", MAIN["flask"]),
    grouped("fastapi-async-sqlite", MAIN["fastapi"]),
    grouped("fastapi-sync-sqlite", FASTAPI_SYNC),
]
POSTGRES_VARIANTS = [grouped(f"{name}-postgresql", v) for name, v in POSTGRES.items()]


def post_json(server: Server, path: str, body: Any, method: str = "POST") -> Response:
    return request(server, method, path, json.dumps(body).encode(), JSON, timeout=30)


def serve(project: Project, log_dir: Path, url: str) -> Server:
    """The project's server on `url`, its requests signed in (where it has sign-in)."""
    server = start(project, log_dir, DATABASE_URL=url)
    sign_in(project, server)
    return server


def create_many(server: Server, count: int) -> list[Response]:
    def create(number: int) -> Response:
        return post_json(server, "/items", {"name": f"item {number}", "description": LITERAL})

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(create, range(count)))


def assert_crud(server: Server) -> None:
    """Create, read back, list, update and delete one item, as the contract says."""
    created = post_json(server, "/items", {"name": LITERAL, "description": "first"})
    assert created.status == 201, created.body
    item = created.json()
    assert (item["name"], item["description"]) == (LITERAL, "first")
    assert created.headers["location"].endswith(f"/items/{item['id']}")
    got = request(server, "GET", f"/items/{item['id']}")
    assert (got.status, got.json()) == (200, item)
    page = request(server, "GET", "/items?limit=1&offset=0").json()
    assert len(page["items"]) == 1 and page["limit"] == 1 and page["total"] >= 1
    patched = post_json(server, f"/items/{item['id']}", {"description": "second"}, "PATCH")
    assert (patched.status, patched.json()["description"]) == (200, "second")
    assert patched.json()["name"] == LITERAL
    gone = request(server, "DELETE", f"/items/{item['id']}")
    assert (gone.status, gone.body) == (204, b"")
    missing = request(server, "GET", f"/items/{item['id']}")
    assert (missing.status, missing.content_type) == (404, "application/json")
    assert "detail" in missing.json()
    bad = post_json(server, "/items", {"name": ""})
    assert (bad.status, bad.content_type) == (422, "application/json")


@pytest.mark.parametrize("project_variant", SQLITE)
def test_sqlite_takes_concurrent_writes_and_keeps_them_across_restarts(
    projects: Callable[[Variant], Project], project_variant: Variant, tmp_path: Path
) -> None:
    project = projects(project_variant)
    url = ready_sqlite(project, tmp_path / "data" / "app.db")
    server = serve(project, tmp_path / "first", url)
    try:
        assert request(server, "GET", "/readyz").json() == {"status": "ready"}
        assert_crud(server)
        answers = create_many(server, CREATES)
        assert [a.status for a in answers if a.status != 201] == []
        ids = [a.json()["id"] for a in answers]
        assert len(set(ids)) == CREATES
        for answer, item_id in zip(answers, ids, strict=True):
            assert request(server, "GET", f"/items/{item_id}").json() == answer.json()
    finally:
        assert stop(server) == 0  # SIGTERM: graceful, exit 0
    logs = server.stdout() + server.stderr()
    assert "database is locked" not in logs and "Traceback" not in logs
    again = serve(project, tmp_path / "second", url)
    try:
        page = request(again, "GET", "/items?limit=100&offset=100").json()
        assert page["total"] == CREATES and len(page["items"]) == 100
        assert request(again, "GET", f"/items/{ids[-1]}").json() == answers[-1].json()
    finally:
        stop(again)


@pytest.mark.parametrize("project_variant", POSTGRES_VARIANTS)
def test_postgresql_serves_crud_and_readiness_follows_the_database(
    projects: Callable[[Variant], Project],
    postgres: Cluster,
    project_variant: Variant,
    tmp_path: Path,
) -> None:
    project = projects(project_variant)
    name = project.package
    url = ready_postgresql(project, postgres, name)
    # The project's own tests, against the real server (they clean up after themselves).
    tests_db = postgres.create_database(f"{name}_tests")
    run_ok(
        [project.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project.root,
        env=project.env(TEST_DATABASE_URL=tests_db),
        timeout=300,
    )
    server = serve(project, tmp_path, url)
    try:
        assert_crud(server)
        postgres.stop()
        try:
            down = wait_until(lambda: request(server, "GET", "/readyz").status == 503, 20)
            assert down, "readiness never said 503 while PostgreSQL was down"
            unready = request(server, "GET", "/readyz")
            assert (unready.content_type, "detail" in unready.json()) == ("application/json", True)
            assert request(server, "GET", "/healthz").status == 200  # liveness needs no database
            assert server.running()
        finally:
            postgres.start()
        assert wait_until(lambda: request(server, "GET", "/readyz").status == 200, 30)
        assert_crud(server)  # the pool recovered without a restart
    finally:
        exit_code = stop(server)
    assert exit_code == 0


@pytest.mark.parametrize("project_variant", POSTGRES_VARIANTS)
def test_postgresql_needs_a_database_url_to_start(
    projects: Callable[[Variant], Project], project_variant: Variant
) -> None:
    project = projects(project_variant)
    env = project.server_env(1)
    env.pop("DATABASE_URL", None)
    for argv in ([], ["migrate"]):
        result = run([project.python, "-m", project.package, *argv], project.root, env, 60)
        assert result.returncode != 0
        assert "DATABASE_URL" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("project_variant", SQLITE)
def test_the_frameworks_usual_migrate_command_works_too(
    projects: Callable[[Variant], Project], project_variant: Variant, tmp_path: Path
) -> None:
    project = projects(project_variant)
    url = f"sqlite:///{tmp_path / 'usual.db'}"
    if project_variant.framework == "flask":
        argv = [project.python, "-m", "flask", "--app", f"{project.package}.app", "db", "upgrade"]
    else:
        argv = [project.python, "-m", "alembic", "upgrade", "head"]
    run_ok(argv, cwd=project.root, env=project.env(DATABASE_URL=url), timeout=120)
    add_user(project, url)
    server = serve(project, tmp_path / "log", url)
    try:
        assert post_json(server, "/items", {"name": "after the usual command"}).status == 201
    finally:
        stop(server, signal.SIGTERM)
