"""Users and signing in to a generated project's server, for the end-to-end tests.

A project made with sign-in (auth, the default with a database) answers its items routes only
to a signed-in user. The databases the tests start from (`ready_sqlite`, `ready_postgresql`)
hold one, USER, made by the project's own `create-user` (password on stdin); `sign_in` trades
its password for a token at POST /auth/token and remembers it for the server, so `request`
here sends it with every call to that server.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from postgres import Cluster
from projects import Project, locked, migrate
from support import Response, Server
from support import request as plain_request

PASSWORD = "end-to-end passphrase"
USER = "e2e@example.com"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# The bearer header of each server a test signed in to, by port and process: a port is reused
# by later servers, which must not be sent a token of another database.
_BEARERS: dict[tuple[int, int], dict[str, str]] = {}


def has_auth(project: Project) -> bool:
    """Whether the project was made with sign-in."""
    return bool(project.variant.code_answers().get("auth"))


def create_user(
    project: Project, url: str, email: str, *, admin: bool = False, password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    """`python -m <package> create-user EMAIL [--admin]` on the database at `url`."""
    env = project.env(DATABASE_URL=url)
    command: list[str | Path] = [project.python, "-m", project.package]
    return run_create_user(command, project.root, env, email, admin=admin, password=password)


def run_create_user(
    command: list[str | Path],
    root: Path,
    env: Mapping[str, str],
    email: str,
    *,
    admin: bool = False,
    password: str = PASSWORD,
) -> subprocess.CompletedProcess[str]:
    """`command` (the project's `python -m <package>`) create-user EMAIL [--admin], run in
    `root` with `env`, the password on stdin."""
    argv = [*command, "create-user", email]
    return subprocess.run(
        [*argv, "--admin"] if admin else argv,
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=root,
        env=dict(env),
        timeout=120,
        check=False,
    )


def token_answer(server: Server, email: str, password: str = PASSWORD) -> Response:
    """POST /auth/token with the OAuth2 password form."""
    form = urllib.parse.urlencode({"username": email, "password": password}).encode()
    return plain_request(server, "POST", "/auth/token", form, FORM, timeout=30)


def bearer(server: Server, email: str, password: str = PASSWORD) -> dict[str, str]:
    """The Authorization header of `email`, signed in to `server`."""
    answer = token_answer(server, email, password)
    assert answer.status == 200, answer.body
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def session_cookie(server: Server, email: str, password: str = PASSWORD) -> dict[str, str]:
    """The Cookie header of a browser that signed in as `email` through `server`'s sign-in page
    (a web project's): the page's form, its CSRF token and cookie, then the session cookie."""
    page = plain_request(server, "GET", "/pages/sign-in")
    assert page.status == 200, page.body
    csrf = page.headers["set-cookie"].split(";")[0]
    token = re.search(r'name="csrf_?token"[^>]*value="([^"]+)"', page.body.decode())
    assert token is not None, page.body
    field = "csrftoken" if "csrftoken" in token.group(0) else "csrf_token"
    form = {"email": email, "password": password, field: token.group(1)}
    sent = {**FORM, "Cookie": csrf}
    answer = plain_request(
        server, "POST", "/pages/sign-in", urllib.parse.urlencode(form).encode(), sent
    )
    assert answer.status == 303, answer.body
    return {"Cookie": answer.headers["set-cookie"].split(";")[0]}


def sign_in(project: Project, server: Server) -> dict[str, str]:
    """Sign in to `server` as USER, whom its database must hold, and send the token with
    every `request` to this server from now on. Projects without sign-in: nothing."""
    if not has_auth(project):
        return {}
    _BEARERS[server.port, server.pid] = bearer(server, USER)
    return _BEARERS[server.port, server.pid]


# --- The databases the tests start from ---------------------------------------------------------
# Most end-to-end tests need a database as `migrate` and then `create-user USER` leave it, not
# the making of it, which costs 3 s of CPU: the project's own commands make it once per build
# (proving them again), and each test gets a copy. Tests of the commands themselves run them
# (test_auth_e2e.py, test_unmigrated_e2e.py, test_replicas_e2e.py, test_day_two_e2e.py).


def prepare(project: Project, url: str) -> None:
    """Migrate the database at `url`, and add USER where the project has sign-in."""
    migrate(project, url)
    add_user(project, url)


def add_user(project: Project, url: str) -> None:
    """Add USER to the (migrated) database at `url`, where the project has sign-in."""
    if has_auth(project):
        made = create_user(project, url, USER)
        assert made.returncode == 0, made.stderr


def ready_sqlite(project: Project, path: Path) -> str:
    """A prepared SQLite database at `path` (folders made); its URL."""
    made = project.root.parent / "ready.db"
    with locked(made.with_name("ready.lock")):
        if not made.is_file():
            partial = made.with_name("ready.partial")
            partial.unlink(missing_ok=True)
            prepare(project, f"sqlite:///{partial}")
            _copy_sqlite(partial, made)
    path.parent.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(made, path)
    return f"sqlite:///{path}"


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's own backup: whole and consistent, whatever a write-ahead log still holds."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


# The prepared databases each worker's cluster holds, by its port and the database's name.
_TEMPLATES: set[tuple[int, str]] = set()


def ready_postgresql(project: Project, cluster: Cluster, name: str) -> str:
    """A prepared PostgreSQL database called `name`, copied by PostgreSQL from a template
    database prepared once per build; its URL."""
    template = f"{project.package}_ready"
    if (cluster.port, template) not in _TEMPLATES:
        prepare(project, cluster.create_database(template))
        _TEMPLATES.add((cluster.port, template))
    return cluster.create_database(name, template=template)


def request(
    server: Server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5,
) -> Response:
    """support.request, with the token of the user signed in to this server (if any)."""
    sent = {**_BEARERS.get((server.port, server.pid), {}), **(headers or {})}
    return plain_request(server, method, path, body, sent, timeout)


def post_json(server: Server, path: str, body: object, method: str = "POST") -> Response:
    """A JSON request, signed in."""
    headers = {"Content-Type": "application/json"}
    return request(server, method, path, json.dumps(body).encode(), headers, timeout=30)
