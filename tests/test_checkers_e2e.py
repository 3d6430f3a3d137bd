"""What outside checkers say about generated projects: bandit, zizmor, deptry and
openapi-spec-validator find nothing, and the CI workflow tests on the project's database.

The checkers run from a virtualenv of their own, on projects rendered (not installed) over both
frameworks, both kinds and the three databases; the OpenAPI documents come from the projects
the other end-to-end tests install anyway.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from projects import (
    FASTAPI_SYNC,
    FASTAPI_WEB_IO,
    FASTAPI_WEB_PLAIN,
    FLASK_WEB_TYPED,
    MAIN,
    Project,
    Variant,
    answered,
    by_variant,
)
from support import install_packages, make_venv, render, run, run_ok

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

# Pinned: a new release may add audits, which should fail here first, not in a user's CI.
CHECKERS = [
    "bandit==1.9.4",
    "zizmor==1.32.0",
    "deptry==0.25.1",
    "openapi-spec-validator==0.9.0",
]

# Both frameworks, both kinds, the three databases, each validation style, sync and async.
RENDERED = [
    answered("flask", database="none"),
    answered("flask", database="sqlite"),
    answered("flask", database="postgresql"),
    answered("flask", "web", auto_docs=False, type_validation=False, database="sqlite"),
    answered("flask", "web", auto_docs=False, needs_extensions=True, database="postgresql"),
    answered("flask", "web", high_concurrency=True, database="none"),
    answered("fastapi", database="none"),
    answered("fastapi", database="sqlite"),
    answered("fastapi", database="postgresql"),
    answered("fastapi", async_ok=False, high_concurrency=True, database="sqlite"),
    answered("fastapi", "web", async_ok=False, database="postgresql"),
    answered("fastapi", "web", high_concurrency=True, database="postgresql"),
    answered("fastapi", "web", auto_docs=False, database="none"),
]
CASES = [pytest.param(v, id=v.id, marks=pytest.mark.xdist_group("checkers")) for v in RENDERED]


@pytest.fixture(scope="session")
def checkers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a virtualenv with the checkers."""
    python = make_venv(tmp_path_factory.mktemp("checkers") / ".venv", sys.executable)
    install_packages(python, CHECKERS)
    return python.parent


@pytest.fixture(scope="session")
def rendered(
    tmp_path_factory: pytest.TempPathFactory, template_copy: Path
) -> Callable[[Variant], Path]:
    """Each variant rendered once (not installed)."""
    done: dict[Variant, Path] = {}

    def get(variant: Variant) -> Path:
        if variant not in done:
            where = tmp_path_factory.mktemp(variant.id) / "p"
            done[variant] = render(where, variant.answers(), template_copy)
        return done[variant]

    return get


@pytest.mark.parametrize("variant", CASES)
def test_bandit_finds_nothing(
    checkers: Path, rendered: Callable[[Variant], Path], variant: Variant
) -> None:
    project = rendered(variant)
    # The code only: tests assert with `assert`, which bandit flags everywhere.
    run_ok([checkers / "bandit", "--quiet", "--recursive", "src"], cwd=project, timeout=120)


@pytest.mark.parametrize("variant", CASES)
def test_zizmor_finds_nothing_in_the_ci_workflow(
    checkers: Path, rendered: Callable[[Variant], Path], variant: Variant
) -> None:
    project = rendered(variant)
    workflow = project / ".github" / "workflows" / "ci.yml"
    argv: list[str | Path] = [checkers / "zizmor", "--offline", "--no-progress", workflow]
    result = run(argv, cwd=project, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


@pytest.mark.parametrize("variant", CASES)
def test_deptry_finds_nothing(
    checkers: Path, rendered: Callable[[Variant], Path], variant: Variant
) -> None:
    project = rendered(variant)
    result = run([checkers / "deptry", "."], cwd=project, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr, result.stderr  # no deprecated setting either


@pytest.mark.parametrize("variant", CASES)
def test_ci_runs_the_tests_on_the_projects_database(
    rendered: Callable[[Variant], Path], variant: Variant
) -> None:
    project = rendered(variant)
    job = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())["jobs"]
    [check] = job.values()
    if dict(variant.extra)["database"] != "postgresql":
        assert "services" not in check and "TEST_DATABASE_URL" not in check.get("env", {})
        return
    service = check["services"]["postgres"]
    assert service["image"].startswith("postgres:")
    assert service["ports"] == ["5432:5432"]
    assert "pg_isready" in service["options"]  # the job starts once the server takes logins
    url = urlsplit(check["env"]["TEST_DATABASE_URL"])
    expected = service["env"]
    assert (url.scheme, url.hostname, url.port) == ("postgresql", "localhost", 5432)
    assert (url.username, url.password, url.path) == (
        expected["POSTGRES_USER"],
        expected["POSTGRES_PASSWORD"],
        "/" + expected["POSTGRES_DB"],
    )


# --- The OpenAPI documents ---------------------------------------------------------------------

# The projects test_contract_e2e.py installs and fuzzes (its xdist groups): every one that
# publishes a document, docs pages on or off.
PUBLISHED = by_variant(
    [
        MAIN["flask"],
        FLASK_WEB_TYPED,
        MAIN["fastapi"],
        FASTAPI_SYNC,
        FASTAPI_WEB_IO,
        FASTAPI_WEB_PLAIN,
    ]
)

DUMP = {
    "flask": (
        "from {pkg}.app import create_app\n"
        "app = create_app({{'DOCS_ENABLED': True, 'DATABASE_URL': 'sqlite://'}})\n"
        "print(app.test_client().get('/openapi/openapi.json').get_data(as_text=True))\n"
    ),
    "fastapi": (
        "import json\n"
        "from {pkg}.app import create_app\n"
        "from {pkg}.settings import Settings\n"
        "print(json.dumps(create_app(Settings(docs_enabled=True)).openapi()))\n"
    ),
}
# Every operation's id, the same in both frameworks (client generators name their methods
# after them): the hello endpoints, the items with a database, the upstream call with
# high_concurrency (FastAPI only), sign-in and the users where there are users.
HELLO = {"hello", "greet", "healthz"}
ITEMS = {"readyz", "list_items", "create_item", "get_item", "update_item", "delete_item"}
AUTH = {"sign_in", "me", "sign_up"}


def expected_ids(variant: Variant) -> set[str]:
    answers = dict(variant.extra)
    database = answers.get("database", "sqlite") != "none"
    upstream = variant.framework == "fastapi" and answers.get("high_concurrency", False)
    auth = variant.code_answers()["auth"]  # the default follows the database and the kind
    return (
        HELLO
        | (ITEMS if database else set())
        | ({"upstream"} if upstream else set())
        | (AUTH if auth else set())
    )


def openapi_document(project: Project, where: Path) -> tuple[Path, dict[str, Any]]:
    """The project's OpenAPI document, as its app serves it, written to a file."""
    script = DUMP[project.variant.framework].format(pkg=project.package)
    text = run_ok([project.python, "-c", script], cwd=where, env=project.env(), timeout=120)
    path = where / "openapi.json"
    path.write_text(text)
    return path, json.loads(text)


def operation_ids(document: dict[str, Any]) -> set[str]:
    return {
        operation["operationId"]
        for methods in document["paths"].values()
        for operation in methods.values()
    }


@pytest.mark.parametrize("variant", PUBLISHED)
def test_openapi_document_is_valid_with_clean_operation_ids(
    checkers: Path,
    projects: Callable[[Variant], Project],
    variant: Variant,
    tmp_path: Path,
) -> None:
    path, document = openapi_document(projects(variant), tmp_path)
    run_ok([checkers / "openapi-spec-validator", path], timeout=120)
    assert operation_ids(document) == expected_ids(variant)
    for methods in document["paths"].values():
        for operation in methods.values():
            # A 422 only where there is input a model can reject.
            if "requestBody" not in operation and not operation.get("parameters"):
                assert "422" not in operation["responses"], operation
    if "/readyz" in document["paths"]:
        assert "items" not in document["paths"]["/readyz"]["get"].get("tags", [])
