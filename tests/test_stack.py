"""The database stack: a pure function of framework, database and async_ok, with its reason."""

from __future__ import annotations

from typing import Any

import pytest

from newapp.stack import database_stack

CASES = [
    ("flask-sqlite", {"framework": "flask", "database": "sqlite"}, "Flask-SQLAlchemy", "sqlite3"),
    (
        "flask-ignores-async-ok",
        {"framework": "flask", "database": "postgresql", "async_ok": True},
        "Flask-Migrate",
        "psycopg 3",
    ),
    (
        "fastapi-async-sqlite",
        {"framework": "fastapi", "database": "sqlite", "async_ok": True},
        "async engine",
        "aiosqlite",
    ),
    (
        "fastapi-async-postgresql",
        {"framework": "fastapi", "database": "postgresql", "async_ok": True},
        "async engine",
        "asyncpg",
    ),
    (
        "fastapi-sync-postgresql",
        {"framework": "fastapi", "database": "postgresql", "async_ok": False},
        "sync engine",
        "psycopg 3",
    ),
]


@pytest.mark.parametrize(
    ("answers", "libraries", "driver"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_stack_follows_the_answers(
    answers: dict[str, Any], libraries: str, driver: str
) -> None:
    stack = database_stack(answers)
    assert stack is not None
    assert libraries in stack.libraries
    assert stack.driver == driver
    assert libraries in str(stack) and driver in str(stack)


def test_sync_fastapi_says_why_it_avoids_async_routes() -> None:
    stack = database_stack({"framework": "fastapi", "database": "sqlite", "async_ok": False})
    assert stack is not None
    assert "def" in stack.routes and "new to async" in stack.why


def test_no_database_no_stack() -> None:
    assert database_stack({"framework": "flask", "database": "none"}) is None
