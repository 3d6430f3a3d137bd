"""The recommendation: a pure function of the six answers, one reason per factor."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from newapp.recommend import FACTORS, recommend

BASE = {
    "app_kind": "api",
    "high_concurrency": False,
    "async_ok": True,
    "auto_docs": True,
    "type_validation": True,
    "needs_extensions": False,
}

CASES = [
    ("defaults-json-api", {}, "fastapi"),
    (
        "html-site-with-extensions",
        {"app_kind": "web", "needs_extensions": True, "auto_docs": False, "type_validation": False},
        "flask",
    ),
    ("web-but-wants-docs-and-types", {"app_kind": "web"}, "fastapi"),
    (
        "api-team-new-to-async-needs-extensions",
        {"async_ok": False, "needs_extensions": True, "auto_docs": False, "type_validation": False},
        "flask",
    ),
    (
        "tie-goes-to-use-case-api",
        {"async_ok": False, "needs_extensions": True, "auto_docs": False, "type_validation": True},
        "fastapi",
    ),
    (
        "tie-goes-to-use-case-web",
        {"app_kind": "web", "high_concurrency": True, "auto_docs": False, "type_validation": False},
        "flask",
    ),
    (
        "concurrency-tips-web",
        {"app_kind": "web", "high_concurrency": True, "type_validation": False},
        "fastapi",
    ),
    (
        "everything-flask",
        {
            "app_kind": "web",
            "async_ok": False,
            "auto_docs": False,
            "type_validation": False,
            "needs_extensions": True,
        },
        "flask",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_recommends(changes: dict[str, object], expected: str) -> None:
    assert recommend({**BASE, **changes}).framework == expected


ALL = [
    dict(zip(FACTORS, combo, strict=True))
    for combo in itertools.product(["api", "web"], *[[True, False]] * 5)
]


# Which framework each answer favours, as the Flask vs FastAPI comparison has it (written out
# here, apart from newapp.recommend's own table, so a slip in either shows).
FAVOURS = {
    ("app_kind", "api"): "fastapi",
    ("app_kind", "web"): "flask",
    ("high_concurrency", True): "fastapi",
    ("high_concurrency", False): "neither",
    ("async_ok", True): "neither",
    ("async_ok", False): "flask",
    ("auto_docs", True): "fastapi",
    ("auto_docs", False): "neither",
    ("type_validation", True): "fastapi",
    ("type_validation", False): "neither",
    ("needs_extensions", True): "flask",
    ("needs_extensions", False): "neither",
}


def expected_framework(answers: dict[str, object]) -> str:
    """The most votes wins; a tie goes to the framework the use case favours."""
    votes = [FAVOURS[key, value] for key, value in answers.items()]
    flask, fastapi = votes.count("flask"), votes.count("fastapi")
    if flask == fastapi:
        return "fastapi" if answers["app_kind"] == "api" else "flask"
    return "flask" if flask > fastapi else "fastapi"


@pytest.mark.parametrize("answers", ALL, ids=lambda a: "-".join(str(v)[0] for v in a.values()))
def test_every_answer_gives_one_reason_per_factor_that_agrees_with_the_choice(
    answers: dict[str, object],
) -> None:
    rec = recommend(answers)
    assert rec.framework == expected_framework(answers)
    assert [r.factor for r in rec.reasons] == list(FACTORS.values())
    assert [r.answer for r in rec.reasons] == list(answers.values())
    assert [r.favours for r in rec.reasons] == [FAVOURS[item] for item in answers.items()]
    assert all("->" in r.why and r.why for r in rec.reasons)


def test_reasons_say_which_way_each_answer_pushed() -> None:
    rec = recommend({**BASE, "auto_docs": True, "async_ok": False})
    by_key = {r.key: r for r in rec.reasons}
    assert by_key["auto_docs"].favours == "fastapi"
    assert "docs" in by_key["auto_docs"].why
    assert by_key["async_ok"].favours == "flask"
    assert by_key["high_concurrency"].favours == "neither"
    assert str(by_key["auto_docs"]).startswith("API documentation: ")


def test_json_shape_for_scripts() -> None:
    data = json.loads(json.dumps(recommend(BASE).to_dict()))
    assert data["framework"] == "fastapi"
    assert len(data["reasons"]) == 6
    for reason in data["reasons"]:
        assert {"factor", "answer", "favours", "why"} <= set(reason)
        assert reason["favours"] in {"flask", "fastapi", "neither"}


@pytest.mark.parametrize(
    "answers",
    [{k: v for k, v in BASE.items() if k != "auto_docs"}, {**BASE, "app_kind": "cli"}],
    ids=["missing-answer", "unknown-value"],
)
def test_incomplete_or_unknown_answers_are_refused(answers: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        recommend(answers)


# --- The reasons in the generated README --------------------------------------------------------


ALL_NO = {key: False for key in FACTORS} | {"app_kind": "web"}
ALL_YES = {key: True for key in FACTORS} | {"app_kind": "api"}


def test_the_templates_copy_of_the_reasons_is_fresh() -> None:
    from gen_reasons import TARGET, reasons_jinja

    assert TARGET.read_text(encoding="utf-8") == reasons_jinja(), (
        "template_shared/reasons.jinja is stale: run `python tests/gen_reasons.py`"
    )


@pytest.mark.parametrize(
    ("answers", "chosen_by"),
    [
        pytest.param({**ALL_NO, "framework": "flask"}, "recommendation", id="flask-recommended"),
        pytest.param(
            {**ALL_YES, "framework": "fastapi"}, "recommendation", id="fastapi-recommended"
        ),
        pytest.param({**ALL_YES, "framework": "flask"}, "user", id="flask-chosen"),
    ],
)
def test_generated_readme_gives_every_reason(
    answers: dict[str, object], chosen_by: str, tmp_path: Path, template_copy: Path
) -> None:
    from support import render

    project = render(tmp_path / "p", {**answers, "project_name": "p"}, template_copy)
    readme = (project / "README.md").read_text()
    why = readme[readme.index("## Why") : readme.index("## Develop")]
    for reason in recommend(answers).reasons:
        assert f"| {reason.factor} |" in why
        assert reason.why in why
    name = {"flask": "Flask", "fastapi": "FastAPI"}[str(answers["framework"])]
    assert (f"newapp recommended {name} for your answers" in why) == (chosen_by == "recommendation")
    assert (f"You chose {name}" in why) == (chosen_by == "user")
