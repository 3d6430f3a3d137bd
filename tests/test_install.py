"""The newcomer's path, end to end: newapp installed from its wheel makes projects that run."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import newapp
from conftest import REPO, tree
from projects import MAIN, POSTGRES, answered
from signin import bearer, run_create_user
from support import (
    Response,
    Server,
    clean_env,
    find_python,
    free_port,
    install,
    install_packages,
    make_venv,
    request,
    run,
    run_ok,
    start_server,
    stop,
    uv_executable,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("install")]
# The projects installed here run on this Python: the default one (3.14) may not be here.
THIS_PYTHON = f"python_version={sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class Installed:
    """newapp installed from its wheel into a fresh virtualenv, with a home of its own."""

    script: Path
    home: Path
    wheel: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = clean_env({"HOME": str(self.home), "NO_COLOR": "1", **extra}, self.script.parent)
        for name in ("NEWAPP_TEMPLATE_DIR", "NEWAPP_TEMPLATE_HISTORY", "GIT_CONFIG_GLOBAL"):
            env.pop(name, None)  # the wheel alone must do: nothing may point back at the repo
        return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A non-editable install of a wheel built from this checkout."""
    dist = tmp_path_factory.mktemp("dist")
    run_ok([uv_executable(), "build", "--quiet", "--wheel", "--out-dir", dist, REPO], timeout=300)
    [wheel] = dist.glob("newapp-*.whl")
    python = make_venv(tmp_path_factory.mktemp("newapp") / ".venv", sys.executable)
    install_packages(python, [str(wheel)])
    home = tmp_path_factory.mktemp("home")
    return Installed(python.parent / "newapp", home, wheel)


@pytest.fixture(scope="session")
def created(
    installed: Installed, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., tuple[Path, Path]]:
    """`newapp create NAME --yes [ARGS]` by the installed script, then the project installed
    with its dev extra into its own fresh virtualenv; each name is made once."""
    made: dict[str, tuple[Path, Path]] = {}

    def create(name: str, *args: str) -> tuple[Path, Path]:
        if name not in made:
            where = tmp_path_factory.mktemp("created")
            argv = [installed.script, "create", name, "--yes", "-d", THIS_PYTHON, *args]
            result = run(argv, where, installed.env())
            assert result.returncode == 0, result.stdout + result.stderr
            project = where / name
            python = make_venv(project / ".venv", sys.executable)
            install(python, project)
            made[name] = (project, python)
        return made[name]

    return create


def test_version_and_help_of_the_installed_script(installed: Installed) -> None:
    version = run_ok([installed.script, "--version"], env=installed.env())
    assert newapp.__version__ in version
    assert "create" in run_ok([installed.script, "--help"], env=installed.env())


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_newapp_runs_on_other_pythons(installed: Installed, tmp_path: Path, version: str) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} here (looked in pyenv and PATH)")
    venv_python = make_venv(tmp_path / ".venv", python)
    install_packages(venv_python, [str(installed.wheel)])
    run_ok([venv_python.parent / "newapp", "create", "app", "--yes"], tmp_path, installed.env())
    assert "framework: fastapi" in (tmp_path / "app" / ".copier-answers.yml").read_text()


# The README's promise: `newapp create my-api --yes` on the defaults makes a FastAPI project
# (a JSON API is the default use case), and --framework flask the Flask one.
CASES = [
    pytest.param("my-api", (), "my_api", "FastAPI", id="defaults-fastapi"),
    pytest.param("my-site", ("--framework", "flask"), "my_site", "Flask", id="flask"),
]


@pytest.mark.parametrize(("name", "args", "package", "framework"), CASES)
def test_created_project_passes_its_own_tests(
    created: Callable[..., tuple[Path, Path]],
    name: str,
    args: tuple[str, ...],
    package: str,
    framework: str,
) -> None:
    """Also the run of the main projects' own tests (test_generated_e2e.py does not repeat
    it): the code answers and the Python are the main project's, so the code is its code."""
    project, python = created(name, *args)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert MAIN[framework.lower()].has_the_code_of(answers)
    run_ok([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, clean_env(), 300)


@pytest.mark.parametrize(("name", "args", "package", "framework"), CASES)
def test_created_project_serves_hello_and_stops_on_sigterm(
    created: Callable[..., tuple[Path, Path]],
    tmp_path: Path,
    name: str,
    args: tuple[str, ...],
    package: str,
    framework: str,
) -> None:
    project, python = created(name, *args)
    port = free_port()
    env = clean_env({"PORT": str(port), "FLASK_SECRET_KEY": "e2e-only"}, venv_python=python)
    server = start_server([python, "-m", package], env, "127.0.0.1", port, tmp_path, cwd=project)
    try:
        hello = request(server, "GET", "/hello")
    finally:
        exit_code = stop(server, timeout=10)
    # Exactly one key and value, whatever the JSON spacing.
    assert (hello.status, json.loads(hello.body)) == (200, {"message": f"Hello, {framework}!"})
    assert exit_code == 0
    assert "Traceback" not in server.stdout() + server.stderr()


def _git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    return run_ok(["git", *identity, "-c", "commit.gpgsign=false", *args], cwd, clean_env())


def _commit(project: Path, message: str) -> None:
    _git(project, "add", "-A")
    _git(project, "commit", "--quiet", "-m", message)


# A route of the user's own, added to the file the template writes its routes in.
USER_ROUTE = '''

@{decorator}("/mine")
def mine() -> dict[str, str]:
    """Added by the project's owner; no update may drop it."""
    return {{"mine": "kept"}}
'''


SECRET = "e2e-only secret, thirty-two bytes or more"
ADMIN = "admin@example.com"


def _update(installed: Installed, project: Path, *data: str) -> None:
    """`newapp update --data ...` in `project`, then a commit of what it changed."""
    update: list[str | Path] = [installed.script, "update"]
    update += [arg for d in data for arg in ("--data", d)]
    result = run(update, project, installed.env())
    assert result.returncode == 0, result.stdout + result.stderr
    _commit(project, " ".join(data))


def _serve(python: Path, project: Path, env: dict[str, str], log_dir: Path) -> Server:
    port = free_port()
    argv: list[str | Path] = [python, "-m", project.name]
    return start_server(argv, {**env, "PORT": str(port)}, "127.0.0.1", port, log_dir, cwd=project)


def _json(server: Server, method: str, path: str, body: object, **headers: str) -> Response:
    data = json.dumps(body).encode()
    return request(server, method, path, data, {"Content-Type": "application/json", **headers})


@pytest.mark.parametrize(
    ("framework", "app_kind"),
    [("flask", "api"), ("fastapi", "api"), ("fastapi", "web")],
    ids=["flask", "fastapi", "fastapi-web"],
)
def test_updates_add_a_database_then_sign_in_keeping_edits_and_items(
    installed: Installed, tmp_path: Path, framework: str, app_kind: str
) -> None:
    """none -> sqlite without sign-in -> sign-in -> postgresql, each with `newapp update
    --data`: the user's own route stays every time, the items stored before sign-in stay (an
    admin's to see), web pages gain their sign-in pages, and the merged project then passes
    its own tests."""
    args = ["create", "shop", "--yes", "-d", THIS_PYTHON, "--framework", framework]
    args += ["--app-kind", app_kind]
    run_ok([installed.script, *args, "--database", "none"], tmp_path, installed.env())
    project = tmp_path / "shop"
    _git(project, "init", "--quiet")
    _commit(project, "made by newapp")
    routes = project / "src" / "shop" / "routes.py"
    decorator = "bp.get" if framework == "flask" else "router.get"
    routes.write_text(routes.read_text() + USER_ROUTE.format(decorator=decorator))
    _commit(project, "my route")

    # A database, no sign-in yet: anyone may write, and two items are stored.
    _update(installed, project, "database=sqlite", "auth=false")
    assert (project / "src/shop/db.py").is_file() and not (project / "src/shop/users.py").exists()
    python = make_venv(project / ".venv", sys.executable)
    install(python, project)
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    env = clean_env({"DATABASE_URL": url, "SECRET_KEY": SECRET, "FLASK_SECRET_KEY": SECRET}, python)
    run_ok([python, "-m", "shop", "migrate"], project, env)
    server = _serve(python, project, env, tmp_path / "before")
    try:
        for name in ("stored before sign-in", "and another"):
            assert _json(server, "POST", "/items", {"name": name}).status == 201
    finally:
        assert stop(server) == 0

    # Sign-in arrives: the same database migrated on, its items kept for the admin.
    _update(installed, project, "auth=true")
    assert 'return {"mine": "kept"}' in routes.read_text()
    install(python, project)  # sign-in brings its dependencies
    run_ok([python, "-m", "shop", "migrate"], project, env)
    made = run_create_user([python, "-m", "shop"], project, env, ADMIN, admin=True)
    assert made.returncode == 0, made.stderr
    server = _serve(python, project, env, tmp_path / "after")
    try:
        assert _json(server, "POST", "/items", {"name": "by a stranger"}).status == 401
        admin = bearer(server, ADMIN)
        listed = request(server, "GET", "/items", headers=admin).json()["items"]
        assert [item["name"] for item in listed] == ["stored before sign-in", "and another"]
        assert request(server, "GET", "/mine").json() == {"mine": "kept"}
        if app_kind == "web":  # the items page now sends a visitor to sign in first
            page = request(server, "GET", "/pages/items")
            assert page.status in (302, 303)
            assert "/pages/sign-in?next=" in page.headers["location"]
            assert request(server, "GET", "/pages/sign-in").status == 200
    finally:
        assert stop(server) == 0

    # The updated project is, file for file, what `newapp create` makes for its answers now,
    # plus the user's route; and that is the code whose own tests and checks pass in
    # test_generated_e2e.py (on this Python). An API goes on to PostgreSQL first (a web
    # project's database switch is the same update, already proven here for the API).
    final = ["--auth"]
    if app_kind == "api":
        _update(installed, project, "database=postgresql")
        assert (project / "compose.yaml").is_file()
        assert 'return {"mine": "kept"}' in routes.read_text()
        final = ["--database", "postgresql", "--auth"]
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["auth"] is True
    checked = (
        POSTGRES["flask" if framework == "flask" else "fastapi-async"]
        if app_kind == "api"
        else answered(framework, "web", database="sqlite")  # combo-fastapi-web-sqlite
    )
    assert checked.has_the_code_of(answers)
    mine = USER_ROUTE.format(decorator=decorator)
    _is_what_create_makes(installed, project, [*args, *final], tmp_path / "fresh", mine)
    if app_kind == "web":
        _takes_sign_in_out(installed, project, python, env, tmp_path, [*args, "--no-auth"], mine)


def _takes_sign_in_out(
    installed: Installed,
    project: Path,
    python: Path,
    env: dict[str, str],
    tmp_path: Path,
    args: list[str],
    mine: str,
) -> None:
    """`newapp update --data auth=false`: sign-in's files and routes leave, its migration stays
    (the database ran it) and a new one drops its tables; the items stay, open to anyone."""
    said = run_ok([installed.script, "update", "--data", "auth=false"], project, installed.env())
    versions = "src/shop/migrations/versions/"
    users, drop = f"{versions}rev_0002_create_users.py", f"{versions}rev_0003_drop_users.py"
    assert f"create     {drop}" in said and "delete     src/shop/sessions.py" in said
    assert "migrate` runs rev_0003_drop_users.py, which drops the users table" in said
    _commit(project, "auth=false")
    migrated = run_ok([python, "-m", "shop", "migrate"], project, env)
    assert "at 0003 (Take sign-in out: drop the items' owners and the users table" in migrated
    server = _serve(python, project, env, tmp_path / "signed-out")
    try:
        listed = request(server, "GET", "/items").json()["items"]
        assert [item["name"] for item in listed] == ["stored before sign-in", "and another"]
        assert request(server, "GET", "/mine").json() == {"mine": "kept"}
        assert request(server, "GET", "/pages/items").status == 200
        assert request(server, "GET", "/pages/sign-in").status == 404
    finally:
        assert stop(server) == 0
    fresh = tmp_path / "fresh-without-sign-in"
    _is_what_create_makes(installed, project, args, fresh, mine, kept=[users, drop])
    # The kept migrations are the project's now: its own tests (down to nothing and up again
    # through all three) and checks pass with them.
    for check in (
        ["pytest", "-q", "-p", "no:cacheprovider"],
        ["ruff", "check"],
        ["ruff", "format", "--check"],
    ):
        run_ok([python, "-m", *check, "."], project, clean_env({}, python))


def _is_what_create_makes(
    installed: Installed,
    project: Path,
    args: list[str],
    where: Path,
    mine: str,
    kept: list[str] | None = None,
) -> None:
    """The project is, file for file, what `newapp create` makes with `args`, plus the user's
    route `mine` and the files in `kept` (ones the update keeps that a new project lacks)."""
    where.mkdir()
    run_ok([installed.script, *args], where, installed.env())
    tracked = _git(project, "ls-files").split()
    created = tree(where / "shop")
    assert sorted(tracked) == sorted([*created, *(kept or [])])
    changed = [path for path in created if (project / path).read_bytes() != created[path]]
    assert changed == ["src/shop/routes.py"]
    assert (project / changed[0]).read_bytes() == created[changed[0]] + mine.encode()
