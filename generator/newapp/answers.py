"""Gather answers: from an answers file, --data and flags, then defaults or prompts, in order."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from newapp.errors import AnswersFileError, BadAnswer
from newapp.questions import Question, QuestionSet, on_command_line
from newapp.recommend import Recommendation, recommend

# Entries copier itself writes into .copier-answers.yml; accepted in an answers file, not used.
COPIER_KEYS = frozenset({"_src_path", "_commit"})
# A check of one answer: an error message, or None.
Check = Callable[[Any], "str | None"]
# Filled in by newapp, never asked.
COMPUTED_KEYS = frozenset({"framework_chosen_by"})


class Asker(Protocol):
    """Asks the questions a run still needs (implemented with questionary in prompts.py)."""

    def ask(self, question: Question, default: Any, validate: Callable[[Any], str | None]) -> Any:
        """Ask one question; `validate` returns an error message or None."""

    def choose_framework(self, recommendation: Recommendation) -> str:
        """Show the recommendation with its reasons; return the framework the user takes."""


def settable(keys: Iterable[str]) -> tuple[str, ...]:
    """The keys a user may set: all but the ones newapp computes."""
    return tuple(key for key in keys if key not in COMPUTED_KEYS)


def check_data_key(key: str, valid: Iterable[str]) -> None:
    """Refuse a `--data` key that is unknown, or one newapp fills in itself."""
    if key in COMPUTED_KEYS:
        raise BadAnswer(
            f"--data {key} cannot be set: newapp records it from whether the framework "
            "follows the recommendation; pass --framework instead"
        )
    if key not in valid:
        keys = ", ".join(settable(valid))
        raise BadAnswer(f"--data key '{key}' is unknown; valid keys: {keys}")


def parse_data(items: Iterable[str], valid: Iterable[str]) -> dict[str, str]:
    """Parse repeated `--data KEY=VALUE` options."""
    valid = tuple(valid)
    data: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadAnswer(f"--data '{item}' is not KEY=VALUE; write it like --data port=9000")
        check_data_key(key, valid)
        data[key] = value
    return data


def load_answers_file(path: Path, valid: Iterable[str]) -> dict[str, Any]:
    """Read a YAML answers file (such as a project's .copier-answers.yml)."""
    import yaml

    valid = tuple(valid)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnswersFileError(f"answers file {path} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise AnswersFileError(f"cannot read answers file {path}: {reason}") from None
    try:
        # libyaml's loader when present: a large file parses many times faster.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise AnswersFileError(f"answers file {path}{where}: {problem}; fix the YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AnswersFileError(f"answers file {path} must be a mapping of KEY: VALUE lines")
    unknown = [str(k) for k in data if k not in valid and k not in COPIER_KEYS]
    if unknown:
        raise AnswersFileError(
            f"answers file {path} has unknown keys {', '.join(unknown)}; "
            f"valid keys: {', '.join(settable(valid))}"
        )
    # A computed key (framework_chosen_by in another project's answers) is accepted and
    # recomputed: the file is a record of that project, not a request to fake it.
    return {k: v for k, v in data.items() if k not in COPIER_KEYS}


def unanswered(questions: QuestionSet, given: Mapping[str, Any]) -> list[str]:
    """The questions a run would have to ask, given these answers."""
    return [k for k in questions.keys if k not in given and k not in COMPUTED_KEYS]


def git_identity(given: Iterable[str] = ()) -> dict[str, str]:
    """author_name and author_email from `git config`, where git and the settings exist; git is
    not asked for the ones already `given`."""
    found: dict[str, str] = {}
    for key, setting in (("author_name", "user.name"), ("author_email", "user.email")):
        if key in given:
            continue
        try:
            result = subprocess.run(
                ["git", "config", "--get", setting],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return found
        if result.returncode == 0 and result.stdout.strip():
            found[key] = result.stdout.strip()
    return found


def collect(
    questions: QuestionSet,
    given: Mapping[str, Any],
    *,
    asker: Asker | None = None,
    defaults: Mapping[str, Any] | None = None,
    keys: Iterable[str] | None = None,
    prompt_checks: Mapping[str, Check] | None = None,
) -> dict[str, Any]:
    """Every answer, in copier.yml's order: given ones checked, the rest asked or defaulted.

    `defaults` overrides copier.yml's defaults (newapp's git identity); a default that breaks a
    rule there is dropped for copier.yml's own. `keys` limits the run to some questions.
    `prompt_checks` adds a check to a question's prompt (a project name whose folder holds a
    project already), so that it is asked again there rather than refused at the end.
    """
    wanted = set(keys) if keys is not None else set(questions.keys)
    answers: dict[str, Any] = {}
    for question in questions.questions:
        if question.key in wanted:
            try:
                answers[question.key] = _answer(
                    questions, question, given, answers, asker, defaults, prompt_checks or {}
                )
            except BadAnswer as error:
                # Prompts re-ask until an answer passes, so what fails here was given on the
                # command line (or is a default computed from it): say which flag fixes it.
                raise on_command_line(error) from None
    return answers


def _answer(
    questions: QuestionSet,
    question: Question,
    given: Mapping[str, Any],
    answers: dict[str, Any],
    asker: Asker | None,
    defaults: Mapping[str, Any] | None,
    prompt_checks: Mapping[str, Check],
) -> Any:
    """One answer: computed, given, asked for, or the default."""
    key = question.key
    if key in COMPUTED_KEYS:  # what copier.yml derives; a value given for it is ignored
        return questions.accept(key, questions.default(key, answers), answers)
    if key in given:
        return questions.accept(key, given[key], answers)
    if key == "framework" and asker is not None:
        return asker.choose_framework(recommend(answers))
    default = _default(questions, key, answers, defaults)
    if asker is None or not questions.asked(key, answers):
        return questions.accept(key, default, answers)
    validate = _validator(questions, key, answers, prompt_checks.get(key))
    raw = asker.ask(question, default, validate)
    return questions.accept(key, raw, answers)


def _default(
    questions: QuestionSet,
    key: str,
    answers: Mapping[str, Any],
    overrides: Mapping[str, Any] | None,
) -> Any:
    if overrides and key in overrides:
        try:
            return questions.accept(key, overrides[key], answers)
        except BadAnswer:
            pass  # e.g. a git user.email that is no address: fall back to copier.yml's default
    return questions.default(key, answers)


def _validator(
    questions: QuestionSet, key: str, answers: Mapping[str, Any], extra: Check | None
) -> Check:
    def validate(raw: Any) -> str | None:
        try:
            value = questions.accept(key, raw, answers)
        except BadAnswer as error:
            return error.message
        return extra(value) if extra is not None else None

    return validate
