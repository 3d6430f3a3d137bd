"""`newapp update`: template changes arrive, user edits stay, conflicts exit 4, refusals exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import newapp
from newapp.cli import app
from newapp.render import render

runner = CliRunner()

ANSWERS_TEMPLATE = (
    "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
    "{{ _copier_answers|to_nice_yaml -}}\n"
)
# A tiny template with the shape of newapp's: copier.yml at the root, files in a subfolder.
V1 = {
    "copier.yml": (
        "_subdirectory: template\n"
        "_answers_file: .copier-answers.yml\n"
        "_templates_suffix: .jinja\n"
        "project_name: {type: str, default: demo}\n"
        "framework: {type: str, choices: [flask, fastapi], default: fastapi}\n"
        "port: {type: int, default: 8000}\n"
    ),
    "template/{{_copier_conf.answers_file}}.jinja": ANSWERS_TEMPLATE,
    "template/app.py.jinja": (
        '"""{{ project_name }}: a {{ framework }} app."""\n\nPORT = {{ port }}\n\n\n'
        'def hello() -> str:\n    return "hello"\n\n\ndef bye() -> str:\n    return "bye"\n'
    ),
    "template/README.md.jinja": "# {{ project_name }}\n\nServes on port {{ port }}.\n",
    "template/notes/old.txt": "notes the next version drops\n",
}
# The next version: app.py's greeting changes, a changelog arrives, the notes go.
V2 = {
    **{path: text for path, text in V1.items() if not path.startswith("template/notes")},
    "template/app.py.jinja": V1["template/app.py.jinja"].replace('"hello"', '"hello, world"'),
    "template/CHANGELOG.md": "# Changes\n\n- greet the world\n",
}
USER_FUNCTION = "\n\ndef mine() -> int:\n    return 42\n"


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity (the tests' HOME has no git config)."""
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    result = subprocess.run(
        ["git", *identity, "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def write_files(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repository tagged v0.1.0 and v0.2.0, standing in for newapp's history."""
    repo = tmp_path_factory.mktemp("history")
    git(repo, "init", "--quiet")
    for tag, files in (("v0.1.0", V1), ("v0.2.0", V2)):
        if (repo / "template").exists():
            git(repo, "rm", "-r", "--quiet", "template")
        write_files(repo, files)
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", f"template {tag}")
        git(repo, "tag", tag)
    return repo


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory, history: Path) -> Callable[[str], Path]:
    """A project rendered as newapp's wheel renders (from a plain folder), once per version."""
    made: dict[str, Path] = {}

    def render_at(tag: str) -> Path:
        if tag not in made:
            base = tmp_path_factory.mktemp(f"rendered-{tag}")
            plain = base / "template"
            git(base, "clone", "--quiet", "--branch", tag, str(history), str(plain))
            shutil.rmtree(plain / ".git")  # a plain folder, as in a wheel
            with pytest.MonkeyPatch.context() as patch:  # render records newapp's version
                patch.setattr(newapp, "__version__", tag.removeprefix("v"))
                made[tag] = render(plain, {"project_name": "my-api"}, base / "my-api").dest
        return made[tag]

    return render_at


@pytest.fixture
def make_project(
    workdir: Path, history: Path, rendered: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Path]:
    """A fresh copy of a rendered project, committed to git; updates read `history`."""
    monkeypatch.setenv("NEWAPP_TEMPLATE_HISTORY", str(history))

    def make(tag: str = "v0.1.0") -> Path:
        project = workdir / "my-api"
        shutil.copytree(rendered(tag), project)
        git(project, "init", "--quiet")
        commit(project, "made by newapp")
        return project

    return make


def commit(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", message)


def edit(project: Path, relative: str, old: str, new: str) -> None:
    path = project / relative
    text = path.read_text()
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new))


def state(project: Path) -> tuple[dict[str, bytes], str]:
    """The project's files (outside .git) and what git says of them: what a refusal keeps."""
    files = {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }
    if not (project / ".git").exists():
        return files, ""
    return files, git(project, "log", "--format=%H") + git(project, "status", "--porcelain")


def answers_of(project: Path) -> dict[str, object]:
    return dict(yaml.safe_load((project / ".copier-answers.yml").read_text()))


def test_template_changes_arrive_and_user_edits_stay(make_project: Callable[..., Path]) -> None:
    project = make_project()
    source = answers_of(project)["_src_path"]
    (project / "app.py").write_text((project / "app.py").read_text() + USER_FUNCTION)
    edit(project, "README.md", "Serves on", "Listens on")  # a file the template leaves alone
    commit(project, "my edits")

    result = runner.invoke(app, ["update", str(project)])

    assert result.exit_code == 0, result.output
    assert "from 0.1.0 to 0.2.0" in result.stdout
    app_py = (project / "app.py").read_text()
    assert 'return "hello, world"' in app_py and "def mine()" in app_py
    assert "Listens on port 8000" in (project / "README.md").read_text()
    assert (project / "CHANGELOG.md").is_file()
    assert not (project / "notes").exists()
    answers = answers_of(project)
    assert answers["_commit"] == "v0.2.0" and answers["_src_path"] == source
    # Left for the user to review and commit, with nothing unmerged.
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    assert set(git(project, "status", "--porcelain").split()) >= {"app.py", "CHANGELOG.md"}


def test_same_lines_changed_leave_markers_and_exit_4(make_project: Callable[..., Path]) -> None:
    project = make_project()
    edit(project, "app.py", 'return "hello"', 'return "hi there"')
    commit(project, "my greeting")

    result = runner.invoke(app, ["update", str(project)])

    assert result.exit_code == 4, result.output
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message and "app.py" in message
    app_py = (project / "app.py").read_text()
    assert "<<<<<<< before updating" in app_py and ">>>>>>> after updating" in app_py
    assert '"hi there"' in app_py and '"hello, world"' in app_py
    assert git(project, "diff", "--name-only", "--diff-filter=U").split() == ["app.py"]
    assert (project / "CHANGELOG.md").is_file()  # the clean parts of the update still arrive


def test_dry_run_lists_changes_and_writes_nothing(make_project: Callable[..., Path]) -> None:
    project = make_project()
    before = state(project)

    result = runner.invoke(app, ["update", str(project), "--dry-run"])

    assert result.exit_code == 0, result.output
    for path in ("app.py", "CHANGELOG.md", "notes/old.txt", "Nothing was written"):
        assert path in result.stdout
    assert state(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_dry_run_reports_conflicts_with_exit_4(make_project: Callable[..., Path]) -> None:
    project = make_project()
    edit(project, "app.py", 'return "hello"', 'return "hi there"')
    commit(project, "my greeting")
    before = state(project)

    result = runner.invoke(app, ["update", str(project), "--dry-run"])

    assert result.exit_code == 4, result.output
    assert "app.py" in result.stderr and "nothing was written" in result.stderr
    assert state(project) == before


def test_a_current_project_is_already_up_to_date(
    make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project("v0.2.0")
    monkeypatch.chdir(project)  # `newapp update` with no path updates the current folder
    before = state(project)

    result = runner.invoke(app, ["update"])

    assert result.exit_code == 0, result.output
    assert "already up to date" in result.stdout
    assert state(project) == before


def test_data_changes_an_answer_and_keeps_edits(make_project: Callable[..., Path]) -> None:
    project = make_project("v0.2.0")
    edit(project, "README.md", "# my-api", "# My API, by me")
    commit(project, "my title")

    result = runner.invoke(app, ["update", str(project), "--data", "port=9000"])

    assert result.exit_code == 0, result.output
    assert "PORT = 9000" in (project / "app.py").read_text()
    assert (project / "README.md").read_text() == "# My API, by me\n\nServes on port 9000.\n"
    assert answers_of(project)["port"] == 9000


CHANGES_V1_TO_V2 = [
    {"action": "update", "path": ".copier-answers.yml"},  # the version it records
    {"action": "create", "path": "CHANGELOG.md"},
    {"action": "update", "path": "app.py"},
    {"action": "delete", "path": "notes/old.txt"},
]
CHECKS = [
    ("v0.1.0", 5, "0.1.0", CHANGES_V1_TO_V2),
    ("v0.2.0", 0, "0.2.0", []),
]


@pytest.mark.parametrize(
    ("tag", "exit_code", "current", "changes"), CHECKS, ids=["behind", "up-to-date"]
)
def test_check_update_json_says_whether_and_what_for_a_bot(
    make_project: Callable[..., Path],
    tag: str,
    exit_code: int,
    current: str,
    changes: list[dict[str, str]],
) -> None:
    project = make_project(tag)
    before = state(project)

    result = runner.invoke(app, ["check-update", str(project), "--json"])

    assert result.exit_code == exit_code, result.output
    assert json.loads(result.stdout) == {
        "update_available": exit_code == 5,
        "current_version": current,
        "latest_version": "0.2.0",
        "changes": changes,
        "conflicts": [],
    }
    assert state(project) == before  # a check writes nothing


def test_check_update_for_a_person_names_the_versions_and_the_conflicts(
    make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project()
    edit(project, "app.py", 'return "hello"', 'return "hi there"')
    commit(project, "my greeting")
    monkeypatch.chdir(project)  # no path: the current folder

    result = runner.invoke(app, ["check-update"])

    assert result.exit_code == 5, result.output
    assert "my-api is at newapp's template 0.1.0; 0.2.0 is available" in result.stdout
    assert "conflict" in result.stdout and "app.py" in result.stdout


def test_check_update_of_no_project_is_refused_like_update(workdir: Path) -> None:
    result = runner.invoke(app, ["check-update", str(workdir)])
    assert result.exit_code == 2
    assert "is not a newapp project" in result.stderr


def test_plain_copier_copy_from_git_gets_copiers_update(workdir: Path, history: Path) -> None:
    import copier

    project = workdir / "copied"
    copier.run_copy(str(history), project, vcs_ref="v0.1.0", defaults=True, quiet=True)
    git(project, "init", "--quiet")
    commit(project, "copied")

    result = runner.invoke(app, ["update", str(project)])

    assert result.exit_code == 0, result.output
    assert "from 0.1.0 to 0.2.0" in result.stdout
    assert 'return "hello, world"' in (project / "app.py").read_text()
    assert answers_of(project)["_src_path"] == str(history)


def _no_answers(project: Path) -> None:
    (project / ".copier-answers.yml").unlink()
    commit(project, "no answers")


def _no_git(project: Path) -> None:
    shutil.rmtree(project / ".git")


def _edited(project: Path) -> None:
    edit(project, "README.md", "Serves", "Will serve")


def _untracked(project: Path) -> None:
    (project / "scratch.txt").write_text("not committed yet\n")


def _newer(project: Path) -> None:
    edit(project, ".copier-answers.yml", "_commit: v0.1.0", "_commit: v0.3.0")
    commit(project, "pretend a newer newapp made it")


def _unknown_version(project: Path) -> None:
    edit(project, ".copier-answers.yml", "_commit: v0.1.0", "_commit: v0.0.7")
    commit(project, "pretend an unknown release made it")


# (id, how to spoil the project, extra arguments, a fragment of the one-line message)
REFUSALS = [
    ("no-answers-file", _no_answers, [], "not a newapp project"),
    ("not-in-git", _no_git, [], "not in a git repository"),
    ("uncommitted-edit", _edited, [], "uncommitted changes (README.md)"),
    ("untracked-file", _untracked, [], "uncommitted changes (scratch.txt)"),
    ("newer-project", _newer, [], "newer than this newapp's template 0.2.0"),
    ("version-not-in-history", _unknown_version, [], "does not hold"),
    ("framework-switch", None, ["-d", "framework=flask"], "newapp create NEW-FOLDER"),
    ("bad-port", None, ["-d", "port=http"], "not a whole number"),
    ("unknown-key", None, ["-d", "colour=blue"], "--data key 'colour' is unknown"),
]


@pytest.mark.parametrize(
    ("spoil", "args", "fragment"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusals_exit_2_and_change_nothing(
    make_project: Callable[..., Path],
    spoil: Callable[[Path], None] | None,
    args: list[str],
    fragment: str,
) -> None:
    project = make_project()
    if spoil is not None:
        spoil(project)
    before = state(project)

    result = runner.invoke(app, ["update", str(project), *args])

    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message
    assert fragment in message
    assert state(project) == before


def test_a_folder_that_is_no_project_is_refused(workdir: Path) -> None:
    result = runner.invoke(app, ["update", str(workdir)])
    assert result.exit_code == 2
    assert "no .copier-answers.yml" in result.stderr


# --- One wheel build updates a project made by the one before, through the console script -----

BUILD_INPUTS = ("pyproject.toml", "README.md", "hatch_build.py", "generator")


def _next_version(version: str) -> str:
    major, minor, micro = (int(part) for part in version.split(".")[:3])
    return f"{major}.{minor}.{micro + 1}"


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """newapp built twice from a scratch repository: the release tagged v<version>, then the
    next version (untagged: the build hook tags it in the bundle), whose template adds a file
    and a README line. Returns both wheels and the next version."""
    from conftest import REPO, copy_template
    from support import run_ok, uv_executable

    repo = copy_template(tmp_path_factory.mktemp("newapp-repo"))
    for name in BUILD_INPUTS:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, repo / name)
    for cache in repo.rglob("__pycache__"):
        shutil.rmtree(cache)
    git(repo, "init", "--quiet")
    commit(repo, "release")
    git(repo, "tag", f"v{newapp.__version__}")
    dist = tmp_path_factory.mktemp("dist")
    build = [uv_executable(), "build", "--quiet", "--wheel", "--out-dir"]
    run_ok([*build, dist / "1", repo], timeout=300)

    following = _next_version(newapp.__version__)
    init = repo / "generator" / "newapp" / "__init__.py"
    init.write_text(init.read_text().replace(newapp.__version__, following))
    write_files(repo, {"template_fastapi/UPGRADING.md": "# Upgrading\n"})
    readme = repo / "template_fastapi" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nUpdated by newapp update.\n")
    commit(repo, "next")
    run_ok([*build, dist / "2", repo], timeout=300)
    return next((dist / "1").glob("*.whl")), next((dist / "2").glob("*.whl")), following


@pytest.mark.e2e
# With the other installed-wheel tests (test_install.py): xdist hands out the larger groups
# first, and as a test of its own this one was among the last, ending the run 8 s after the rest.
@pytest.mark.xdist_group("install")
def test_next_wheel_updates_a_project_of_the_last_one_offline(
    wheels: tuple[Path, Path, str], tmp_path: Path
) -> None:
    from support import clean_env, install_packages, make_venv, run

    first, second, following = wheels
    python = make_venv(tmp_path / "venv", sys.executable)
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env({"HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}, venv_python=python)
    for name in ("NEWAPP_TEMPLATE_DIR", "NEWAPP_TEMPLATE_HISTORY", "GIT_CONFIG_GLOBAL"):
        env.pop(name, None)
    newapp_script = python.parent / "newapp"

    install_packages(python, [str(first)])
    made = run([newapp_script, "create", "my-api", "--yes"], cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    project = tmp_path / "my-api"
    git(project, "init", "--quiet")
    commit(project, "made by newapp")
    pyproject = project / "pyproject.toml"
    pyproject.write_text("# my own note\n" + pyproject.read_text())
    commit(project, "my edit")

    install_packages(python, [str(second)])
    # No network for the update: git may only read local files, and every proxy is a dead end.
    dead = "http://127.0.0.1:9"
    offline = {"GIT_ALLOW_PROTOCOL": "file", "HTTP_PROXY": dead, "HTTPS_PROXY": dead}
    result = run([newapp_script, "update"], cwd=project, env={**env, **offline, "ALL_PROXY": dead})

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"from {newapp.__version__} to {following}" in result.stdout
    assert (project / "UPGRADING.md").is_file()
    assert "Updated by newapp update." in (project / "README.md").read_text()
    assert pyproject.read_text().startswith("# my own note\n")
    assert answers_of(project)["_commit"] == f"v{following}"


# A project made before the sign-in question (an API) or before it was asked of web pages keeps
# serving its callers as it did: an update leaves sign-in off unless asked; a project that gains
# a database now gets the default.
KEPT = [
    ({"app_kind": "api", "database": "sqlite"}, {}, {"auth": False}),
    ({"app_kind": "api", "database": "sqlite"}, {"auth": True}, {}),
    ({"app_kind": "api", "database": "sqlite", "auth": True}, {}, {}),
    ({"app_kind": "api", "database": "none"}, {"database": "sqlite"}, {}),
    ({"app_kind": "web", "database": "sqlite"}, {}, {"auth": False}),
]


@pytest.mark.parametrize(
    ("last", "typed", "kept"),
    KEPT,
    ids=["older-api", "asked-for", "answered", "gains-a-database", "web"],
)
def test_an_older_project_keeps_sign_in_off_until_asked(
    last: dict[str, object], typed: dict[str, object], kept: dict[str, object]
) -> None:
    from newapp.questions import QuestionSet
    from newapp.update import _kept_as_they_were

    answers = {"framework": "fastapi", **last}
    assert _kept_as_they_were(QuestionSet(), answers, typed) == kept
