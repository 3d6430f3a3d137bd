"""Turn the six when-to-use answers into a framework choice and its reasons (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Framework = Literal["flask", "fastapi"]
Favours = Literal["flask", "fastapi", "neither"]

# The six factors of the Flask vs FastAPI comparison, in the order they are asked.
FACTORS: dict[str, str] = {
    "app_kind": "Use case",
    "high_concurrency": "Performance",
    "async_ok": "Learning curve",
    "auto_docs": "API documentation",
    "type_validation": "Type checking",
    "needs_extensions": "Community & ecosystem",
}

# (key, answer) -> (which framework it favours, why). Every answer names its factor and says
# which way it pushed, including the answers that push neither way.
_REASONS: dict[tuple[str, object], tuple[Favours, str]] = {
    ("app_kind", "api"): (
        "fastapi",
        "a JSON API for other programs -> FastAPI is built around APIs: routes declare "
        "their inputs and outputs, and it checks and documents them",
    ),
    ("app_kind", "web"): (
        "flask",
        "HTML pages for people -> Flask comes with Jinja templating, sessions and "
        "a long line of web-app extensions for server-rendered sites",
    ),
    ("high_concurrency", True): (
        "fastapi",
        "many slow I/O calls at once -> FastAPI's async handlers wait on the network "
        "without holding a worker each, so one process serves many at a time",
    ),
    ("high_concurrency", False): (
        "neither",
        "ordinary request loads -> both serve them comfortably; speed does not decide this",
    ),
    ("async_ok", True): (
        "neither",
        "the team is at ease with async/await -> FastAPI's async style costs you nothing, "
        "and Flask's plain functions are just as open to you",
    ),
    ("async_ok", False): (
        "flask",
        "the team is new to async -> Flask's synchronous code is the gentler start; "
        "FastAPI repays async knowledge and can bite without it (a blocking call in an "
        "async route stalls every request)",
    ),
    ("auto_docs", True): (
        "fastapi",
        "you want docs generated from the code -> FastAPI serves OpenAPI with Swagger UI "
        "and ReDoc out of the box; Flask needs an extension and manual set-up",
    ),
    ("auto_docs", False): (
        "neither",
        "no generated docs needed -> neither framework gains",
    ),
    ("type_validation", True): (
        "fastapi",
        "validation from type hints -> FastAPI checks requests and shapes responses from "
        "annotated pydantic models; Flask has no built-in support",
    ),
    ("type_validation", False): (
        "neither",
        "you will validate input yourself -> neither framework gains",
    ),
    ("needs_extensions", True): (
        "flask",
        "you rely on mature extensions -> Flask's large, long-lived ecosystem "
        "(Flask-Login, Flask-Admin, Flask-WTF, Flask-SQLAlchemy, ...) is ready to use",
    ),
    ("needs_extensions", False): (
        "neither",
        "no particular extensions needed -> FastAPI's younger, fast-growing ecosystem "
        "is no drawback here",
    ),
}


@dataclass(frozen=True)
class Reason:
    """One answer's push towards a framework, in words."""

    key: str
    factor: str
    answer: object
    favours: Favours
    why: str

    def __str__(self) -> str:
        return f"{self.factor}: {self.why}"


@dataclass(frozen=True)
class Recommendation:
    """The recommended framework and one reason per factor, in the order of FACTORS."""

    framework: Framework
    reasons: tuple[Reason, ...]

    @property
    def other(self) -> Framework:
        """The framework not recommended (the one a user may pick instead)."""
        return "flask" if self.framework == "fastapi" else "fastapi"

    def to_dict(self) -> dict[str, object]:
        """The JSON shape `newapp recommend --json` prints."""
        return {
            "framework": self.framework,
            "reasons": [
                {
                    "factor": r.factor,
                    "key": r.key,
                    "answer": r.answer,
                    "favours": r.favours,
                    "why": r.why,
                }
                for r in self.reasons
            ],
        }


def recommend(answers: Mapping[str, object]) -> Recommendation:
    """Recommend Flask or FastAPI for the six when-to-use answers.

    Each answer is one vote for the framework its factor favours (or none). The framework
    with more votes wins; a tie goes to the framework the use case (`app_kind`) favours,
    because what the app is for matters most when everything else balances out.
    copier.yml computes the same rule in Jinja for plain `copier copy`.
    """
    missing = [key for key in FACTORS if key not in answers]
    if missing:
        raise ValueError(f"recommend() needs answers for: {', '.join(missing)}")
    reasons = tuple(_reason(key, answers[key]) for key in FACTORS)
    votes = {"flask": 0, "fastapi": 0, "neither": 0}
    for reason in reasons:
        votes[reason.favours] += 1
    use_case = reasons[0].favours
    framework: Framework
    if votes["fastapi"] != votes["flask"]:
        framework = "fastapi" if votes["fastapi"] > votes["flask"] else "flask"
    else:
        framework = "fastapi" if use_case == "fastapi" else "flask"
    return Recommendation(framework=framework, reasons=reasons)


def _reason(key: str, answer: object) -> Reason:
    try:
        favours, why = _REASONS[(key, answer)]
    except KeyError:
        raise ValueError(f"no reason known for {key}={answer!r}") from None
    return Reason(key=key, factor=FACTORS[key], answer=answer, favours=favours, why=why)
