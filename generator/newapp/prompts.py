"""Ask the questions a run still needs, in a terminal, with questionary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import questionary

from newapp.questions import Question
from newapp.recommend import Recommendation
from newapp.ui import NAMES, show_recommendation


class TerminalAsker:
    """Questionary prompts; Ctrl-C raises KeyboardInterrupt (unsafe_ask) so the CLI can clean up."""

    def ask(self, question: Question, default: Any, validate: Callable[[Any], str | None]) -> Any:
        message = question.help
        if question.choices:
            choices = [
                questionary.Choice(title=label, value=value) for label, value in question.choices
            ]
            selected = next((c for c in choices if c.value == default), None)
            return questionary.select(message, choices=choices, default=selected).unsafe_ask()
        if question.type == "bool":
            return questionary.confirm(message, default=bool(default)).unsafe_ask()

        def check(text: str) -> bool | str:
            error = validate(text)
            return True if error is None else error

        return questionary.text(message, default=str(default), validate=check).unsafe_ask()

    def choose_framework(self, recommendation: Recommendation) -> str:
        show_recommendation(recommendation, panel=True)
        best, other = recommendation.framework, recommendation.other
        choices = [
            questionary.Choice(title=f"{NAMES[best]} (recommended)", value=best),
            questionary.Choice(title=f"{NAMES[other]} instead", value=other),
        ]
        return str(
            questionary.select("Framework", choices=choices, default=choices[0]).unsafe_ask()
        )
