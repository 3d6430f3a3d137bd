"""Bad input: a documented exit code, one line naming the problem and the fix, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newapp.cli import app
from test_cli import runner

ANSWERS_FILES = {
    "malformed.yml": "port: 9000\n  bad: [\n",
    "unknown.yml": "port: 9000\ncolour: blue\n",
    "list.yml": "- port\n- 9000\n",
    "unquoted.yml": "python_version: 3.10\n",
    "badport.yml": "port: http\n",
}

# (id, arguments after `create`, exit code, a fragment of the message)
CASES = [
    ("keyword-package", ["-d", "package_name=class"], 2, "Python keyword"),
    ("stdlib-package", ["-d", "package_name=json"], 2, "standard-library module"),
    ("dependency-package", ["-d", "package_name=flask"], 2, "shadows a dependency"),
    ("tests-package", ["-d", "package_name=tests"], 2, "shadows a dependency"),
    ("uppercase-package", ["-d", "package_name=Bad"], 2, "lowercase ASCII identifier"),
    ("dashed-package", ["-d", "package_name=my-pkg"], 2, "lowercase ASCII identifier"),
    ("long-package", ["-d", "package_name=" + "p" * 41], 2, "longer than 40"),
    ("slash-name", ["--name", "a/b"], 2, "path separator"),
    ("dotdot-name", ["--name", ".."], 2, "path separator or '..'"),
    ("empty-name", ["--name", ""], 2, "project name is empty"),
    ("blank-name", ["--name", "   "], 2, "project name is empty"),
    ("dash-first-name", ["--name", "-x"], 2, "not a valid distribution name"),
    ("long-name", ["--name", "n" * 65], 2, "longer than 64"),
    ("jinja-name", ["--name", "x{{ 7*7 }}"], 2, "not a valid distribution name"),
    ("stdlib-derived-package", ["--name", "json"], 2, "--data package_name="),
    ("port-zero", ["-d", "port=0"], 2, "not between 1 and 65535"),
    ("port-too-big", ["-d", "port=65536"], 2, "not between 1 and 65535"),
    ("port-word", ["-d", "port=abc"], 2, "not a whole number"),
    ("port-negative", ["-d", "port=-5"], 2, "not a whole number"),
    ("email-no-at", ["-d", "author_email=foo"], 2, "not a plausible address"),
    ("email-no-dot", ["-d", "author_email=a@b"], 2, "not a plausible address"),
    ("python-too-old", ["-d", "python_version=3.10"], 2, "not one of 3.11, 3.12, 3.13, 3.14, 3.15"),
    ("framework-unknown", ["--framework", "django"], 2, "not one of flask, fastapi"),
    ("app-kind-unknown", ["--app-kind", "cli"], 2, "not one of api, web"),
    ("bool-perhaps", ["-d", "auto_docs=perhaps"], 2, "not true or false"),
    ("bool-ci-maybe", ["-d", "ci=maybe"], 2, "not true or false"),
    ("description-two-lines", ["-d", "description=a\nb"], 2, "one line"),
    ("data-unknown-key", ["-d", "colour=blue"], 2, "valid keys: app_kind"),
    ("data-computed-key", ["-d", "framework_chosen_by=user"], 2, "pass --framework instead"),
    ("data-no-equals", ["-d", "port"], 2, "is not KEY=VALUE"),
    ("data-empty-key", ["-d", "=x"], 2, "is not KEY=VALUE"),
    ("answers-missing", ["--answers-file", "missing.yml"], 2, "does not exist"),
    ("answers-malformed", ["--answers-file", "malformed.yml"], 2, "line 2"),
    ("answers-unknown-key", ["--answers-file", "unknown.yml"], 2, "unknown keys colour"),
    ("answers-not-mapping", ["--answers-file", "list.yml"], 2, "must be a mapping"),
    ("answers-unquoted-version", ["--answers-file", "unquoted.yml"], 2, "quote it"),
    ("answers-bad-port", ["--answers-file", "badport.yml"], 2, "not a whole number"),
    ("answers-is-a-folder", ["--answers-file", "."], 2, "cannot read answers file"),
    ("dest-is-a-file", ["afile"], 2, "is not a folder"),
    ("dest-under-a-file", ["afile/proj"], 2, "is a file, not a folder"),
    ("dry-run-under-a-file", ["afile/proj", "--dry-run"], 2, "is a file, not a folder"),
    ("dest-name-too-long", ["a" * 300, "--name", "ok"], 2, "too long"),
]


@pytest.fixture
def bad_inputs(workdir: Path, template_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWAPP_TEMPLATE_DIR", str(template_copy))
    for name, text in ANSWERS_FILES.items():
        (workdir / name).write_text(text)
    (workdir / "afile").write_text("a file, not a folder\n")
    return workdir


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in folder.rglob("*")
    }


@pytest.mark.parametrize(
    ("args", "code", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input(bad_inputs: Path, args: list[str], code: int, fragment: str) -> None:
    before = snapshot(bad_inputs)
    argv = ["create", *args] if args and not args[0].startswith("-") else ["create", "proj", *args]
    result = runner.invoke(app, [*argv, "--yes"])
    assert result.exit_code == code, result.output
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message
    assert fragment in message
    assert "Traceback" not in result.output
    assert snapshot(bad_inputs) == before  # nothing written, no staging folder left


def test_click_usage_errors_keep_clicks_short_form(bad_inputs: Path) -> None:
    result = runner.invoke(app, ["create", "--colour", "blue"])
    assert result.exit_code == 2
    assert "No such option: --colour" in result.stderr
    assert "Traceback" not in result.output and "╭" not in result.output
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 3


@pytest.mark.parametrize("command", ["create", "update"])
def test_data_lists_only_the_keys_a_user_may_set(bad_inputs: Path, command: str) -> None:
    result = runner.invoke(app, [command, "-d", "colour=blue"])
    assert result.exit_code == 2
    assert "valid keys: app_kind" in result.stderr and "ci" in result.stderr
    assert "framework_chosen_by" not in result.stderr


@pytest.mark.parametrize("command", ["create", "update"])
def test_data_refuses_the_key_newapp_computes_in_one_line(bad_inputs: Path, command: str) -> None:
    result = runner.invoke(app, [command, "-d", "framework_chosen_by=user"])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith("error: --data framework_chosen_by cannot be set: newapp records")
    assert "\n" not in message


# On the command line, the fix copier.yml gives ends with the flag that applies it.
FLAG_ADVICE = [
    (["--name", ""], "project name is empty; give one (such as my-app) with --name"),
    (
        ["-d", "port=99999"],
        "port 99999 is not between 1 and 65535; choose another (such as 8000) with --data port=...",
    ),
    (
        ["-d", "auto_docs=perhaps"],
        "auto_docs 'perhaps' is not true or false; answer yes or no with --auto-docs or "
        "--no-auto-docs",
    ),
    (
        ["--framework", "django"],
        "framework 'django' is not one of flask, fastapi; choose one with "
        "--framework flask|fastapi",
    ),
    (
        ["--answers-file", "badport.yml"],
        "port 'http' is not a whole number; give one with --data port=...",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"),
    FLAG_ADVICE,
    ids=["empty-name", "port-range", "bool-word", "framework-choice", "answers-file-port"],
)
def test_flag_advice_for_answers_given_on_the_command_line(
    bad_inputs: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["create", "proj", *args, "--yes"])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize(
    "args",
    [["recommend", "--yes"], ["recommend", "--json"], ["compare"], ["--version"]],
    ids=["recommend", "recommend-json", "compare", "version"],
)
def test_a_full_stdout_is_a_one_line_error(bad_inputs: Path, args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "newapp", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == "error: cannot write the output: No space left on device\n"


def test_a_closed_pipe_is_a_one_line_error(bad_inputs: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "newapp", "compare"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader went away before newapp wrote
    assert child.wait(timeout=60) == 1
    assert child.stderr.read() == "error: cannot write the output: Broken pipe\n"


@pytest.mark.parametrize("where", ["src", "src/pkg"], ids=["subfolder", "deeper"])
def test_update_from_inside_a_project_points_at_its_root(
    bad_inputs: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    project = bad_inputs / "proj"
    (project / where).mkdir(parents=True)
    (project / ".copier-answers.yml").write_text("_commit: v0.1.0\nframework: flask\n")
    monkeypatch.chdir(project / where)
    result = runner.invoke(app, ["update"])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert "not a newapp project" not in message
    assert message.startswith(f"error: {project / where} is a folder inside the newapp project")
    expected = "../.." if where == "src/pkg" else ".."
    assert message.endswith(f"update the whole project: newapp update {expected}")
