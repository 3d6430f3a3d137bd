"""End to end: a PostgreSQL restart between two requests costs no request a failure.

Every pooled connection dies with the server; no request comes in while it is down, so nothing
has told the pool yet. The first requests after the restart, on both workers, must still be
answered: the pool replaces a dead connection before use (pool_pre_ping, or for asyncpg a
check of the connection's own state, which costs no round trip).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from postgres import Cluster
from projects import POSTGRES, Project, Variant, grouped, start
from signin import ready_postgresql, request, sign_in
from support import stop

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

# Enough requests, each on a new connection, that both worker processes get some.
REQUESTS = 12


@pytest.mark.parametrize(
    "project_variant", [grouped(f"{name}-postgresql", v) for name, v in POSTGRES.items()]
)
def test_first_requests_after_a_database_restart_succeed(
    projects: Callable[[Variant], Project],
    postgres: Cluster,
    project_variant: Variant,
    tmp_path: Path,
) -> None:
    project = projects(project_variant)
    url = ready_postgresql(project, postgres, f"{project.package}_restart")
    server = start(project, tmp_path, DATABASE_URL=url)
    try:
        sign_in(project, server)  # the items routes need a user, where there is sign-in
        # Fill both workers' pools: every request on a new connection, spread over the workers.
        assert {request(server, "GET", "/items").status for _ in range(REQUESTS)} == {200}
        postgres.stop()
        postgres.start()
        statuses = [request(server, "GET", "/items").status for _ in range(REQUESTS)]
        assert statuses == [200] * REQUESTS
    finally:
        assert stop(server) == 0
