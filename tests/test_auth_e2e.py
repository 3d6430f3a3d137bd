"""End to end: sign-in on generated projects, both frameworks and both kinds, over real HTTP.

Each project (a build the other end-to-end tests share) is migrated, gets two users from its
own `create-user` (password on stdin, in a real subprocess), and is served by its production
server (2 workers) on 127.0.0.1: a user signs in and does full CRUD, the other user gets 404
on those items, forged, expired and unsigned tokens get 401, and repeated wrong passwords 429.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from projects import MAIN, Project, Variant, by_variant, migrate
from projects import start as start_server
from signin import PASSWORD, bearer, create_user, token_answer
from support import Server, request, stop

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

# Sign-in is made for APIs (web pages would need browser sessions, not made yet).
VARIANTS = [MAIN["flask"], MAIN["fastapi"]]
# Known to the test alone: the servers' own secret is another (FastAPI makes one per start).
OTHER_KEY = "not the server's key, but thirty-two bytes or more"
# Two worker processes, each counting failures in its own memory (RATELIMIT_STORAGE_URL unset):
# an account's sixth failure on one of them is refused, so by the eleventh at the latest.
WORKERS, ACCOUNT_FAILURES = 2, 5
JSON = {"Content-Type": "application/json"}


def _part(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _token(claims: dict[str, object], key: str | None) -> str:
    """A JWT of these claims: HS256-signed with `key`, or unsigned ("alg": "none") without."""
    head = f"{_part({'alg': 'HS256' if key else 'none', 'typ': 'JWT'})}.{_part(claims)}"
    if key is None:
        return f"{head}."
    signature = hmac.new(key.encode(), head.encode(), hashlib.sha256).digest()
    return f"{head}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def forged_tokens(user_id: int) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + 600}
    return {
        "other-key": _token(claims, OTHER_KEY),
        "expired": _token({**claims, "exp": now - 60}, OTHER_KEY),
        "alg-none": _token(claims, None),
        "garbage": "not.a.token",
    }


def _serve(project: Project, log_dir: Path, url: str) -> Server:
    return start_server(project, log_dir, DATABASE_URL=url)


@pytest.mark.parametrize("project_variant", by_variant(VARIANTS))
def test_users_sign_in_and_see_only_their_own_items(
    projects: Callable[[Variant], Project], project_variant: Variant, tmp_path: Path
) -> None:
    project = projects(project_variant)
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    migrate(project, url)
    for email in ("alice@example.com", "bob@example.com"):
        made = create_user(project, url, email)
        assert made.returncode == 0, made.stderr
        assert PASSWORD not in made.stdout + made.stderr
    server = _serve(project, tmp_path / "log", url)
    try:
        _assert_the_contract(server)
    finally:
        assert stop(server) == 0
    logs = server.stdout() + server.stderr()
    assert PASSWORD not in logs and "Traceback" not in logs


def _assert_the_contract(server: Server) -> None:
    anonymous = request(server, "GET", "/items")
    assert (anonymous.status, anonymous.headers["www-authenticate"]) == (401, "Bearer")
    assert request(server, "GET", "/hello").status == 200
    alice, bob = bearer(server, "alice@example.com"), bearer(server, "bob@example.com")
    me = request(server, "GET", "/users/me", headers=alice).json()
    assert me == {"id": me["id"], "email": "alice@example.com", "is_admin": False}

    item = _crud(server, alice)
    for method in ("GET", "PATCH", "DELETE"):
        theirs = request(server, method, f"/items/{item}", b"{}", {**bob, **JSON})
        assert theirs.status == 404, theirs.body
    assert request(server, "GET", "/items", headers=bob).json()["total"] == 0
    assert request(server, "GET", f"/items/{item}", headers=alice).status == 200

    for name, token in forged_tokens(me["id"]).items():
        refused = request(server, "GET", "/items", headers={"Authorization": f"Bearer {token}"})
        assert (name, refused.status) == (name, 401)

    wrong = token_answer(server, "bob@example.com", "not bob's password")
    unknown = token_answer(server, "nobody@example.com", "not bob's password")
    # The same answer either way (the request ID aside, which differs per request by design).
    assert (wrong.status, wrong.json()["detail"]) == (unknown.status, unknown.json()["detail"])
    assert wrong.json().keys() == unknown.json().keys()
    assert wrong.status == 401
    answers = [wrong]
    while answers[-1].status == 401 and len(answers) <= WORKERS * ACCOUNT_FAILURES:
        answers.append(token_answer(server, "bob@example.com", "not bob's password"))
    assert answers[-1].status == 429, [a.status for a in answers]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60


def _crud(server: Server, user: dict[str, str]) -> int:
    """Create, read, list, change and delete an item as `user`; the id of one left behind."""
    created = request(server, "POST", "/items", b'{"name": "lamp"}', {**user, **JSON})
    assert created.status == 201, created.body
    item = created.json()
    assert request(server, "GET", f"/items/{item['id']}", headers=user).json() == item
    assert request(server, "GET", "/items", headers=user).json()["total"] == 1
    body = b'{"description": "brass"}'
    changed = request(server, "PATCH", f"/items/{item['id']}", body, {**user, **JSON})
    assert changed.json() == {**item, "description": "brass"}
    assert request(server, "DELETE", f"/items/{item['id']}", headers=user).status == 204
    kept = request(server, "POST", "/items", b'{"name": "kept"}', {**user, **JSON}).json()
    return int(kept["id"])
