"""What `newapp recommend` says a project will contain (test_combinations.py holds every item
to the files of every rendered combination)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from newapp.cli import app


@pytest.mark.parametrize(
    ("flags", "present", "absent"),
    [
        (["--app-kind", "web"], "HTML pages", "JSON error responses"),
        (["--app-kind", "api", "--no-auto-docs"], "docs routes off", "HTML pages"),
        (["--high-concurrency"], "httpx.AsyncClient", "gunicorn"),
        (["--high-concurrency", "--framework", "flask"], "32 per worker", "uvicorn"),
        (["--framework", "flask", "--auto-docs"], "/openapi/swagger", "FastAPIOffline"),
        (
            ["--framework", "flask", "--no-auto-docs", "--no-type-validation"],
            "a Flask app: GET /hello, POST /hello",
            "pydantic",
        ),
    ],
    ids=["web-pages", "no-docs", "fastapi-io", "flask-io", "flask-docs", "flask-plain"],
)
def test_recommend_ends_with_what_the_project_will_contain(
    flags: list[str], present: str, absent: str
) -> None:
    result = CliRunner().invoke(app, ["recommend", "--yes", *flags])
    assert result.exit_code == 0, result.output
    listed = result.stdout[result.stdout.index("project will contain") :]
    assert present in listed
    assert absent not in listed
    shape = json.loads(CliRunner().invoke(app, ["recommend", "--json", *flags]).stdout)
    assert any(present in line for line in shape["contents"])


@pytest.mark.parametrize(
    ("flags", "stack", "why"),
    [
        (["--no-async-ok", "--database", "postgresql"], "psycopg 3", "new to async"),
        (["--database", "sqlite"], "aiosqlite", "I/O under them is async too"),
        (["--framework", "flask"], "Flask-SQLAlchemy", "32 for high concurrency"),
    ],
    ids=["fastapi-sync-postgresql", "fastapi-async-sqlite-default", "flask-extensions"],
)
def test_recommend_says_which_database_stack_and_why(
    flags: list[str], stack: str, why: str
) -> None:
    result = CliRunner().invoke(app, ["recommend", "--yes", *flags])
    assert result.exit_code == 0, result.output
    listed = result.stdout[result.stdout.index("project will contain") :]
    assert stack in listed and why in listed
    shape = json.loads(CliRunner().invoke(app, ["recommend", "--json", *flags]).stdout)
    assert stack in shape["database"]["stack"] and why in shape["database"]["why"]


def test_recommend_without_a_database_lists_none() -> None:
    shape = json.loads(
        CliRunner().invoke(app, ["recommend", "--json", "--database", "none"]).stdout
    )
    assert shape["database"] is None
    assert not any("items" in line for line in shape["contents"])


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--app-kind", "web", "--no-auth"], "through the pages and the JSON API"),
        (["--no-auth"], "newapp update --data auth=true"),
        ([], None),
        (["--app-kind", "web"], None),
        (["--database", "none"], None),
    ],
    ids=["web-sign-in-off", "api-sign-in-off", "api-signed-in", "web-signed-in", "no-data"],
)
def test_recommend_warns_where_anyone_could_change_the_data(
    flags: list[str], said: str | None
) -> None:
    shape = json.loads(CliRunner().invoke(app, ["recommend", "--json", *flags]).stdout)
    shown = CliRunner().invoke(app, ["recommend", "--yes", *flags]).stdout
    listed = shown[shown.index("project will contain") :]
    if said is None:
        assert shape["open_to_anyone"] is None
        assert "No sign-in" not in shown and "no sign-in" not in listed
        return
    warning = shape["open_to_anyone"]
    assert "anyone who can reach the server can add, change and delete items" in warning
    assert said in warning
    assert any(line.startswith("no sign-in: anyone") for line in shape["contents"])
    assert f"No sign-in: {warning}." in " ".join(shown.split())
