"""The command line, driven through Typer's CliRunner (and a subprocess where it must be real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import tree
from newapp import __version__
from newapp.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def fast_template(monkeypatch: pytest.MonkeyPatch, template_copy: Path, workdir: Path) -> Path:
    """Render from a plain copy of the templates (no git clone), in an empty folder."""
    monkeypatch.setenv("NEWAPP_TEMPLATE_DIR", str(template_copy))
    return workdir


def answers_of(project: Path) -> dict[str, object]:
    return dict(yaml.safe_load((project / ".copier-answers.yml").read_text()))


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"newapp {__version__}"


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("create", "recommend", "compare", "update"):
        assert command in result.stdout


FACTORS_IN_ORDER = [
    "Use case",
    "Performance",
    "Learning curve",
    "API documentation",
    "Type checking",
    "Community & ecosystem",
]


def test_compare_in_a_pipe_is_plain_lines_use_case_first() -> None:
    result = runner.invoke(app, ["compare"])  # CliRunner's stdout is no terminal, like a pipe
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert not any(box in result.stdout for box in "┏┃━│─╭")
    factors = [line.strip() for line in lines if line.startswith("  ") and line[2] != " "]
    assert factors == FACTORS_IN_ORDER
    assert "    Flask    Small to medium web apps, HTML pages" in lines
    assert max(len(line) for line in lines) <= 80


@pytest.mark.parametrize(
    ("flags", "framework"),
    [
        ([], "fastapi"),
        (["--app-kind", "web", "--no-auto-docs", "--no-type-validation"], "flask"),
        (
            ["--no-async-ok", "--needs-extensions", "--no-auto-docs", "--no-type-validation"],
            "flask",
        ),
    ],
    ids=["defaults", "web-no-docs", "new-to-async-with-extensions"],
)
def test_recommend_json_for_scripts(flags: list[str], framework: str) -> None:
    result = runner.invoke(app, ["recommend", "--json", *flags])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["framework"] == framework
    assert [r["factor"] for r in data["reasons"]] == FACTORS_IN_ORDER


def test_recommend_json_shape_is_the_readmes(workdir: Path) -> None:
    from conftest import REPO

    result = runner.invoke(app, ["recommend", "--json", "--yes"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    readme = " ".join((REPO / "README.md").read_text().split())
    shape = readme[readme.index('`{"framework"') :].split("`", 2)[1]
    keys = {*data, *data["reasons"][0], *data["database"], *data["auth"]}
    assert {key for key in keys if f'"{key}"' not in shape} == set()


def test_recommend_for_a_web_app_on_the_defaults_is_flask() -> None:
    """The defaults after `web` are what a web app most likely wants: no generated API docs,
    no validation from type hints; so Flask, with its reasons."""
    result = runner.invoke(app, ["recommend", "--json", "--yes", "--app-kind", "web"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["framework"] == "flask"
    answers = {reason["key"]: reason["answer"] for reason in data["reasons"]}
    assert (answers["auto_docs"], answers["type_validation"]) == (False, False)


def test_recommend_shows_reasons_in_a_panel() -> None:
    result = runner.invoke(app, ["recommend", "--yes", "--no-async-ok"])
    assert result.exit_code == 0
    assert "Recommended: FastAPI" in result.stdout
    assert "Learning curve" in result.stdout and "new to async" in result.stdout


def test_create_yes_renders_the_recommendation_with_next_steps(workdir: Path) -> None:
    result = runner.invoke(app, ["create", "my-api", "--yes"])
    assert result.exit_code == 0, result.output
    project = workdir / "my-api"
    answers = answers_of(project)
    assert answers["framework"] == "fastapi"
    assert answers["framework_chosen_by"] == "recommendation"
    assert answers["project_name"] == "my-api" and answers["package_name"] == "my_api"
    assert answers["_commit"] == f"v{__version__}"  # what `newapp update` starts from
    assert (project / "pyproject.toml").is_file()
    assert "python -m my_api" in result.stdout
    assert "curl http://127.0.0.1:8000/hello" in result.stdout
    assert "pip install -e '.[dev]'" in result.stdout
    assert "http://127.0.0.1:8000/docs" in result.stdout
    assert "FLASK_SECRET_KEY" not in result.stdout
    assert "╭" not in result.stdout  # plain lines, not panels, when stdout is no terminal


@pytest.mark.parametrize(
    ("args", "present", "absent"),
    [
        (["--framework", "flask"], "export FLASK_SECRET_KEY=", "/docs"),
        (["--framework", "flask"], "API docs: http://127.0.0.1:8000/openapi/swagger", "home page"),
        (
            ["--framework", "flask", "--no-auto-docs"],
            "curl http://127.0.0.1:8000/hello",
            "API docs",
        ),
        (["--framework", "fastapi", "--no-auto-docs"], "python -m svc", "/docs"),
        (["--framework", "fastapi", "--data", "port=9000"], "127.0.0.1:9000/docs", "8000"),
        (["--framework", "flask", "--app-kind", "web"], "curl http://127.0.0.1:8000/ ", "/hello"),
        (["--framework", "fastapi", "--app-kind", "web"], "the home page", "/hello"),
        (
            ["--framework", "fastapi", "--app-kind", "web", "--auto-docs"],
            "API docs: http://127.0.0.1:8000/docs",
            "/hello",
        ),
        (["--database", "sqlite"], "python -m svc migrate\n", "DATABASE_URL"),
        (["--database", "postgresql"], "export DATABASE_URL=postgresql://", "FLASK_SECRET"),
        (["--database", "none"], "python -m svc\n", "migrate"),
        (["--database", "sqlite"], "8000/items", "FLASK_SECRET"),
        (["--app-kind", "web"], "8000/pages/sign-in", "No sign-in"),
        (["--app-kind", "web", "--no-auth"], "No sign-in: anyone who can reach", "create-user"),
        (["--no-auth"], "No sign-in: anyone who can reach the server", "create-user"),
        ([], "create-user admin@example.com --admin", "No sign-in"),
    ],
    ids=[
        "flask-needs-a-secret",
        "flask-api-docs",
        "flask-without-docs",
        "fastapi-without-docs",
        "fastapi-port",
        "flask-web-home-page",
        "fastapi-web-home-page",
        "fastapi-web-docs",
        "sqlite-migrates-first",
        "postgresql-needs-its-url",
        "no-database-no-migrate",
        "items-to-try",
        "web-pages-sign-in-in-a-browser",
        "web-without-sign-in-says-anyone-can-write",
        "sign-in-off-says-anyone-can-write",
        "signed-in-api-no-warning",
    ],
)
def test_next_steps_fit_the_project(
    workdir: Path, args: list[str], present: str, absent: str
) -> None:
    result = runner.invoke(app, ["create", "svc", "--yes", *args])
    assert result.exit_code == 0, result.output
    steps = result.stdout[result.stdout.index("Next steps") :]
    assert present in steps
    assert absent not in steps


def test_next_steps_make_the_secret_as_the_projects_readme_does(workdir: Path) -> None:
    result = runner.invoke(app, ["create", "svc", "--yes", "--framework", "flask"])
    assert result.exit_code == 0, result.output
    [export] = [line.strip() for line in result.stdout.splitlines() if "FLASK_SECRET_KEY" in line]
    assert "token_hex(32)" in export
    assert export in (workdir / "svc" / "README.md").read_text()


HELP_COMMANDS = [[], ["create"], ["recommend"], ["compare"], ["update"]]


@pytest.mark.parametrize("columns", ["60", "80"])
@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: c[0] if c else "newapp")
def test_help_shows_each_options_values_and_cuts_no_word(command: list[str], columns: str) -> None:
    # A real process: Click's test runner fixes the width of some of the help.
    env = {**os.environ, "COLUMNS": columns}
    argv = [sys.executable, "-m", "newapp", *command, "--help"]
    shown = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    assert "…" not in shown and "..." not in shown.replace("COMMAND [ARGS]...", "")
    assert "<str>" not in shown and "list[" not in shown  # Python types say nothing to a user
    assert all(len(line) <= int(columns) for line in shown.splitlines())
    for line in shown.splitlines():  # a name with a hyphen never breaks at it
        assert not line.rstrip().endswith("-") or line.strip().startswith("-"), line
    if command == ["create"]:
        for option in (
            "--framework flask|fastapi",
            "--app-kind api|web",
            "--database sqlite|postgresql|none",
            "--name NAME",
            "-d, --data KEY=VALUE",
            "--answers-file FILE",
            ".copier-answers.yml",
        ):
            assert option in shown


def test_flags_and_data_land_in_the_answers(workdir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "create",
            "svc",
            "--framework",
            "flask",
            "--high-concurrency",
            "--data",
            "port=9000",
            "-d",
            "python_version=3.12",
            "--yes",
        ],
    )
    assert result.exit_code == 0, result.output
    answers = answers_of(workdir / "svc")
    assert answers["framework"] == "flask"
    assert answers["framework_chosen_by"] == "user"
    assert answers["high_concurrency"] is True
    assert answers["port"] == 9000
    assert answers["python_version"] == "3.12"
    assert "as you chose over the recommendation" in result.stdout


def test_flags_win_over_the_answers_file(workdir: Path) -> None:
    (workdir / "answers.yml").write_text("port: 7000\nframework: flask\nproject_name: from-file\n")
    result = runner.invoke(
        app, ["create", "--answers-file", "answers.yml", "--framework", "fastapi", "--yes"]
    )
    assert result.exit_code == 0, result.output
    answers = answers_of(workdir / "from-file")
    assert (answers["port"], answers["framework"]) == (7000, "fastapi")


def test_name_overrides_dest_basename(workdir: Path) -> None:
    result = runner.invoke(app, ["create", "out/dir", "--name", "billing", "--yes"])
    assert result.exit_code == 0, result.output
    assert answers_of(workdir / "out" / "dir")["package_name"] == "billing"


def test_jinja_in_an_answer_is_written_literally_never_evaluated(workdir: Path) -> None:
    result = runner.invoke(
        app, ["create", "p", "-d", "description=Sums {{ 7*7 }} {% raw %}", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert answers_of(workdir / "p")["description"] == "Sums {{ 7*7 }} {% raw %}"
    rendered = b"".join(tree(workdir / "p").values())
    assert b"Sums 49" not in rendered


def test_dry_run_lists_files_and_writes_nothing(workdir: Path) -> None:
    result = runner.invoke(app, ["create", "my-api", "--yes", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "pyproject.toml" in result.stdout and "Nothing was written" in result.stdout
    assert list(workdir.iterdir()) == []


def test_existing_files_are_a_conflict_and_nothing_changes(workdir: Path) -> None:
    project = workdir / "my-api"
    project.mkdir()
    (project / "pyproject.toml").write_text("mine\n")
    (project / "NOTES.md").write_text("notes\n")
    before = tree(project)
    result = runner.invoke(app, ["create", "my-api", "--yes"])
    assert result.exit_code == 3
    assert "pyproject.toml" in result.stderr and "--force" in result.stderr
    assert result.stdout == ""  # the error stands alone: no recommendation before it
    assert tree(project) == before
    assert sorted(p.name for p in workdir.iterdir()) == ["my-api"]  # no staging left behind


@pytest.mark.parametrize(
    ("args", "existing"),
    [
        (["my-api"], "pyproject.toml"),  # found before the first question, with no terminal
        (["my-api", "--yes"], ".copier-answers.yml"),
        (["my-api", "--yes"], "src/my_api/app.py"),  # only a full render finds this one
        (["--name", "my-api", "--yes"], "README.md"),  # the destination comes from the name
    ],
    ids=["before-asking", "answers-file", "package-file", "dest-from-name"],
)
def test_a_conflict_is_the_only_output(workdir: Path, args: list[str], existing: str) -> None:
    target = workdir / "my-api" / existing
    target.parent.mkdir(parents=True)
    target.write_text("mine\n")
    result = runner.invoke(app, ["create", *args])
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and existing in result.stderr
    assert target.read_text() == "mine\n"


def test_the_files_every_project_writes_are_in_every_project(template_copy: Path) -> None:
    from newapp.render import always_written

    assert always_written(template_copy) == [
        ".dockerignore",
        ".gitignore",
        "Dockerfile",
        "README.md",
        "pyproject.toml",
    ]


def test_force_replaces_only_template_files(workdir: Path) -> None:
    project = workdir / "my-api"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "LICENSE").write_text("mine\n")
    (project / "pyproject.toml").write_text("old\n")
    result = runner.invoke(app, ["create", "my-api", "--yes", "--force"])
    assert result.exit_code == 0, result.output
    assert "Replaced" in result.stdout and "pyproject.toml" in result.stdout
    assert (project / "LICENSE").read_text() == "mine\n"
    assert (project / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (project / "pyproject.toml").read_text() != "old\n"


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda p: (p / "src").write_text("a file\n"), "src"),
        (lambda p: (p / "pyproject.toml").mkdir(), "pyproject.toml"),
    ],
    ids=["file-where-a-folder-goes", "folder-where-a-file-goes"],
)
def test_force_refuses_what_it_cannot_replace_and_changes_nothing(
    workdir: Path, make: Any, named: str
) -> None:
    project = workdir / "my-api"
    project.mkdir()
    make(project)
    before = sorted(p.name for p in project.iterdir())
    result = runner.invoke(app, ["create", "my-api", "--yes", "--force"])
    assert result.exit_code == 3
    assert named in result.stderr and "--force cannot replace it" in result.stderr
    assert sorted(p.name for p in project.iterdir()) == before


def test_who_chose_the_framework_is_always_computed(workdir: Path) -> None:
    # Another project's answers file records it: accepted there, and computed afresh.
    (workdir / "old.yml").write_text("framework: flask\nframework_chosen_by: user\n")
    args = ["create", "y", "--yes", "--answers-file", "old.yml", "--framework", "fastapi"]
    assert runner.invoke(app, args).exit_code == 0
    assert answers_of(workdir / "y")["framework_chosen_by"] == "recommendation"


def test_untouched_user_files_are_no_conflict(workdir: Path) -> None:
    project = workdir / "my-api"
    (project / ".git").mkdir(parents=True)
    (project / "LICENSE").write_text("mine\n")
    result = runner.invoke(app, ["create", "my-api", "--yes"])
    assert result.exit_code == 0, result.output
    assert (project / "LICENSE").read_text() == "mine\n"
    assert (project / ".copier-answers.yml").is_file()


def test_same_answers_render_byte_identical_projects(workdir: Path) -> None:
    for name in ("one", "two"):
        result = runner.invoke(app, ["create", name, "--name", "same", "--yes"])
        assert result.exit_code == 0, result.output
    assert tree(workdir / "one") == tree(workdir / "two")


def test_answers_file_of_a_project_reproduces_it(workdir: Path) -> None:
    flags = [
        "--framework",
        "flask",
        "--app-kind",
        "web",
        "-d",
        "port=5001",
        "-d",
        "author_name=Ada",
        "-d",
        "author_email=ada@example.org",
        "--yes",
    ]
    assert runner.invoke(app, ["create", "old", *flags]).exit_code == 0
    result = runner.invoke(
        app, ["create", "new", "--answers-file", "old/.copier-answers.yml", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert tree(workdir / "new") == tree(workdir / "old")


def test_without_a_terminal_unanswered_questions_fail_fast(workdir: Path) -> None:
    result = runner.invoke(app, ["create", "my-api"])  # CliRunner's stdin is no terminal
    assert result.exit_code == 2
    assert "no terminal to ask" in result.stderr and "--yes" in result.stderr
    assert "app_kind" in result.stderr and "project_name" not in result.stderr
    assert list(workdir.iterdir()) == []


def test_fully_answered_runs_without_yes_or_terminal(workdir: Path) -> None:
    everything = {
        "app_kind": "api",
        "high_concurrency": False,
        "async_ok": True,
        "auto_docs": True,
        "type_validation": True,
        "needs_extensions": False,
        "framework": "fastapi",
        "database": "sqlite",
        "auth": True,
        "project_name": "full",
        "package_name": "full",
        "description": "d",
        "author_name": "",
        "author_email": "",
        "python_version": "3.11",
        "port": 8000,
        "ci": True,
    }
    (workdir / "a.yml").write_text(yaml.safe_dump(everything))
    result = runner.invoke(app, ["create", "--answers-file", "a.yml"])
    assert result.exit_code == 0, result.output
    assert (workdir / "full" / "pyproject.toml").is_file()


def test_an_unexpected_bug_is_one_line_pointing_at_debug(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("newapp.render.prepared", broken)
    result = runner.invoke(app, ["create", "x", "--yes"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "boom" in result.stderr and "--debug" in result.stderr
    assert "Traceback" not in result.output
    debug = runner.invoke(app, ["--debug", "create", "y", "--yes"])
    assert isinstance(debug.exception, RuntimeError)


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['newapp', '--help']\n"
        "from newapp.cli import main\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "heavy = [m for m in ('copier', 'questionary', 'rich', 'jinja2', 'yaml', 'prompt_toolkit')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "Usage: newapp" in result.stdout
    assert "HEAVY []" in result.stdout


@pytest.fixture
def checkout(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A source checkout of newapp (copier.yml, generator/newapp, git), the current folder."""
    top = workdir / "newapp"
    (top / "generator" / "newapp").mkdir(parents=True)
    (top / "copier.yml").write_text("# the question set\n")
    (top / ".gitignore").write_text("scratch/\n")
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    monkeypatch.chdir(top)
    return top


@pytest.mark.parametrize(
    "args",
    [["--yes"], ["--yes", "--dry-run"], ["sub/app", "--yes"], ["--name", "svc", "--yes"], []],
    ids=["readme-command", "dry-run", "a-subfolder", "by-name", "before-asking"],
)
def test_newapp_refuses_to_write_into_its_own_checkout(checkout: Path, args: list[str]) -> None:
    before = sorted(p.name for p in checkout.iterdir())
    result = runner.invoke(app, ["create", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "inside newapp's own source checkout" in result.stderr
    assert "elsewhere, e.g. newapp create ~/" in result.stderr
    assert sorted(p.name for p in checkout.iterdir()) == before


@pytest.mark.parametrize(
    ("dest", "made"),
    [("../outside", "../outside"), ("scratch/app", "scratch/app")],
    ids=["beside-the-checkout", "git-ignored-folder"],
)
def test_newapp_writes_outside_its_checkout_or_where_git_ignores(
    checkout: Path, dest: str, made: str
) -> None:
    result = runner.invoke(app, ["create", dest, "--yes"])
    assert result.exit_code == 0, result.output
    assert (checkout / made / "pyproject.toml").is_file()


def test_the_readme_command_in_this_checkout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import REPO

    monkeypatch.chdir(REPO)
    result = runner.invoke(app, ["create", "--yes", "--dry-run"])
    assert result.exit_code == 2
    assert f"{REPO / 'my-app'} is inside newapp's own source checkout" in result.stderr


def _readme_commands() -> list[str]:
    from conftest import REPO

    text = (REPO / "README.md").read_text()
    return [block.split("```", 1)[0].strip() for block in text.split("```bash\n")[1:]]


def test_the_readme_starts_with_the_two_set_up_commands() -> None:
    from conftest import REPO

    install_and_create, tests = _readme_commands()[:2]
    assert install_and_create == "python -m pip install . && newapp create ~/my-app --yes"
    # The test extra, installed by uv (seconds, where pip took half a minute), then the suite.
    assert tests.startswith("python -m pip install uv && python -m uv pip install -e '.[test]'")
    assert tests.endswith(" && python -m pytest -n auto --dist loadgroup")
    # .ci/run runs exactly this, as its last command.
    ci_run = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci_run[-1] == tests


def test_the_readme_create_command_lands_in_home_and_leaves_the_checkout_clean(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import REPO

    def status() -> str:
        git = ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=all"]
        return subprocess.run(git, capture_output=True, text=True, check=True).stdout

    create = _readme_commands()[0].split(" && ", 1)[1].split()
    assert create[:2] == ["newapp", "create"]
    before = status()
    monkeypatch.chdir(REPO)  # where the README's reader runs it
    args = [os.path.expanduser(word) for word in create[2:]]  # as the shell expands ~
    result = runner.invoke(app, ["create", *args])
    assert result.exit_code == 0, result.output
    home = Path(os.environ["HOME"])
    assert (home / "my-app" / "pyproject.toml").is_file()
    assert f"Created {home / 'my-app'}" in result.stdout
    assert status() == before


@pytest.mark.parametrize(
    ("flags", "signed_in"),
    [
        ([], True),
        (["--no-auth"], False),
        (["--database", "none"], False),
        (["--app-kind", "web", "--framework", "fastapi"], True),
        (["--app-kind", "web", "--framework", "flask"], True),
        (["--app-kind", "web", "--no-auth"], False),
    ],
    ids=["default", "no-auth", "no-database", "fastapi-web", "flask-web", "web-no-auth"],
)
def test_recommend_says_which_sign_in_stack_and_why(flags: list[str], signed_in: bool) -> None:
    from newapp.stack import auth_stack

    result = runner.invoke(app, ["recommend", "--json", "--yes", *flags])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    if not signed_in:
        assert data["auth"] is None
        return
    project = {"framework": data["contents_for"], "app_kind": "web" if "web" in flags else "api"}
    expected = auth_stack({**project, "auth": True, "database": "sqlite"})
    assert expected is not None
    assert data["auth"] == {"stack": expected.stack, "why": expected.why}
    shown = runner.invoke(app, ["recommend", "--yes", *flags])
    assert expected.why.split(";")[0] in " ".join(shown.output.split())


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--database", "none"], "sign-in needs a database"),
    ],
    ids=["no-database"],
)
def test_auth_where_it_cannot_be_is_refused_with_its_fix(
    workdir: Path, flags: list[str], said: str
) -> None:
    result = runner.invoke(app, ["create", "x", "--yes", *flags, "--auth"])
    assert result.exit_code == 2
    assert said in result.output and "--no-auth" in result.output
    assert not (workdir / "x").exists()
