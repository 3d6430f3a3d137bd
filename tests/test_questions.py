"""The question set: newapp applies copier.yml's rules exactly as plain copier does."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import copier
import pytest

from newapp.answers import collect, load_answers_file, parse_data
from newapp.errors import AnswersFileError, BadAnswer
from newapp.questions import FLAG_KEYS, QuestionSet, hint
from newapp.recommend import recommend


@pytest.fixture(scope="module")
def questions() -> QuestionSet:
    return QuestionSet()


def copier_answers(template: Path, dest: Path, data: dict[str, Any]) -> dict[str, Any]:
    """What plain copier computes for these answers (pretend mode: nothing is written)."""
    worker = copier.run_copy(
        str(template), dest, data=data, defaults=True, pretend=True, quiet=True
    )
    return dict(worker.answers.combined)


# One table of (key, value, accepted) run through newapp and through copier copy.
PARITY = [
    ("package_name", "class", False),
    ("package_name", "json", False),
    ("package_name", "asyncio", False),
    ("package_name", "flask", False),
    ("package_name", "tests", False),
    ("package_name", "newapp", False),
    ("package_name", "MyPkg", False),
    ("package_name", "1pkg", False),
    ("package_name", "my-pkg", False),
    ("package_name", "", False),
    ("package_name", "p" * 41, False),
    ("package_name", "café", False),
    ("package_name", "shop_api", True),
    ("package_name", "_internal", True),
    ("project_name", "a/b", False),
    ("project_name", "..", False),
    ("project_name", "../escape", False),
    ("project_name", "", False),
    ("project_name", "   ", False),
    ("project_name", "-dash-first", False),
    ("project_name", "n" * 65, False),
    ("project_name", "x{{ 7*7 }}", False),
    ("project_name", "My.Service_2", True),
    ("port", "0", False),
    ("port", "65536", False),
    ("port", "abc", False),
    ("port", "9000", True),
    ("author_email", "nobody", False),
    ("author_email", "a@b", False),
    ("author_email", "me@example.com", True),
    ("author_email", "", True),
    ("python_version", "3.9", False),
    ("python_version", "3.10", False),  # end of life on 2026-10-01
    ("python_version", "3.11", True),
    ("python_version", "3.15", True),
    ("framework", "django", False),
    ("app_kind", "cli", False),
    ("app_kind", "web", True),
    ("database", "mysql", False),
    ("database", "postgres", False),
    ("database", "postgresql", True),
    ("database", "none", True),
    ("description", "two\nlines", False),
    ("description", "line\u2028separator", False),
    ("author_name", "next\x85line", False),
]


def _id(case: tuple[str, str, bool]) -> str:
    key, value, ok = case
    return f"{key}={value[:12]!r}-{'ok' if ok else 'rejected'}"


@pytest.mark.parametrize("case", PARITY, ids=[_id(c) for c in PARITY])
def test_newapp_and_copier_apply_the_same_rules(
    case: tuple[str, str, bool], questions: QuestionSet, template_copy: Path, tmp_path: Path
) -> None:
    key, value, accepted = case
    newapp_error = copier_error = None
    try:
        collect(questions, {key: value})
    except BadAnswer as error:
        newapp_error = error.message
    try:
        copier_answers(template_copy, tmp_path / "out", {key: value})
    except ValueError as error:
        copier_error = str(error)
    assert (newapp_error is None) == accepted, newapp_error
    assert (copier_error is None) == accepted, copier_error
    if newapp_error and "Validation error" in (copier_error or ""):
        # The very same message, from copier.yml, and the flag newapp adds on the command line.
        assert newapp_error.endswith(f" with {hint(key)}")
        assert newapp_error.removesuffix(f" with {hint(key)}") in copier_error
        assert "--" not in copier_error  # plain copier has no such flags


COMBOS = [
    dict(zip(FLAG_KEYS, c, strict=True))
    for c in itertools.product(["api", "web"], *[[True, False]] * 5)
]


@pytest.mark.parametrize("answers", COMBOS, ids=lambda a: "-".join(str(v)[0] for v in a.values()))
def test_copier_default_framework_is_the_recommendation(
    answers: dict[str, Any], template_copy: Path, tmp_path: Path
) -> None:
    computed = copier_answers(template_copy, tmp_path / "out", answers)
    assert computed["framework"] == recommend(answers).framework
    assert computed["framework_chosen_by"] == "recommendation"


# Defaults follow the use case: what someone who chose it most likely wants.
FOLLOWING_DEFAULTS = [
    ("api", {"auto_docs": True, "type_validation": True, "framework": "fastapi"}),
    ("web", {"auto_docs": False, "type_validation": False, "framework": "flask"}),
]


@pytest.mark.parametrize(
    ("app_kind", "expected"), FOLLOWING_DEFAULTS, ids=[kind for kind, _ in FOLLOWING_DEFAULTS]
)
def test_defaults_follow_the_use_case_in_newapp_and_copier_alike(
    app_kind: str,
    expected: dict[str, Any],
    questions: QuestionSet,
    template_copy: Path,
    tmp_path: Path,
) -> None:
    by_newapp = collect(questions, {"app_kind": app_kind})
    by_copier = copier_answers(template_copy, tmp_path / "out", {"app_kind": app_kind})
    assert {key: by_newapp[key] for key in expected} == expected
    assert {key: by_copier[key] for key in by_newapp} == by_newapp


def test_choosing_the_other_framework_is_recorded_as_the_users_choice(
    questions: QuestionSet, template_copy: Path, tmp_path: Path
) -> None:
    given = {"framework": "flask"}  # the defaults recommend FastAPI
    assert collect(questions, given)["framework_chosen_by"] == "user"
    assert copier_answers(template_copy, tmp_path / "o", given)["framework_chosen_by"] == "user"


@pytest.mark.parametrize(
    ("project", "package"),
    [("my-api", "my_api"), ("Shop.Service", "shop_service"), ("billing", "billing")],
    ids=["dashes", "dots-and-capitals", "plain"],
)
def test_package_name_defaults_from_project_name(
    questions: QuestionSet, project: str, package: str
) -> None:
    assert collect(questions, {"project_name": project})["package_name"] == package


def test_a_project_name_that_derives_a_bad_package_name_says_how_to_fix_it(
    questions: QuestionSet,
) -> None:
    with pytest.raises(BadAnswer, match=r"standard-library module; .*--data package_name="):
        collect(questions, {"project_name": "json"})


@pytest.mark.parametrize(
    ("raw", "value"),
    [("true", True), ("yes", True), ("No", False), ("FALSE", False), (True, True)],
    ids=["true", "yes", "No", "FALSE", "yaml-bool"],
)
def test_booleans_accept_true_false_yes_no(questions: QuestionSet, raw: Any, value: bool) -> None:
    assert questions.parse("auto_docs", raw) is value


@pytest.mark.parametrize(
    "raw", ["perhaps", "1", "", "y e s"], ids=["word", "digit", "empty", "spaced"]
)
def test_booleans_refuse_anything_else(questions: QuestionSet, raw: str) -> None:
    with pytest.raises(BadAnswer, match=r"not true or false; answer yes or no$"):
        questions.parse("auto_docs", raw)


def test_git_identity_fills_author_defaults_but_never_breaks_a_rule(
    questions: QuestionSet,
) -> None:
    good = collect(
        questions, {}, defaults={"author_name": "Ada", "author_email": "ada@example.org"}
    )
    assert (good["author_name"], good["author_email"]) == ("Ada", "ada@example.org")
    bad = collect(questions, {}, defaults={"author_email": "not-an-address"})
    assert bad["author_email"] == ""


def test_data_items_parse_and_unknown_keys_list_the_valid_ones(questions: QuestionSet) -> None:
    assert parse_data(["port=9000", "description=a=b"], questions.keys) == {
        "port": "9000",
        "description": "a=b",
    }
    with pytest.raises(BadAnswer, match=r"unknown; valid keys: app_kind, .*port"):
        parse_data(["colour=blue"], questions.keys)
    with pytest.raises(BadAnswer, match="is not KEY=VALUE"):
        parse_data(["port"], questions.keys)


def test_answers_file_accepts_copiers_own_entries(questions: QuestionSet, tmp_path: Path) -> None:
    path = tmp_path / "answers.yml"
    path.write_text("_src_path: /somewhere\n_commit: v0.1.0\nport: 9000\npython_version: '3.12'\n")
    assert load_answers_file(path, questions.keys) == {"port": 9000, "python_version": "3.12"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port: 9000\nbogus: 1\n", r"unknown keys bogus; valid keys: app_kind"),
        ("port: 9000\n  bad: [\n", r"line \d+: .*fix the YAML"),
        ("- a\n- b\n", "must be a mapping"),
    ],
    ids=["unknown-key", "malformed", "not-a-mapping"],
)
def test_bad_answers_files_name_the_file_and_problem(
    questions: QuestionSet, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "answers.yml"
    path.write_text(text)
    with pytest.raises(AnswersFileError, match=message) as caught:
        load_answers_file(path, questions.keys)
    assert str(path) in caught.value.message


def test_missing_answers_file_is_named(questions: QuestionSet, tmp_path: Path) -> None:
    with pytest.raises(AnswersFileError, match="does not exist"):
        load_answers_file(tmp_path / "nope.yml", questions.keys)


def test_unquoted_python_version_in_yaml_is_caught(questions: QuestionSet) -> None:
    with pytest.raises(BadAnswer, match="quote it"):
        questions.parse("python_version", 3.1)


def test_the_template_runs_no_code_and_needs_no_trust(questions: QuestionSet) -> None:
    import yaml

    settings = yaml.safe_load((questions.root / "copier.yml").read_text())
    for unsafe in ("_tasks", "_migrations", "_jinja_extensions", "_external_data"):
        assert unsafe not in settings


@pytest.mark.parametrize(
    "question", [q for q in QuestionSet().questions if q.choices], ids=lambda q: q.key
)
def test_a_question_names_its_choices_in_the_order_it_lists_them(question: Any) -> None:
    said = question.help.lower()
    named = [said.find(str(value).lower()) for value in question.choice_values]
    if all(at >= 0 for at in named):  # a question that names every choice
        assert named == sorted(named), question.help


# Sign-in follows the database and the kind: on by default for an API with a database, not
# asked and off without one or for web pages (browser sessions are not made yet), refused when
# asked for there; newapp and plain copier agree on each.
AUTH_CASES = [
    ({"database": "sqlite"}, True),
    ({"database": "postgresql", "auth": False}, False),
    ({"database": "none"}, False),
    ({"database": "none", "auth": False}, False),
    ({"database": "none", "auth": True}, "sign-in needs a database"),
    ({"app_kind": "web", "database": "sqlite"}, True),
    ({"app_kind": "web", "database": "sqlite", "auth": False}, False),
]


@pytest.mark.parametrize(
    ("data", "auth"),
    AUTH_CASES,
    ids=[
        "sqlite-default-yes",
        "no-auth",
        "none-default-no",
        "none-no",
        "none-yes-refused",
        "web-default-yes",
        "web-no",
    ],
)
def test_auth_follows_the_database_in_newapp_and_copier(
    data: dict[str, Any],
    auth: bool | str,
    questions: QuestionSet,
    template_copy: Path,
    tmp_path: Path,
) -> None:
    if isinstance(auth, str):  # refused, with this reason
        with pytest.raises(BadAnswer, match=auth):
            collect(questions, data)
        with pytest.raises(ValueError, match=auth):
            copier_answers(template_copy, tmp_path / "out", data)
        return
    assert collect(questions, data)["auth"] is auth
    assert copier_answers(template_copy, tmp_path / "out", data)["auth"] is auth


class Refusing:
    """An asker that fails the test if asked anything but the framework."""

    def ask(self, question: Any, default: Any, validate: Any) -> Any:
        if question.key == "auth":
            raise AssertionError("auth was asked without a database")
        return default

    def choose_framework(self, recommendation: Any) -> str:
        return str(recommendation.framework)


def test_auth_is_not_asked_without_a_database(questions: QuestionSet) -> None:
    assert collect(questions, {"database": "none"}, asker=Refusing())["auth"] is False
