"""Read the question set from copier.yml and parse, default and validate answers by its rules.

copier.yml is the only copy of the rules: defaults and validators are Jinja there, and are
rendered here with the same Jinja filters copier uses, so newapp and `copier copy` agree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from newapp.errors import BadAnswer, TemplateMissing

TRUE_WORDS = frozenset({"true", "yes"})
FALSE_WORDS = frozenset({"false", "no"})

# The when-to-use keys have their own --flag/--no-flag; the rest are set with --name or --data.
FLAG_KEYS = (
    "app_kind",
    "high_concurrency",
    "async_ok",
    "auto_docs",
    "type_validation",
    "needs_extensions",
)


def template_root() -> Path:
    """Where copier.yml and the template folders are: the wheel's copy, else this checkout."""
    override = os.environ.get("NEWAPP_TEMPLATE_DIR")
    if override:
        return Path(override)
    packaged = Path(__file__).parent / "_template"
    if (packaged / "copier.yml").is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "copier.yml").is_file():
        return checkout
    raise TemplateMissing("newapp's templates are missing from this install; reinstall newapp")


def hint(key: str) -> str:
    """How to give `key` another value on the command line."""
    if key == "project_name":
        return "--name"
    if key == "framework":
        return "--framework flask|fastapi"
    if key == "app_kind":
        return "--app-kind api|web"
    if key == "database":
        return "--database sqlite|postgresql|none"
    if key == "auth":
        return "--auth or --no-auth"
    if key in FLAG_KEYS:
        flag = key.replace("_", "-")
        return f"--{flag} or --no-{flag}"
    return f"--data {key}=..."


def on_command_line(error: BadAnswer) -> BadAnswer:
    """The error for an answer given by flag, --data or answers file: its fix, and the flag to
    apply it with. At a prompt the plain fix is the advice: the answer is typed right there."""
    if error.key is None:
        return error
    return BadAnswer(f"{error.message} with {hint(error.key)}")


@dataclass(frozen=True)
class Question:
    """One question of copier.yml, with just the settings newapp uses."""

    key: str
    type: str
    help: str
    default: Any
    choices: tuple[tuple[str, Any], ...] = ()
    validator: str = ""
    # copier's `when`: Jinja that renders false where the question makes no sense (sign-in
    # without a database); it is then not asked, and its default is the answer.
    when: str = ""

    @property
    def choice_values(self) -> tuple[Any, ...]:
        return tuple(value for _, value in self.choices)


class QuestionSet:
    """The questions in their asking order, and the Jinja environment to render their rules."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or template_root()
        self.questions = _load(self.root / "copier.yml")
        self.by_key = {q.key: q for q in self.questions}
        self._compiled: dict[str, Any] = {}

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.by_key)

    @cached_property
    def _env(self) -> Any:
        # Imported here: Jinja is not needed for `newapp --help`.
        from jinja2.sandbox import SandboxedEnvironment

        return SandboxedEnvironment(
            extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
            keep_trailing_newline=True,
        )

    def render(self, text: str, answers: Mapping[str, Any]) -> str:
        """Render one Jinja string of copier.yml with the answers so far."""
        if "{" not in text:  # no Jinja in it: compiling it would only cost time
            return text
        if text not in self._compiled:  # compiled once: a validator runs at every re-ask
            self._compiled[text] = self._env.from_string(text)
        return str(self._compiled[text].render(**answers))

    def parse(self, key: str, raw: Any) -> Any:
        """Turn a raw answer (a flag's or a YAML value) into its typed value, or raise BadAnswer."""
        question = self.by_key[key]
        value = _cast(question, raw)
        if question.choices and value not in question.choice_values:
            options = ", ".join(str(v) for v in question.choice_values)
            raise BadAnswer(f"{key} '{raw}' is not one of {options}; choose one", key)
        return value

    def default(self, key: str, answers: Mapping[str, Any]) -> Any:
        """The question's default for the answers so far (copier.yml's Jinja, rendered)."""
        default = self.by_key[key].default
        if isinstance(default, str):
            default = self.render(default, answers)
        return self.parse(key, default)

    def asked(self, key: str, answers: Mapping[str, Any]) -> bool:
        """Whether the question applies to the answers so far (copier.yml's `when`)."""
        when = self.by_key[key].when
        return not when or self.render(when, answers).strip().lower() not in FALSE_WORDS | {""}

    def check(self, key: str, value: Any, answers: Mapping[str, Any]) -> None:
        """Raise BadAnswer with the validator's message if copier.yml rejects the value."""
        validator = self.by_key[key].validator
        if validator:
            message = self.render(validator, {**answers, key: value}).strip()
            if message:  # copier.yml's messages end with a fix for any way of answering
                raise BadAnswer(message, key)

    def accept(self, key: str, raw: Any, answers: Mapping[str, Any]) -> Any:
        """Parse and validate one answer; the value to record."""
        value = self.parse(key, raw)
        self.check(key, value, answers)
        return value


def _load(path: Path) -> tuple[Question, ...]:
    import yaml

    try:
        # libyaml's loader when present: copier.yml parses several times faster.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as error:
        raise TemplateMissing(f"cannot read the question set {path}: {error}") from None
    return tuple(_question(key, spec) for key, spec in data.items() if not key.startswith("_"))


def _question(key: str, spec: Mapping[str, Any]) -> Question:
    raw_choices = spec.get("choices") or ()
    if isinstance(raw_choices, Mapping):
        choices = tuple((str(label), value) for label, value in raw_choices.items())
    else:
        choices = tuple((str(value), value) for value in raw_choices)
    return Question(
        key=key,
        type=str(spec.get("type", "str")),
        help=str(spec.get("help", key)),
        default=spec.get("default"),
        choices=choices,
        validator=str(spec.get("validator", "")),
        when=str(spec.get("when", "")),
    )


def _cast(question: Question, raw: Any) -> Any:
    key = question.key
    if question.type == "bool":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise BadAnswer(f"{key} '{raw}' is not true or false; answer yes or no", key)
    if question.type == "int":
        text = str(raw).strip()
        if isinstance(raw, bool) or not (text.isascii() and text.isdigit()):
            raise BadAnswer(f"{key} '{raw}' is not a whole number; give one", key)
        return int(text)
    if isinstance(raw, float):
        # YAML reads an unquoted 3.10 as the number 3.1.
        raise BadAnswer(f"{key} {raw} is a number, not text; quote it in YAML (e.g. '3.10')")
    if raw is None:
        return ""
    if not isinstance(raw, str | int):
        raise BadAnswer(f"{key} must be text, not a {type(raw).__name__}; give some", key)
    return str(raw)
