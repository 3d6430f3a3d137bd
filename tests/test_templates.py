"""Rendering tests: each answer set gives the right files, valid Python and recorded answers."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import REPO_ROOT

# The Pythons a project may start from, oldest first: copier.yml's choices.
PYTHONS = [
    str(v)
    for v in yaml.safe_load((REPO_ROOT / "copier.yml").read_text())["python_version"]["choices"]
]

# Files every project has, whatever the answers.
COMMON = [
    ".copier-answers.yml",
    ".dockerignore",
    ".gitignore",
    "Dockerfile",
    "README.md",
    "pyproject.toml",
    "src/{pkg}/__init__.py",
    "src/{pkg}/__main__.py",
    "src/{pkg}/app.py",
    "src/{pkg}/healthcheck.py",
    "src/{pkg}/py.typed",
    "src/{pkg}/routes.py",
    "tests/conftest.py",
    "tests/test_app.py",
    "tests/test_main.py",
    # Operations (issue 20): the same modules in both frameworks, each with its tests.
    *(f"src/{{pkg}}/{part}.py" for part in ("requestid", "logs", "metrics", "tracing")),
    *(f"tests/test_{part}.py" for part in ("requestid", "logs", "metrics", "tracing")),
]
ONLY_FLASK = [
    "src/{pkg}/server_conf.py",
    "src/{pkg}/errors.py",
    "src/{pkg}/front.py",
    "tests/test_front.py",
]
# Flask with pydantic models (auto_docs or type_validation): its OpenAPI document's shaping.
ONLY_FLASK_OPENAPI = ["src/{pkg}/apidoc.py"]
ONLY_FASTAPI = ["src/{pkg}/settings.py", "src/{pkg}/middleware.py", "src/{pkg}/errors.py"]
# What a database (sqlite, the default, or postgresql) adds: the same shape in both frameworks.
DATABASE_FILES = [
    "src/{pkg}/db.py",
    "src/{pkg}/models.py",
    "src/{pkg}/items.py",
    "src/{pkg}/migrations/env.py",
    "src/{pkg}/migrations/script.py.mako",
    "tests/test_items.py",
    "tests/test_migrations.py",
]
ONLY_DATABASE = {
    "flask": [
        *DATABASE_FILES,
        "src/{pkg}/migrations/alembic.ini",
        "src/{pkg}/migrations/versions/0001_create_items.py",
        "tests/test_db.py",
    ],
    "fastapi": [
        *DATABASE_FILES,
        "alembic.ini",
        "src/{pkg}/migrations/__init__.py",
        "src/{pkg}/migrations/versions/rev_0001_create_items.py",
    ],
}
ONLY_WEB_DATABASE = {
    "flask": ["src/{pkg}/templates/items.html", "src/{pkg}/pages.py"],
    "fastapi": ["src/{pkg}/templates/items.html", "src/{pkg}/forms.py"],
}
# What sign-in adds to web pages: the sign-in, sign-out and sign-up pages, in both frameworks.
ONLY_WEB_AUTH = [
    "src/{pkg}/sessions.py",
    "src/{pkg}/templates/account.html",
    "tests/test_sessions.py",
]
# What sign-in (auth, the default with a database) adds: the same shape in both frameworks.
AUTH_FILES = [
    "src/{pkg}/security.py",
    "src/{pkg}/users.py",
    "src/{pkg}/auth.py",
    "tests/test_auth.py",
]
ONLY_AUTH = {
    "flask": [*AUTH_FILES, "src/{pkg}/migrations/versions/0002_create_users.py"],
    "fastapi": [*AUTH_FILES, "src/{pkg}/migrations/versions/rev_0002_create_users.py"],
}
ONLY_WEB = [
    "src/{pkg}/templates/base.html",
    "src/{pkg}/templates/index.html",
    "src/{pkg}/static/style.css",
    "src/{pkg}/static/favicon.svg",
    "src/{pkg}/static/vendor/pico/pico.classless.min.css",
    "src/{pkg}/static/vendor/pico/LICENSE.md",
    "src/{pkg}/templates/error.html",
]
# FastAPI's error pages for browsers (Flask's come from its error handlers in errors.py).
ONLY_FASTAPI_WEB = ["src/{pkg}/error_pages.py"]
ONLY_CI = [".github/workflows/ci.yml"]


@dataclass(frozen=True)
class Case:
    """One answer set and what it must produce."""

    id: str
    answers: dict[str, Any]
    framework: str
    package: str = "my_app"
    expected: dict[str, Any] = field(default_factory=dict)  # answers that must be recorded

    @property
    def app_kind(self) -> str:
        return str(self.answers.get("app_kind", "api"))

    @property
    def database(self) -> str:
        return str(self.answers.get("database", "sqlite"))

    @property
    def ci(self) -> bool:
        return bool(self.answers.get("ci", True))

    @property
    def python_version(self) -> str:
        return str(self.answers.get("python_version", "3.14"))

    def files(self, names: list[str]) -> set[str]:
        return {name.format(pkg=self.package) for name in names}


CASES = [
    Case(
        "defaults-recommend-fastapi",
        {},
        "fastapi",
        expected={"framework": "fastapi", "framework_chosen_by": "recommendation"},
    ),
    Case(
        "recommend-flask-for-web",
        {"app_kind": "web", "async_ok": False, "auto_docs": False, "needs_extensions": True},
        "flask",
        expected={"framework": "flask", "framework_chosen_by": "recommendation"},
    ),
    Case(
        "flask-api-ci-py311",
        {
            "framework": "flask",
            "app_kind": "api",
            "ci": True,
            "python_version": "3.11",
            "project_name": "orders-api",
            "port": 9000,
        },
        "flask",
        package="orders_api",
        expected={"framework_chosen_by": "user", "port": 9000, "python_version": "3.11"},
    ),
    Case(
        "flask-web-no-ci",
        {"framework": "flask", "app_kind": "web", "ci": False, "python_version": "3.13"},
        "flask",
    ),
    Case(
        "fastapi-api-no-ci-py313",
        {
            "framework": "fastapi",
            "app_kind": "api",
            "ci": False,
            "python_version": "3.13",
            "package_name": "svc",
        },
        "fastapi",
        package="svc",
        expected={"package_name": "svc"},
    ),
    Case(
        "flask-longest-names",
        {
            "framework": "flask",
            "project_name": "-".join(["a12345678"] * 6) + "-abcd",
            "package_name": "p" + "_abcdefghi" * 3 + "_abcdefgh",
            "port": 65535,
        },
        "flask",
        package="p" + "_abcdefghi" * 3 + "_abcdefgh",
        expected={"port": 65535},
    ),
    Case(
        "fastapi-web-ci-author",
        {
            "framework": "fastapi",
            "app_kind": "web",
            "ci": True,
            "python_version": "3.15",
            "author_name": 'Ada "A." Lovelace',
            "author_email": "ada@example.com",
            "description": 'Says "hi" & {{ braces }} <b>',
        },
        "fastapi",
        expected={"author_email": "ada@example.com"},
    ),
]


pytestmark = pytest.mark.filterwarnings("ignore:Dirty template changes")

CI_CASES = [case for case in CASES if case.ci]
WEB_CASES = [case for case in CASES if case.app_kind == "web"]


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


@pytest.fixture(scope="module")
def renders(copie_session: Any) -> dict[str, Path]:
    """Each case rendered at most once per module (by id)."""
    return {}


@pytest.fixture
def rendered(
    request: pytest.FixtureRequest,
    copie_session: Any,
    renders: dict[str, Path],
    template_copy: Path,
) -> tuple[Case, Path]:
    case: Case = request.param
    if case.id not in renders:
        # A plain copy: from the git checkout, copier clones it first (4x slower); the parity
        # test renders from git and proves the two agree.
        result = copie_session.copy(extra_answers=case.answers, template_dir=template_copy)
        assert result.exception is None, result.exception
        renders[case.id] = Path(result.project_dir)
    return case, renders[case.id]


def every(cases: list[Case]) -> pytest.MarkDecorator:
    """Run the test once per case, each with its rendered project."""
    return pytest.mark.parametrize("rendered", cases, ids=_ids(cases), indirect=True)


def _files(project: Path) -> set[str]:
    return {path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()}


@every(CASES)
def test_expected_files(rendered: tuple[Case, Path]) -> None:
    case, project = rendered
    files = _files(project)
    flask = case.framework == "flask"
    wanted = {
        *case.files(COMMON),
        *case.files(ONLY_FLASK if flask else ONLY_FASTAPI),
        *(case.files(ONLY_WEB) if case.app_kind == "web" else set()),
        *(case.files(ONLY_CI) if case.ci else set()),
    }
    api = case.app_kind == "api"  # docs and typed validation default to yes for an API only
    if flask and (case.answers.get("auto_docs", api) or case.answers.get("type_validation", api)):
        wanted |= case.files(ONLY_FLASK_OPENAPI)
    if not flask and not api:
        wanted |= case.files(ONLY_FASTAPI_WEB)
    if case.database != "none":
        wanted |= case.files(ONLY_DATABASE[case.framework])
        web = case.app_kind == "web"
        wanted |= case.files(ONLY_WEB_DATABASE[case.framework]) if web else set()
        wanted |= case.files(["compose.yaml"]) if case.database == "postgresql" else set()
        # Sign-in: by default wherever there is a database.
        signed_in = case.answers.get("auth", True)
        wanted |= case.files(ONLY_AUTH[case.framework]) if signed_in else set()
        wanted |= case.files(ONLY_WEB_AUTH) if signed_in and web else set()
    assert files == wanted


@every(CASES)
def test_readme_warns_where_anyone_can_change_the_data(rendered: tuple[Case, Path]) -> None:
    from newapp.stack import open_to_anyone

    case, project = rendered
    readme = " ".join((project / "README.md").read_text().split())
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    # Data and no sign-in: the README says who can change it, in newapp's words.
    unprotected = open_to_anyone(recorded)
    if case.database == "none" or recorded.get("auth"):
        assert unprotected is None and "### No sign-in" not in readme
    else:
        assert unprotected is not None and "anyone who can reach the server" in unprotected
        assert f"### No sign-in {unprotected[:1].upper()}{unprotected[1:]}." in readme


@every(CASES)
def test_python_compiles_and_has_no_template_leftovers(rendered: tuple[Case, Path]) -> None:
    _, project = rendered
    for path in project.rglob("*.py"):
        source = path.read_text()
        compile(source, str(path), "exec")
        assert "{{" not in source and "{%" not in source, path


@every(CASES)
def test_no_debug_server_anywhere(rendered: tuple[Case, Path]) -> None:
    _, project = rendered
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "debug=True" not in text, path
            # asyncio.run() is no server: the async migrations and their tests use it, nor is
            # subprocess.run(), how the sign-in tests run `create-user`.
            served = text.replace("asyncio.run(", "").replace("subprocess.run(", "")
            assert ".run(" not in served or path.name == "__main__.py", path


@every(CASES)
def test_answers_are_recorded(rendered: tuple[Case, Path]) -> None:
    case, project = rendered
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["framework"] == case.framework
    assert recorded["package_name"] == case.package
    for name, value in {**case.answers, **case.expected}.items():
        assert recorded[name] == value, name


@every(CASES)
def test_pyproject(rendered: tuple[Case, Path]) -> None:
    case, project = rendered
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert meta["project"]["name"] == recorded["project_name"]
    assert meta["project"]["description"] == recorded["description"]
    assert meta["project"]["requires-python"] == f">={case.python_version}"
    dependencies = " ".join(meta["project"]["dependencies"])
    server = "granian" if case.framework == "flask" else "granian[uvloop]"
    assert case.framework in dependencies and server in dependencies
    assert all(">=" in requirement for requirement in meta["project"]["dependencies"])
    assert {"pytest", "ruff", "mypy"} <= {
        _name(req) for req in meta["project"]["optional-dependencies"]["dev"]
    }
    assert meta["tool"]["mypy"]["strict"] is True
    # The checks hold the code to the oldest Python it promises to run on.
    assert meta["tool"]["mypy"]["python_version"] == case.python_version
    assert meta["tool"]["ruff"]["target-version"] == f"py{case.python_version.replace('.', '')}"
    if author := case.answers.get("author_name"):
        assert meta["project"]["authors"][0]["name"] == author


@every(CASES)
def test_dockerfile(rendered: tuple[Case, Path]) -> None:
    case, project = rendered
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    dockerfile = (project / "Dockerfile").read_text()
    assert dockerfile.count(f"FROM python:{case.python_version}-slim") == 2  # multi-stage
    assert f"EXPOSE {recorded['port']}" in dockerfile
    assert "ENV" in dockerfile and "HOST=0.0.0.0" in dockerfile
    assert "USER 10001" in dockerfile
    assert f'"python", "-m", "{case.package}.healthcheck"' in dockerfile
    assert "curl" not in dockerfile.replace("no curl", "")


@every(CI_CASES)
def test_ci_workflow_covers_supported_pythons(rendered: tuple[Case, Path]) -> None:
    case, project = rendered
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    matrix = workflow["jobs"]["check"]["strategy"]["matrix"]["python-version"]
    assert matrix == PYTHONS[PYTHONS.index(case.python_version) :]
    assert matrix[-1] == PYTHONS[-1]  # up to the newest offered
    steps = " ".join(str(step.get("run", "")) for step in workflow["jobs"]["check"]["steps"])
    for command in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert command in steps


@every(WEB_CASES)
def test_web_pages_escape_the_description(rendered: tuple[Case, Path]) -> None:
    case, project = rendered
    index = (project / f"src/{case.package}/templates/index.html").read_text()
    assert index.startswith('{% extends "base.html" %}')  # left for the app's own Jinja
    description = str(case.answers.get("description", ""))
    if "<" in description:
        assert "<b>" not in index and "&lt;b&gt;" in index
    if "{{" in description:
        assert "{{ braces" not in index


@pytest.mark.parametrize(
    ("answers", "complaint"),
    [
        ({"package_name": "class"}, "keyword"),
        ({"package_name": "json"}, "standard-library"),
        ({"project_name": "../escape"}, "path separator"),
        ({"port": 0}, "between 1 and 65535"),
        ({"framework": "django"}, "django"),
    ],
    ids=["keyword-package", "stdlib-package", "path-in-name", "port-zero", "unknown-framework"],
)
def test_bad_answer_fails(copie: Any, answers: dict[str, Any], complaint: str) -> None:
    result = copie.copy(extra_answers=answers, template_dir=REPO_ROOT)
    assert result.exit_code != 0
    assert complaint in str(result.exception)
    assert result.project_dir is None


def _name(requirement: str) -> str:
    for separator in "<>=[; ":
        requirement = requirement.split(separator)[0]
    return requirement


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_a_byte_compiled_template_renders_source_only(tmp_path: Path, framework: str) -> None:
    """pip byte-compiles the .py files of the template packed in newapp's wheel; none of that
    cache may reach a project."""
    import compileall

    from conftest import copy_template
    from support import render

    template = copy_template(tmp_path / "template")
    assert compileall.compile_dir(template, quiet=1)
    assert list(template.rglob("__pycache__"))  # what an installed newapp has
    project = render(tmp_path / "project", {"framework": framework}, template)
    cached = [p for p in project.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert cached == []


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "none"])
def test_a_sqlite_file_is_never_committed_whatever_the_database(
    tmp_path: Path, template_copy: Path, database: str
) -> None:
    """`newapp update --data database=postgresql` re-renders .gitignore: the SQLite file of the
    project's first days must stay out of `git add -A`."""
    import subprocess

    from support import render

    project = render(tmp_path / "project", {"database": database}, template_copy)
    (project / "data").mkdir(exist_ok=True)
    (project / "data" / "my_app.db").write_bytes(b"SQLite format 3\x00")
    subprocess.run(["git", "init", "--quiet", str(project)], check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "data/" not in status
    assert ".gitignore" in status  # git does see the project's files
