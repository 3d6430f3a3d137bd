"""Ask the questions a run still needs, in a terminal, with questionary.

Everything shown is fitted to the terminal's width at word boundaries: prompt_toolkit would
break a long question in the middle of a word, and shows a validation error on one line cut at
the edge. So a question is wrapped here, and a bad answer is printed in full, wrapped, and the
question asked again with what was typed.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import questionary

from newapp.questions import Question
from newapp.recommend import Recommendation
from newapp.ui import NAMES, show_recommendation

SELECT_HINT = "(Use arrow keys)"
CONFIRM_HINT = "(Y/n)"
# questionary draws "? " before a question; its wrapped lines are indented to match.
_PREFIX = 2


class TerminalAsker:
    """Questionary prompts; Ctrl-C raises KeyboardInterrupt (unsafe_ask) so the CLI can clean up."""

    def ask(self, question: Question, default: Any, validate: Callable[[Any], str | None]) -> Any:
        if question.choices:
            choices = [
                questionary.Choice(title=label, value=value) for label, value in question.choices
            ]
            selected = next((c for c in choices if c.value == default), None)
            message = fit(question.help, reserve=reserve(question))
            return questionary.select(
                message, choices=choices, default=selected, instruction=SELECT_HINT
            ).unsafe_ask()
        if question.type == "bool":
            message = fit(question.help, reserve=reserve(question))
            # auto_enter=False: the letter typed is shown and Enter confirms it, as at every
            # other prompt; otherwise `n` answers at once and the Enter after it takes the
            # next question's default.
            return questionary.confirm(
                message, default=bool(default), auto_enter=False
            ).unsafe_ask()
        return self._text(question.help, str(default), validate)

    def _text(self, help_text: str, default: str, validate: Callable[[Any], str | None]) -> str:
        """A text answer, asked again (with what was typed) until it passes."""
        typed = default
        while True:
            message = fit(help_text, reserve=len(typed))
            typed = str(questionary.text(message, default=typed).unsafe_ask())
            error = validate(typed)
            if error is None:
                return typed
            show_error(error)

    def choose_framework(self, recommendation: Recommendation) -> str:
        show_recommendation(recommendation, panel=True)
        best, other = recommendation.framework, recommendation.other
        choices = [
            questionary.Choice(title=f"{NAMES[best]} (recommended)", value=best),
            questionary.Choice(title=f"{NAMES[other]} instead", value=other),
        ]
        return str(
            questionary.select(
                "Framework", choices=choices, default=choices[0], instruction=SELECT_HINT
            ).unsafe_ask()
        )


def reserve(question: Question) -> int:
    """The columns a choice or yes/no question needs after its text: the hint while it is
    asked, then the answer it echoes there (a database choice's label is longer than the hint,
    and would wrap mid-word)."""
    if question.choices:
        return max(len(SELECT_HINT), *(len(label) for label, _ in question.choices))
    return max(len(CONFIRM_HINT), len("Yes"))


def width() -> int:
    """The terminal's width as prompt_toolkit sees it (the terminal itself, not $COLUMNS)."""
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        return shutil.get_terminal_size().columns


def fit(text: str, *, reserve: int = 0, columns: int | None = None) -> str:
    """`text` wrapped at word boundaries to the terminal, leaving `reserve` columns after its
    last line for what the prompt adds there (a hint, the default answer); when that does not
    fit, it goes to a line of its own."""
    usable = max((columns or width()) - 1, 20)  # the last column makes some terminals wrap
    lines = textwrap.wrap(
        text, width=usable - _PREFIX, break_long_words=False, break_on_hyphens=False
    ) or [""]
    if _PREFIX + len(lines[-1]) + 1 + reserve > usable and reserve < usable - _PREFIX:
        lines.append("")
    return f"\n{' ' * _PREFIX}".join(lines)


def show_error(message: str, *, columns: int | None = None) -> None:
    """A bad answer's message, in full, wrapped under the question."""
    usable = max((columns or width()) - 1, 20)
    print(
        textwrap.fill(
            message,
            width=usable,
            initial_indent="✗ ",
            subsequent_indent=" " * _PREFIX,
            break_long_words=False,
            break_on_hyphens=False,
        ),
        flush=True,
    )
