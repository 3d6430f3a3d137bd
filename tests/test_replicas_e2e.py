"""End to end: two replicas of a generated API behind nginx, sharing one PostgreSQL and one
Redis, as a service grows past one machine (issue 22). A token one replica issued is honoured
by the other (a browser's session too, for a web project), the proxy spreads requests over
both, and failed sign-ins are counted across both, so a second replica does not double what a
password guesser may try."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from postgres import Cluster
from projects import POSTGRES, Project, Variant, answered, grouped, migrate, start
from services import NGINX, Redis, nginx, unavailable
from signin import bearer, create_user, session_cookie, token_answer
from support import Server, counted_requests, request, stop, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

EMAIL = "replicas@example.com"
# The replicas' shared secret: a token signed by one must verify on the other.
SECRET = "replicas-share-this-secret-of-32-characters-or-more"
JSON = {"Content-Type": "application/json"}
ACCOUNT_FAILURES = 5  # failed sign-ins a minute one account may have (then 429)
# A web project too: its browser sessions, signed by the shared secret, work on both replicas.
WEB = answered("fastapi", "web", database="postgresql")
VARIANTS = [
    *(grouped(name, POSTGRES[name]) for name in ("flask", "fastapi-async")),
    grouped("fastapi-web", WEB),
]


@contextlib.contextmanager
def replica(project: Project, log_dir: Path, url: str, counts: str) -> Iterator[Server]:
    """One replica, configured as the README tells a team running several: the same secret,
    the same database, failed sign-ins counted in the same Redis (at `counts`)."""
    flask = project.variant.framework == "flask"
    shared = {
        "FLASK_SECRET_KEY" if flask else "SECRET_KEY": SECRET,
        "FLASK_RATELIMIT_STORAGE_URI" if flask else "RATELIMIT_STORAGE_URL": counts,
    }
    server = start(project, log_dir, DATABASE_URL=url, **shared)
    try:
        yield server
    finally:
        assert stop(server) == 0, server.stderr()[-3000:]


@pytest.mark.parametrize("variant", VARIANTS)
def test_two_replicas_behind_nginx_share_sign_in_and_its_limits(
    projects: Callable[[Variant], Project],
    postgres: Cluster,
    redis: Redis,
    variant: Variant,
    tmp_path: Path,
) -> None:
    reason = unavailable(NGINX)
    if reason is not None:
        pytest.skip(reason)
    project = projects(variant)
    url = postgres.create_database(f"{project.package}_replicas")
    migrate(project, url)
    made = create_user(project, url, EMAIL)
    assert made.returncode == 0, made.stderr
    counts = redis.fresh_url()
    with (
        replica(project, tmp_path / "a", url, counts) as first,
        replica(project, tmp_path / "b", url, counts) as second,
        nginx([first, second], tmp_path / "nginx") as proxy,
    ):
        # A token from one replica is honoured by the other.
        token = bearer(first, EMAIL)
        me = request(second, "GET", "/users/me", headers=token)
        assert (me.status, me.json()["email"]) == (200, EMAIL), me.body
        if variant.app_kind == "web":  # and a browser signed in on one is signed in on the other
            cookie = session_cookie(first, EMAIL)
            page = request(second, "GET", "/pages/items", headers=cookie)
            assert page.status == 200 and b"Sign out" in page.body, page.headers
        # Through the proxy: an item made on one replica is read back on both.
        body = json.dumps({"name": "made behind the proxy"}).encode()
        created = request(proxy, "POST", "/items", body, {**token, **JSON}, timeout=30)
        assert created.status == 201, created.body
        item = f"/items/{created.json()['id']}"
        for server in (first, second):
            read = request(server, "GET", item, headers=token)
            assert (read.status, read.json()) == (200, created.json())
        # The proxy spreads its requests over both replicas.
        before = [counted_requests(s, "/users/me") for s in (first, second)]
        for _ in range(4):
            assert request(proxy, "GET", "/users/me", headers=token).status == 200

        def spread() -> list[float] | None:
            after = [counted_requests(s, "/users/me") for s in (first, second)]
            return after if all(a > b for a, b in zip(after, before, strict=True)) else None

        # Each worker writes its counts for /metrics at least once a second.
        assert wait_for(spread, 10), before
        # Failed sign-ins alternate between the replicas, and the account's limit counts them
        # all: counted per replica, the sixth would be each one's third and pass.
        wrong = [
            token_answer(server, EMAIL, "not the right password").status
            for server in [first, second] * 3
        ]
        assert wrong == [401] * ACCOUNT_FAILURES + [429], wrong
        locked = token_answer(proxy, EMAIL)  # the right password, while the account is locked
        assert locked.status == 429, locked.body
        assert int(locked.headers["retry-after"]) > 0
    assert "Traceback" not in first.stderr() + second.stderr()
