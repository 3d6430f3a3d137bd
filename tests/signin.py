"""Signing in to a generated project's server, for the end-to-end tests.

A project made with sign-in (auth, the default with a database) answers its items routes only
to a signed-in user: `sign_in` makes one with the project's own `create-user` (password on
stdin), trades the password for a token at POST /auth/token, and remembers it for the server,
so `request` here sends it with every call to that server.
"""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from projects import Project
from support import Response, Server
from support import request as plain_request

PASSWORD = "end-to-end passphrase"
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


def sign_in(
    project: Project, server: Server, url: str, email: str = "e2e@example.com"
) -> dict[str, str]:
    """Make `email` a user of the project's database (once), sign in, and send its token
    with every `request` to this server from now on. Projects without sign-in: nothing."""
    if not has_auth(project):
        return {}
    made = create_user(project, url, email)
    assert made.returncode == 0 or "exists already" in made.stderr, made.stderr
    _BEARERS[server.port, server.pid] = bearer(server, email)
    return _BEARERS[server.port, server.pid]


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
