"""What a project made from given answers will contain, in words (pure, no I/O).

Each item names the file that proves it, so a test can render the project and hold every
claim to the files (tests/test_contents.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from newapp.stack import auth_stack, database_stack, open_to_anyone


@dataclass(frozen=True)
class Item:
    """One thing the project will have, and where it is: `path` holds the text `proof`."""

    text: str
    path: str  # relative to the project; "{package}" stands for the package folder
    proof: str


def contents(answers: Mapping[str, Any]) -> list[Item]:
    """The project's parts for these answers: the six when-to-use ones and `framework` (`ci`
    too, where given)."""
    flask = answers["framework"] == "flask"
    return [
        *_app(answers, flask),
        *_extras(answers, flask),
        *_database(answers, flask),
        *_auth(answers),
        *_production(answers, flask),
    ]


def _app(answers: Mapping[str, Any], flask: bool) -> list[Item]:
    name = "Flask" if flask else "FastAPI"
    items = [
        Item(
            f"a {name} app: GET /hello, POST /hello with a validated body, GET /healthz",
            "src/{package}/routes.py",
            "/healthz",
        )
    ]
    if answers["app_kind"] == "web":
        templating = "Flask's Jinja templates" if flask else "Jinja2Templates + StaticFiles"
        items.append(
            Item(
                f"HTML pages for people: a base layout and an index page ({templating}), "
                "styled by Pico CSS from the static folder (no CDN), usable by keyboard alone",
                "src/{package}/templates/base.html",
                "pico.classless.min.css",
            )
        )
    else:
        items.append(
            Item(
                "JSON error responses (404, 405, 413, 422, 500), never an HTML page or a traceback",
                "tests/test_app.py",
                "test_errors_are_json",
            )
        )
    return items


def _extras(answers: Mapping[str, Any], flask: bool) -> list[Item]:
    items: list[Item] = []
    if flask and (answers["auto_docs"] or answers["type_validation"]):
        items.append(
            Item(
                "request validation with pydantic models, and an OpenAPI document (flask-openapi3)",
                "src/{package}/app.py",
                "DocumentedAPI(",
            )
        )
        if answers["auto_docs"]:
            items.append(
                Item(
                    "interactive API docs at /openapi/swagger, served without a CDN",
                    "pyproject.toml",
                    "flask-openapi3-swagger",
                )
            )
    if not flask:
        if answers["auto_docs"]:
            items.append(
                Item(
                    "interactive API docs at /docs (Swagger UI) and /redoc, served without a CDN",
                    "src/{package}/app.py",
                    "FastAPIOffline",
                )
            )
        else:
            items.append(
                Item(
                    "API docs routes off (DOCS_ENABLED=true turns them on)",
                    "src/{package}/settings.py",
                    "docs_enabled: bool = False",
                )
            )
    if answers["high_concurrency"]:
        if flask:
            items.append(
                Item(
                    "database connections sized for many slow I/O calls at once (32 per worker)",
                    "src/{package}/server_conf.py",
                    "threads = 32",
                )
            )
        else:
            items.append(
                Item(
                    "a shared httpx.AsyncClient, opened in the app's lifespan, for async calls "
                    "to other services",
                    "src/{package}/app.py",
                    "AsyncClient",
                )
            )
    return items


def _database(answers: Mapping[str, Any], flask: bool) -> list[Item]:
    stack = database_stack(answers)
    if stack is None:
        return []
    items = [
        Item(f"a database: {stack}", "src/{package}/db.py", _engine_proof(answers, flask)),
        Item(
            "an `items` resource in JSON: create, list (paged), get, update, delete; "
            "GET /readyz answers 503 while the database is unreachable",
            "src/{package}/items.py",
            "/readyz",
        ),
        Item(
            "migrations: an initial one ships; `python -m <package> migrate` applies them, "
            "and a test fails when the models and the migrations disagree",
            "tests/test_migrations.py",
            "compare_metadata",
        ),
    ]
    if answers["app_kind"] == "web":
        library = "Flask-WTF" if flask else "fastapi-csrf-protect"
        items.append(
            Item(
                f"a page that lists the items and a form that adds one, safe from CSRF ({library})",
                "src/{package}/templates/items.html",
                "csrf",
            )
        )
    if stack.database == "postgresql":
        items.append(
            Item(
                "compose.yaml: the app beside PostgreSQL, started once the database is healthy",
                "compose.yaml",
                "service_healthy",
            )
        )
    return items


def _auth(answers: Mapping[str, Any]) -> list[Item]:
    signin = auth_stack(answers)
    if signin is None:
        if open_to_anyone(answers) is None:
            return []
        # Said among what the project holds: what it lacks matters as much before it goes online.
        return [
            Item(
                "no sign-in: anyone who can reach the server can add, change and delete items "
                "(README.md says how to keep it private)",
                "README.md",
                "### No sign-in",
            )
        ]
    items = [
        Item(f"users and sign-in: {signin.stack}", "src/{package}/security.py", "argon2"),
        Item(
            "every items route needs a signed-in user, who sees only their own items (an admin "
            "all); `python -m <package> create-user EMAIL [--admin]` makes one",
            "tests/test_auth.py",
            "test_another_users_item_is_a_404",
        ),
    ]
    if answers["app_kind"] == "web":
        items.append(
            Item(
                "the items page sends a visitor without a session to the sign-in page and back; "
                "the session cookie is HttpOnly, SameSite=Lax and Secure, new at each sign-in",
                "tests/test_sessions.py",
                "test_the_items_page_sends_a_visitor_to_sign_in_and_back",
            )
        )
    return items


def _engine_proof(answers: Mapping[str, Any], flask: bool) -> str:
    if flask:
        return "SQLAlchemy(model_class=Base"  # Flask-SQLAlchemy makes the engine
    return "create_async_engine(" if answers["async_ok"] else "create_engine("


def _production(answers: Mapping[str, Any], flask: bool) -> list[Item]:
    server = (
        "granian (threaded workers; request heads bounded in time and size)"
        if flask
        else "granian (worker processes, uvloop; request heads bounded in time and size)"
    )
    items = [
        Item(
            f"`python -m <package>` starts {server}, which stops gracefully on SIGTERM",
            "src/{package}/__main__.py",
            "server_conf.server(log_config).serve()" if flask else "granian",
        ),
        Item(
            "settings from environment variables; "
            + ("FLASK_SECRET_KEY required in production" if flask else "pydantic-settings"),
            "src/{package}/app.py" if flask else "src/{package}/settings.py",
            "from_prefixed_env" if flask else "BaseSettings",
        ),
        Item(
            "security headers and a request body size limit",
            "src/{package}/app.py" if flask else "src/{package}/middleware.py",
            "X-Content-Type-Options",
        ),
        Item(
            "tests (pytest), with ruff and mypy --strict configured",
            "pyproject.toml",
            "strict = true",
        ),
        Item(
            "a Dockerfile: multi-stage, slim, non-root, with a health check",
            "Dockerfile",
            "HEALTHCHECK",
        ),
    ]
    if answers.get("ci", True):
        items.append(
            Item(
                "a GitHub Actions workflow: ruff, mypy and pytest on every supported Python",
                ".github/workflows/ci.yml",
                "mypy",
            )
        )
    items.append(
        Item(
            "a README: develop, test, deploy, and why this framework for your answers",
            "README.md",
            "## Why ",
        )
    )
    return items
