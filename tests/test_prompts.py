"""The interactive flow in a real pseudo-terminal: every question answered, one re-asked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from newapp.prompts import fit, reserve, show_error
from newapp.questions import Question, QuestionSet

CTRL_U = "\x15"  # clear the prompt's pre-filled default
DOWN = "\x1b[B"


def spawn(workdir: Path, template_copy: Path, *args: str, columns: int = 80) -> pexpect.spawn:
    """newapp in a pseudo-terminal `columns` wide; $COLUMNS dropped, as a terminal does not
    export it. PROMPT_TOOLKIT_NO_CPR: a pty never answers prompt_toolkit's cursor-position
    request, and each prompt would wait for that answer before it draws."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env.update(NEWAPP_TEMPLATE_DIR=str(template_copy), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    return pexpect.spawn(
        sys.executable,
        ["-m", "newapp", *args],
        cwd=str(workdir),
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, columns),
    )


def test_interactive_create_asks_recommends_and_reasks_a_bad_answer(
    workdir: Path, template_copy: Path
) -> None:
    child = spawn(workdir, template_copy, "create", columns=160)
    try:

        def answer(prompt: str, keys: str) -> None:
            child.expect(prompt)
            child.send(keys)

        child.expect("6 questions about what the app needs, then Flask or FastAPI recommended")
        child.expect("Enter takes the answer shown")  # said before the first question
        answer("Use case", "\r")  # api, the default
        answer("Performance", "y\r")  # a letter, then Enter: one answer
        answer("Learning curve", "n\r")
        answer("API documentation", "y\r")
        answer("Type checking", "y\r")
        answer("Community & ecosystem", "n\r")
        child.expect(r"Recommended: \S*FastAPI")
        child.expect("new to async")  # the reasons are shown before the choice
        answer("Framework", DOWN + "\r")  # take Flask instead
        answer("Database", DOWN + "\r")  # postgresql
        answer("Sign-in", "\r")  # yes, the default for an API with a database
        answer("Project name", CTRL_U + "shop-api\r")
        answer("Python package name", CTRL_U + "class\r")
        child.expect("Python keyword")  # nothing rendered yet: the question is asked again
        child.expect("Python package name")
        child.send(CTRL_U + "shop\r")
        answer("One-line description", "\r")
        answer("Author name", CTRL_U + "Ada\r")
        answer("Author e-mail", CTRL_U + "ada@example.org\r")
        answer("Lowest Python", DOWN + "\r")
        answer("Port", CTRL_U + "9000\r")
        answer("GitHub Actions", "n\r")
        child.expect("Next steps")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    answers = yaml.safe_load((workdir / "shop-api" / ".copier-answers.yml").read_text())
    assert answers["framework"] == "flask"
    assert answers["framework_chosen_by"] == "user"
    assert answers["package_name"] == "shop"
    assert answers["database"] == "postgresql"
    assert answers["high_concurrency"] is True and answers["async_ok"] is False
    assert (answers["author_name"], answers["author_email"]) == ("Ada", "ada@example.org")
    assert answers["auth"] is True
    assert (answers["python_version"], answers["port"], answers["ci"]) == ("3.15", 9000, False)


def test_ctrl_c_at_a_prompt_cancels_cleanly(workdir: Path, template_copy: Path) -> None:
    child = spawn(workdir, template_copy, "create", "my-api")
    try:
        child.expect("Use case")
        child.sendcontrol("c")
        child.expect("cancelled, nothing was written")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130
    assert list(workdir.iterdir()) == []


def until_exit(child: pexpect.spawn) -> str:
    """Everything the child shows until it exits, which must be with status 0."""
    try:
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    return str(child.before)


def spawn_80(workdir: Path, template_copy: Path, *args: str) -> pexpect.spawn:
    """newapp in an 80-column terminal."""
    return spawn(workdir, template_copy, *args, columns=80)


# What a terminal draws with but does not show: escape sequences and carriage returns.
CONTROL = r"(?:\x1b\[[0-9;?]*[A-Za-z]|\r)*"


def words(text: str) -> str:
    """`text` with each run of white space as one space: a message however it was wrapped."""
    return " ".join(text.split())


# At each prompt, the bad answers typed there and the whole error each one shows.
PROMPT_ERRORS = {
    "Project name": [
        (
            "-bad-",
            "project name '-bad-' is not a valid distribution name (letters, digits, '-', '_' "
            "and '.', starting and ending with a letter or digit); choose another",
        ),
        ("", "project name is empty; give one (such as my-app)"),
    ],
    "Port": [
        ("99999", "port 99999 is not between 1 and 65535; choose another (such as 8000)"),
        ("http", "port 'http' is not a whole number; give one"),
    ],
}
GOOD = {"Project name": "shop", "Port": "8000"}


def test_at_80_columns_questions_wrap_at_words_and_errors_say_what_to_type(
    workdir: Path, template_copy: Path
) -> None:
    args = ["create", "--framework", "fastapi", "--database", "sqlite", "--data", "ci=true"]
    child = spawn_80(workdir, template_copy, *args)
    shown = []
    try:
        # The long use-case question breaks between two words, at 80 columns.
        child.expect(rf"web = HTML{CONTROL}\n{CONTROL}  pages for people")
        for prompt in [
            "Performance",
            "Learning curve",
            "API documentation",
            "Type checking",
            "Community & ecosystem",
        ]:
            child.send("\r")
            child.expect(prompt)
        child.send("\r")
        for prompt in (
            "Sign-in",
            "Project name",
            "Python package",
            "One-line",
            "Author name",
            "Author e-mail",
            "Lowest Python",
            "Port",
        ):
            child.expect(prompt)
            for typed, _ in PROMPT_ERRORS.get(prompt, []):
                child.send(CTRL_U + typed + "\r")
                child.expect("✗ ")
                child.expect(prompt)  # asked again
                shown.append(words(re.sub(CONTROL, "", child.before)).removesuffix(" ?"))
            child.send(CTRL_U + GOOD[prompt] + "\r" if prompt in GOOD else "\r")
        child.expect("Next steps")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert shown == [message for errors in PROMPT_ERRORS.values() for _, message in errors]
    assert not any("--" in message for message in shown)  # no flag advice at a prompt


def test_at_80_columns_an_error_wraps_between_words(workdir: Path, template_copy: Path) -> None:
    child = spawn_80(workdir, template_copy, "create", "x", "--name", "-bad-", "--yes")
    try:
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 2
    lines = child.before.strip().split("\r\n")
    assert len(lines) > 1 and all(len(line) < 80 for line in lines)
    assert all(line.startswith("       ") for line in lines[1:])  # under the message
    assert words(child.before) == (
        "error: project name '-bad-' is not a valid distribution name (letters, digits, '-', "
        "'_' and '.', starting and ending with a letter or digit); choose another with --name"
    )


def _lines_on_screen(message: str, reserve: int) -> list[str]:
    """How questionary draws a fitted question: "? " first, then `reserve` columns after it."""
    lines = f"? {message}".split("\n")
    lines[-1] += " " + "x" * reserve
    return lines


@pytest.mark.parametrize("columns", [80, 120, 40])
@pytest.mark.parametrize("question", QuestionSet().questions, ids=lambda q: q.key)
def test_every_question_fits_the_terminal_between_words(question: Question, columns: int) -> None:
    # What the prompt adds after the question: its hint or echoed answer, or a typed default.
    for after in (reserve(question), len("A FastAPI JSON API made with newapp")):
        message = fit(question.help, reserve=after, columns=columns)
        assert words(message) == words(question.help)  # nothing lost, no word cut
        longest = max(len(word) for word in question.help.split())
        if longest + 2 < columns and after + 2 < columns:
            assert all(len(line) < columns for line in _lines_on_screen(message, after))


@pytest.mark.parametrize(
    "message",
    [
        "project name '" + "n" * 64 + "' is longer than 64 characters; choose a shorter one",
        "project name '-bad-' is not a valid distribution name (letters, digits, '-', '_' and "
        "'.', starting and ending with a letter or digit); choose another",
        "author e-mail 'someone-at-example' is not a plausible address (name@example.com); "
        "leave it empty or fix it",
    ],
    ids=["long-name", "invalid-name", "email"],
)
def test_a_prompt_error_is_shown_whole_within_80_columns(
    message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    show_error(message, columns=80)
    shown = capsys.readouterr().out
    assert words(shown) == words(f"✗ {message}")
    assert all(len(line) < 80 for line in shown.splitlines() if " " in line.strip())


@pytest.mark.parametrize(
    ("framework", "command"),
    [
        (
            "flask",
            "export FLASK_SECRET_KEY="
            "\"$(python -c 'import secrets; print(secrets.token_hex(32))')\"",
        ),
        ("fastapi", "curl http://127.0.0.1:8000/    # the home page: open it in a browser, too"),
    ],
    ids=["flask-secret", "fastapi-home-page"],
)
def test_at_80_columns_next_steps_keep_each_command_whole(
    workdir: Path, template_copy: Path, framework: str, command: str
) -> None:
    args = ["create", "svc", "--yes", "--framework", framework, "--app-kind", "web"]
    child = spawn_80(workdir, template_copy, *args)
    try:
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    shown = re.sub(CONTROL, "", child.before)
    assert command in shown  # on one line: copied from the terminal, it runs
    assert all(len(line) <= 80 for line in shown.split("\n") if "│" in line or "╭" in line)


def test_a_typed_name_whose_folder_holds_a_project_is_asked_again(
    workdir: Path, template_copy: Path
) -> None:
    (workdir / "my-app").mkdir()
    (workdir / "my-app" / "pyproject.toml").write_text("mine\n")
    factors = ["--app-kind", "api", "--no-high-concurrency", "--async-ok", "--auto-docs"]
    factors += ["--type-validation", "--no-needs-extensions", "--database", "none"]
    child = spawn_80(workdir, template_copy, "create", "--framework", "fastapi", *factors)
    try:
        child.expect("Project name")
        child.send("\r")  # the default, my-app: its folder holds a project
        child.expect("✗ ")
        child.expect("Project name")
        shown = words(re.sub(CONTROL, "", child.before)).removesuffix(" ?")
        child.send(CTRL_U + "other\r")
        for prompt in ("Python package", "One-line", "Author name", "Author e-mail"):
            child.expect(prompt)
            child.send("\r")
        for prompt in ("Lowest Python", "Port", "GitHub Actions"):
            child.expect(prompt)
            child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert shown == (
        f"{workdir / 'my-app'} already holds files the template would write (pyproject.toml); "
        "type another name"
    )
    assert (workdir / "my-app" / "pyproject.toml").read_text() == "mine\n"
    assert (workdir / "other" / "pyproject.toml").is_file()


def test_a_yes_no_answer_waits_for_enter(workdir: Path, template_copy: Path) -> None:
    """A letter, then Enter, answers one question: the Enter is not the next one's answer."""
    given = ["--app-kind", "api", "--auto-docs", "--type-validation", "--no-needs-extensions"]
    child = spawn(workdir, template_copy, "recommend", *given)
    try:
        child.expect("Performance")
        child.send("n")
        assert child.expect(["Learning curve", pexpect.TIMEOUT], timeout=1) == 1  # still here
        child.send("\r")
        child.expect("Learning curve")
        child.send("n\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert "new to async" in child.before  # the "n" typed at Learning curve, not its default


def test_at_100_columns_a_chosen_answer_is_echoed_whole(workdir: Path, template_copy: Path) -> None:
    factors = ["--app-kind", "api", "--no-high-concurrency", "--async-ok", "--auto-docs"]
    factors += ["--type-validation", "--no-needs-extensions", "--framework", "fastapi"]
    child = spawn(workdir, template_copy, "create", "x", "--dry-run", *factors, columns=100)
    try:
        child.expect("Database")
        child.send("\r")  # sqlite, the default, echoed after the question
        child.expect("Sign-in")
        echoed = re.sub(CONTROL, "", child.before)
    finally:
        child.close(force=True)
    assert "sqlite: an embedded SQLite file, nothing to install" in echoed


BORDERS = "│╭╮╰╯─"


def test_at_80_columns_the_contents_wrap_between_words(workdir: Path, template_copy: Path) -> None:
    from newapp.answers import collect
    from newapp.contents import contents

    shown = re.sub(CONTROL, "", until_exit(spawn(workdir, template_copy, "recommend", "--yes")))
    assert all(len(line) <= 80 for line in shown.split("\n"))
    panel = words("".join(" " if c in BORDERS else c for c in shown))
    for item in contents(collect(QuestionSet(template_copy), {})):
        assert words(item.text) in panel  # every word whole, in order, however wrapped
    assert words("answers 503 while the database is unreachable") in panel


@pytest.mark.parametrize("columns", [40, 120])
def test_recommend_json_on_a_terminal_is_one_json_document(
    workdir: Path, template_copy: Path, columns: int
) -> None:
    child = spawn(workdir, template_copy, "recommend", "--json", "--yes", columns=columns)
    data = json.loads(until_exit(child).replace("\r\n", "\n"))
    assert data["framework"] == "fastapi" and data["database"]["stack"]


def test_recommend_json_with_a_person_at_the_terminal_says_it_took_the_defaults(
    workdir: Path, template_copy: Path
) -> None:
    """stdin a terminal, stdout a pipe (`newapp recommend --json | jq`): no question would be
    seen, so none is asked; stderr says which answers were defaults."""
    env = {**os.environ, "NEWAPP_TEMPLATE_DIR": str(template_copy)}
    main, secondary = os.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "newapp", "recommend", "--json", "--app-kind", "web"],
            stdin=secondary,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(main)
        os.close(secondary)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["framework"] == "flask"
    assert result.stderr.startswith("note: took the defaults for high_concurrency, async_ok")
    assert "--yes" in result.stderr
