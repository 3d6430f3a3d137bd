"""What newapp shows: the plan before the questions and the next steps after the render."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from newapp import ui

PLANS = [
    (
        (6, True, 9),
        "6 questions about what the app needs, then Flask or FastAPI recommended with its "
        "reasons, then 9 questions about the project. Enter takes the answer shown; Ctrl-C "
        "stops, writing nothing.",
    ),
    (
        (0, False, 1),
        "1 question about the project. Enter takes the answer shown; Ctrl-C stops, writing "
        "nothing.",
    ),
    (
        (2, True, 0),
        "2 questions about what the app needs, then Flask or FastAPI recommended with its "
        "reasons. Enter takes the answer shown; Ctrl-C stops, writing nothing.",
    ),
]


@pytest.mark.parametrize(("counts", "said"), PLANS, ids=["all", "one-left", "recommend"])
def test_the_plan_says_what_is_about_to_be_asked(counts: tuple[int, bool, int], said: str) -> None:
    assert ui.plan(*counts) == said


ANSWERS: dict[str, Any] = {
    "package_name": "svc",
    "framework": "fastapi",
    "database": "none",
    "port": 8000,
    "app_kind": "api",
}
THIS = f"{sys.version_info.major}.{sys.version_info.minor}"
NEWER = f"{sys.version_info.major}.{sys.version_info.minor + 1}"


@pytest.mark.parametrize(
    ("python_version", "venv"),
    [
        ("3.11", "python -m venv .venv"),
        (THIS, "python -m venv .venv"),
        (NEWER, f"python{NEWER} -m venv .venv"),
    ],
    ids=["older-than-this", "this", "newer-than-this"],
)
def test_the_virtualenv_step_names_a_python_the_project_can_be_installed_in(
    python_version: str, venv: str
) -> None:
    steps = ui.next_steps("svc", {**ANSWERS, "python_version": python_version})
    assert steps[1].startswith(f"{venv} && . .venv/bin/activate")


@pytest.mark.parametrize(
    ("python_version", "noted"),
    [("3.11", False), (THIS, False), (NEWER, True)],
    ids=["older-than-this", "this", "newer-than-this"],
)
def test_a_project_for_a_newer_python_says_how_to_get_one_or_make_it_for_this(
    python_version: str, noted: bool
) -> None:
    note = ui.python_note({**ANSWERS, "python_version": python_version})
    assert (note is not None) == noted
    if note is not None:
        assert f"Python {NEWER} or newer" in note and f"python{NEWER}" in note
        assert f"--data python_version={THIS}" in note
