"""Which database and sign-in stacks the answers give a project, and why, in words (pure, no
I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# (framework, async_ok) -> (libraries, how the routes reach the database, why). Flask is
# always synchronous, so async_ok leaves its stack alone.
_STACKS: dict[tuple[str, bool], tuple[str, str, str]] = {
    ("flask", False): (
        "Flask-SQLAlchemy and Flask-Migrate (SQLAlchemy 2 and Alembic underneath)",
        "plain functions, a session per request",
        "Flask's mature extensions are the easy road to a database: one session per request, "
        "cleaned up for you, and migrations behind `flask db`; the pool keeps up to 8 "
        "connections per worker process (32 for high concurrency), and other requests wait for one",
    ),
    ("fastapi", True): (
        "SQLAlchemy 2's async engine and Alembic",
        "async routes that await every query",
        "your team is at ease with async, and FastAPI's async routes pay off only when the "
        "I/O under them is async too: while one request awaits the database, the same "
        "process serves the others",
    ),
    ("fastapi", False): (
        "SQLAlchemy 2 (a sync engine) and Alembic",
        "plain `def` routes that FastAPI runs in its thread pool",
        "your team is new to async, and a blocking database call inside an `async def` route "
        "would stall every request of the process; plain `def` routes run in FastAPI's "
        "thread pool, where blocking is safe",
    ),
}
_DRIVERS = {
    ("sqlite", False): "sqlite3",
    ("sqlite", True): "aiosqlite",
    ("postgresql", False): "psycopg 3",
    ("postgresql", True): "asyncpg",
}
_PLACES = {
    "sqlite": "an embedded SQLite file (data/ by default; WAL, so several workers can write)",
    "postgresql": "PostgreSQL at DATABASE_URL",
}


@dataclass(frozen=True)
class Stack:
    """The database layer of a project: what it is made of, and why for these answers."""

    database: str
    place: str
    libraries: str
    driver: str
    routes: str
    why: str

    def __str__(self) -> str:
        return f"{self.place}, through {self.libraries}, with {self.driver}; {self.routes}"


def database_stack(answers: Mapping[str, object]) -> Stack | None:
    """The stack for `framework`, `database` and `async_ok`; None with `database: none`."""
    database = str(answers.get("database", "sqlite"))
    if database == "none":
        return None
    framework = str(answers["framework"])
    is_async = framework == "fastapi" and bool(answers.get("async_ok", True))
    libraries, routes, why = _STACKS[framework, is_async]
    return Stack(
        database=database,
        place=_PLACES[database],
        libraries=libraries,
        driver=_DRIVERS[database, is_async],
        routes=routes,
        why=why,
    )


# (framework, app_kind) -> (the sign-in stack in words, why). An API's callers are programs,
# which send a token with each request. A site's are people in a browser, which keeps a cookie;
# its JSON API takes tokens as well, for scripts.
_AUTH: dict[tuple[str, str], tuple[str, str]] = {
    ("fastapi", "api"): (
        "bearer tokens: the OAuth2 password flow as FastAPI's docs teach it "
        "(OAuth2PasswordBearer, OAuth2PasswordRequestForm), JWTs signed with PyJWT (HS256), "
        "Argon2 password hashes from pwdlib, sign-in attempts counted by the limits library",
        "a JSON API is called by programs, which send a token in each request's Authorization "
        "header rather than keep a cookie; FastAPI declares the scheme in the OpenAPI document, "
        "so the docs' Authorize button signs in",
    ),
    ("flask", "api"): (
        "bearer tokens from Flask-JWT-Extended (JWTs signed with HS256), Argon2 password hashes "
        "from pwdlib, sign-in attempts counted by the limits library",
        "a JSON API is called by programs, which send a token in each request's Authorization "
        "header rather than keep a cookie; Flask-JWT-Extended is the kept Flask extension for "
        "exactly that",
    ),
    ("fastapi", "web"): (
        "browser sessions: sign-in, sign-out and sign-up pages, a signed session cookie from "
        "Starlette's SessionMiddleware, forms guarded by fastapi-csrf-protect; bearer tokens "
        "(PyJWT) for the JSON API; Argon2 password hashes from pwdlib, sign-in attempts counted "
        "by the limits library",
        "pages are read by people in a browser, which keeps a cookie for them, so they sign in "
        "once through a form; scripts that call the JSON API send a token instead",
    ),
    ("flask", "web"): (
        "browser sessions: sign-in, sign-out and sign-up pages from Flask-Login with Flask-WTF "
        "forms (CSRF tokens included), kept in Flask's signed session cookie; bearer tokens from "
        "Flask-JWT-Extended for the JSON API; Argon2 password hashes from pwdlib, sign-in "
        "attempts counted by the limits library",
        "pages are read by people in a browser, which keeps a cookie for them, so they sign in "
        "once through a form; Flask-Login is the kept Flask extension for exactly that, and "
        "scripts that call the JSON API send a token instead",
    ),
}


@dataclass(frozen=True)
class AuthStack:
    """The sign-in layer of a project: what it is made of, and why for these answers."""

    stack: str
    why: str


def auth_stack(answers: Mapping[str, object]) -> AuthStack | None:
    """The sign-in stack for `framework` and `app_kind`; None without `auth` (or a database)."""
    if not answers.get("auth", False) or str(answers.get("database", "sqlite")) == "none":
        return None
    stack, why = _AUTH[str(answers["framework"]), str(answers.get("app_kind", "api"))]
    return AuthStack(stack, why)


# app_kind -> what anyone can do to a project that keeps data without sign-in, and what to do
# about it.
_OPEN: dict[str, str] = {
    "api": (
        "anyone who can reach the server can add, change and delete items, since sign-in is off "
        "(you answered no); keep it private, or add sign-in with `newapp update --data "
        "auth=true` (users, passwords, bearer tokens; your own edits stay)"
    ),
    "web": (
        "anyone who can reach the server can add, change and delete items, through the pages "
        "and the JSON API, since sign-in is off (you answered no); keep it private, or add "
        "sign-in with `newapp update --data auth=true` (users, sign-in pages, a session cookie; "
        "your own edits stay)"
    ),
}


def open_to_anyone(answers: Mapping[str, object]) -> str | None:
    """What anyone can do to a project that keeps data without sign-in, and what to do about
    it; None for a project with sign-in, or with no data to change."""
    if answers.get("auth", False) or str(answers.get("database", "sqlite")) == "none":
        return None
    return _OPEN[str(answers.get("app_kind", "api"))]
