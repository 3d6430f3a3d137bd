"""End to end: a generated server started before `migrate` says so, and heals once migrated.

Each project's real production server (2 workers) starts on a fresh, empty database: /readyz
and the items routes answer 503 naming the command that fixes it (never a 500), the server
logs one warning at start, and after `python -m <package> migrate` it is ready without a
restart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from postgres import Cluster, wait_until
from projects import FASTAPI_SYNC, MAIN, POSTGRES, Project, Variant, grouped, migrate, start
from signin import add_user, request, sign_in
from support import Server, stop

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

JSON = {"Content-Type": "application/json"}
# More requests than workers, so each worker process answers some (each checks for itself).
ROUNDS = 8


SQLITE = [
    grouped("flask-sqlite", MAIN["flask"]),
    grouped("fastapi-async-sqlite", MAIN["fastapi"]),
    grouped("fastapi-sync-sqlite", FASTAPI_SYNC),
]
POSTGRESQL = [
    grouped("flask-postgresql", POSTGRES["flask"]),
    grouped("fastapi-async-postgresql", POSTGRES["fastapi-async"]),
]


def assert_unmigrated_then_healed(project: Project, url: str, log_dir: Path) -> None:
    hint = f"python -m {project.package} migrate"
    server = start(project, log_dir, DATABASE_URL=url)
    try:
        for method, path, body in [
            ("GET", "/readyz", None),
            ("GET", "/items", None),
            ("POST", "/items", {"name": "Lamp"}),
            ("GET", "/items/1", None),
        ]:
            for _ in range(ROUNDS // 2):
                answer = send(server, method, path, body)
                assert (answer.status, answer.content_type) == (503, "application/json")
                assert hint in answer.json()["detail"], answer.body
        assert request(server, "GET", "/healthz").status == 200  # alive, only not ready
        logs = server.stdout() + server.stderr()
        warnings = [line for line in logs.splitlines() if hint in line]
        assert len(warnings) == 1, logs[-3000:]
        assert "warning" in warnings[0].lower()

        migrate(project, url)
        assert wait_until(lambda: request(server, "GET", "/readyz").status == 200, 10)
        add_user(project, url)  # where it has sign-in, the items need a user
        sign_in(project, server)
        for number in range(ROUNDS):
            assert request(server, "GET", "/readyz").json() == {"status": "ready"}
            created = send(server, "POST", "/items", {"name": f"item {number}"})
            assert created.status == 201, created.body
        assert request(server, "GET", "/items").json()["total"] == ROUNDS
    finally:
        exit_code = stop(server)
    assert exit_code == 0
    logs = server.stdout() + server.stderr()
    assert "Traceback" not in logs and "no such table" not in logs, logs[-3000:]


def send(server: Server, method: str, path: str, body: object | None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    return request(server, method, path, data, JSON if data else None, timeout=30)


@pytest.mark.parametrize("variant", SQLITE)
def test_sqlite_server_started_before_migrate_says_so_then_heals(
    projects: Callable[[Variant], Project], variant: Variant, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'empty' / 'app.db'}"  # no file yet: a new deployment
    assert_unmigrated_then_healed(projects(variant), url, tmp_path / "server")


@pytest.mark.parametrize("variant", POSTGRESQL)
def test_postgresql_server_started_before_migrate_says_so_then_heals(
    projects: Callable[[Variant], Project], postgres: Cluster, variant: Variant, tmp_path: Path
) -> None:
    project = projects(variant)
    url = postgres.create_database(f"{project.package}_unmigrated")
    assert_unmigrated_then_healed(project, url, tmp_path / "server")
