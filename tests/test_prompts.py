"""The interactive flow in a real pseudo-terminal: every question answered, one re-asked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import yaml

CTRL_U = "\x15"  # clear the prompt's pre-filled default
DOWN = "\x1b[B"


def test_interactive_create_asks_recommends_and_reasks_a_bad_answer(
    workdir: Path, template_copy: Path
) -> None:
    env = {**os.environ, "NEWAPP_TEMPLATE_DIR": str(template_copy), "TERM": "xterm"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "newapp", "create"],
        cwd=str(workdir),
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 160),
    )
    try:

        def answer(prompt: str, keys: str) -> None:
            child.expect(prompt)
            child.send(keys)

        answer("Use case", "\r")  # api, the default
        answer("Performance", "y")
        answer("Learning curve", "n")
        answer("API documentation", "y")
        answer("Type checking", "y")
        answer("Community & ecosystem", "n")
        child.expect(r"Recommended: \S*FastAPI")
        child.expect("new to async")  # the reasons are shown before the choice
        answer("Framework", DOWN + "\r")  # take Flask instead
        answer("Database", DOWN + "\r")  # postgresql
        answer("Project name", CTRL_U + "shop-api\r")
        answer("Python package name", CTRL_U + "class\r")
        child.expect("Python keyword")  # re-asked at the prompt, nothing rendered yet
        child.send(CTRL_U + "shop\r")
        answer("One-line description", "\r")
        answer("Author name", CTRL_U + "Ada\r")
        answer("Author e-mail", CTRL_U + "ada@example.org\r")
        answer("Lowest Python version", DOWN + "\r")
        answer("Port", CTRL_U + "9000\r")
        answer("GitHub Actions", "n")
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
    assert (answers["python_version"], answers["port"], answers["ci"]) == ("3.12", 9000, False)


def test_ctrl_c_at_a_prompt_cancels_cleanly(workdir: Path, template_copy: Path) -> None:
    env = {**os.environ, "NEWAPP_TEMPLATE_DIR": str(template_copy), "TERM": "xterm"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "newapp", "create", "my-api"],
        cwd=str(workdir),
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    try:
        child.expect("Use case")
        child.sendcontrol("c")
        child.expect("cancelled, nothing was written")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130
    assert list(workdir.iterdir()) == []
