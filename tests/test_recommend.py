"""The recommendation: a pure function of the six answers, one reason per factor."""

from __future__ import annotations

import itertools
import json

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


@pytest.mark.parametrize("answers", ALL, ids=lambda a: "-".join(str(v)[0] for v in a.values()))
def test_every_answer_gives_one_reason_per_factor_that_agrees_with_the_choice(
    answers: dict[str, object],
) -> None:
    rec = recommend(answers)
    assert [r.factor for r in rec.reasons] == list(FACTORS.values())
    assert [r.answer for r in rec.reasons] == list(answers.values())
    votes = {f: sum(r.favours == f for r in rec.reasons) for f in ("flask", "fastapi")}
    if votes["flask"] != votes["fastapi"]:
        assert votes[rec.framework] > votes[rec.other]
    else:  # the documented tie rule: the use case decides
        assert rec.framework == rec.reasons[0].favours
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
