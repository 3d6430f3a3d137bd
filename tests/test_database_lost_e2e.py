"""End to end: a generated server whose database goes away after start says so, and heals.

Each PostgreSQL project's real production server (2 workers) serves items; then PostgreSQL is
stopped under it: the items routes and /readyz answer 503 with a one-line JSON error (never a
500, never a traceback), /healthz stays 200; once PostgreSQL is back, the server serves again
without a restart. (A lost SQLite file is the generated projects' own test.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from postgres import Cluster, wait_until
from projects import POSTGRES, Project, Variant, grouped, start
from signin import ready_postgresql, request, sign_in
from support import Server, stop

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

JSON = {"Content-Type": "application/json"}
# More requests than workers, so each worker process answers some (each has its own pool).
ROUNDS = 6
UNAVAILABLE = "database unavailable"

POSTGRESQL = [
    grouped("flask-postgresql", POSTGRES["flask"]),
    grouped("fastapi-async-postgresql", POSTGRES["fastapi-async"]),
]
ROUTES = [("GET", "/items", None), ("POST", "/items", {"name": "Lamp"}), ("GET", "/items/1", None)]


def send(server: Server, method: str, path: str, body: object | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    return request(server, method, path, data, JSON if data else None, timeout=30)


@pytest.mark.parametrize("variant", POSTGRESQL)
def test_database_lost_after_start_is_a_503_until_it_returns(
    projects: Callable[[Variant], Project], postgres: Cluster, variant: Variant, tmp_path: Path
) -> None:
    project = projects(variant)
    url = ready_postgresql(project, postgres, f"{project.package}_lost")
    server = start(project, tmp_path / "server", DATABASE_URL=url)
    try:
        sign_in(project, server)  # the items routes need a user, where there is sign-in
        for _ in range(ROUNDS):  # every worker has served from its pool
            assert send(server, "POST", "/items", {"name": "Lamp"}).status == 201
        postgres.stop()
        try:
            for method, path, body in [*ROUTES, ("GET", "/readyz", None)]:
                for _ in range(ROUNDS // 2):
                    answer = send(server, method, path, body)
                    assert (answer.status, answer.content_type) == (503, "application/json")
                    # The detail, and the request's ID to find it in the log (issue 20).
                    assert answer.json().keys() == {"detail", "request_id"}, answer.body
                    assert answer.json()["detail"] == UNAVAILABLE, answer.body
                    assert b"\n" not in answer.body.strip()
            assert request(server, "GET", "/healthz").status == 200  # alive, only not ready
        finally:
            postgres.start()
        assert wait_until(lambda: request(server, "GET", "/readyz").status == 200, 20)
        for _ in range(ROUNDS):
            for method, path, body in ROUTES:
                answer = send(server, method, path, body)
                assert answer.status in {200, 201}, answer.body
    finally:
        exit_code = stop(server)
    assert exit_code == 0
    assert server.running() is False
    assert "Traceback" not in server.stdout() + server.stderr()
