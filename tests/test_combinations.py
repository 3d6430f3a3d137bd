"""Every combination of the when-to-use answers, for both frameworks, renders a clean project.

Rendering is cheap; installing is not. So this module renders every combination with SQLite,
the default database, and with the others one per distinct code plus a pairwise set of the
rest (`chosen` below), and checks what needs no install (it compiles, ruff is clean, each
item `newapp recommend` promises is there, every answer leaves its mark: `marks` below), and
proves which answers change a project's code: the end-to-end tests then install one project
per distinct code (support.distinct) and run its own tests, ruff and mypy.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from newapp.contents import contents
from newapp.recommend import recommend
from newapp.stack import database_stack
from projects import LONG_PACKAGE, LONG_PROJECT
from support import DATABASES, FACTORS, code_signature, combinations, render

# Every combination is made with the longest names allowed: a line that fits only a short
# package name fails ruff here (E501), not in a user's project.
PKG = LONG_PACKAGE
LONGEST_NAMES = {"project_name": LONG_PROJECT, "package_name": LONG_PACKAGE}

NOT_CODE = {"README.md", ".copier-answers.yml"}

# (file, text, whether the file must hold it); a text of None: whether the file must exist.
Mark = tuple[str, str | None, bool]


def marks(answers: dict[str, Any]) -> list[Mark]:
    """What each when-to-use answer must leave in the project made from `answers`: in its
    code where the answer changes the code, and in the README's "Why" and "Where to go next"
    always, so no answer passes without a trace."""
    flask = answers["framework"] == "flask"
    web = answers["app_kind"] == "web"
    docs, typed = answers["auto_docs"], answers["type_validation"]
    io, easy_async, extensions = (
        answers["high_concurrency"],
        answers["async_ok"],
        answers["needs_extensions"],
    )
    name = "Flask" if flask else "FastAPI"
    stack = database_stack(answers)
    db = stack is not None
    recommended = recommend(answers).framework == answers["framework"]
    found: list[Mark] = [
        # framework_chosen_by, and the reasons from newapp.recommend, one per answer.
        ("README.md", f"newapp recommended {name} for your answers", recommended),
        ("README.md", f"You chose {name}", not recommended),
        *(("README.md", reason.why, True) for reason in recommend(answers).reasons),
        # app_kind: pages for people, or none of that.
        (f"src/{PKG}/templates/base.html", None, web),
        (f"src/{PKG}/templates/index.html", None, web),
        (f"src/{PKG}/static/style.css", None, web),
        ("README.md", "| `GET /` | The home page", web),
        # database: its own files, its README section and stack, the container's migrations.
        *((f"src/{PKG}/{name}", None, db) for name in ("db.py", "models.py", "items.py")),
        (f"src/{PKG}/migrations/env.py", None, db),
        (f"src/{PKG}/templates/items.html", None, db and web),
        ("compose.yaml", None, answers["database"] == "postgresql"),
        ("README.md", "### The database", db),
        ("README.md", stack.why if stack else "### The database", db),
        ("README.md", "| `POST /items` |", db),
        ("Dockerfile", f"migrate && exec python -m {PKG}", db),
        ("Dockerfile", 'VOLUME ["/home/app/data"]', answers["database"] == "sqlite"),
        (".gitignore", "/data/", True),  # whatever the database: a file left from SQLite
    ]
    if flask:
        openapi = docs or typed
        found += [
            (f"src/{PKG}/routes.py", "render_template", web),
            # auto_docs and type_validation: pydantic models through flask-openapi3.
            ("pyproject.toml", '"flask-openapi3>=', openapi),
            ("pyproject.toml", '"flask-openapi3-swagger>=', docs),
            (f"src/{PKG}/routes.py", "(BaseModel)", openapi),
            (f"src/{PKG}/app.py", "chosen over APIFlask and spectree", openapi),
            (f"src/{PKG}/app.py", f"DOCS_ENABLED = {docs}", openapi),
            ("README.md", "chosen over APIFlask and spectree", openapi),
            ("README.md", "`/openapi/swagger`", docs),
            ("README.md", "The docs pages are off, as asked", typed and not docs),
            ("README.md", "You did not ask for validation from type hints", docs and not typed),
            ("README.md", "You will validate input yourself", not openapi),
            # high_concurrency: more database connections, and the README says why.
            # (The count itself is newapp.contents' promise, checked above.)
            ("README.md", "each worker process runs up to 128 requests at once", io),
            ("README.md", "each worker keeps 32 database connections instead of 8", io and db),
            ("README.md", f"`src/{PKG}/server_conf.py` gives the numbers", io),
            # async_ok and needs_extensions: where to go next.
            ("README.md", "no async/await to learn", not easy_async),
            ("README.md", "install `flask[async]`", easy_async),
            ("README.md", "Each is set up with `ext.init_app(app)`", extensions),
            (
                "README.md",
                "<https://flask.palletsprojects.com/en/stable/extensions/>",
                not extensions,
            ),
        ]
    else:
        found += [
            (f"src/{PKG}/routes.py", "Jinja2Templates", web),
            (f"src/{PKG}/app.py", "StaticFiles", web),
            # auto_docs: the docs routes on, or off until DOCS_ENABLED=true.
            (f"src/{PKG}/settings.py", f"docs_enabled: bool = {docs}", True),
            ("README.md", "(`/docs`, `/redoc`) are off, as asked", not docs),
            # type_validation: FastAPI validates anyway, and the README says so.
            ("README.md", "You planned to validate input yourself", not typed),
            # high_concurrency: a shared httpx.AsyncClient in the lifespan, tested offline.
            (f"src/{PKG}/app.py", "async with httpx.AsyncClient(", io),
            (f"src/{PKG}/routes.py", '@router.get("/upstream"', io),
            ("tests/test_app.py", "httpx.MockTransport", io),
            ("pyproject.toml", "# The async HTTP client the app shares", io),
            ("README.md", "`GET /upstream` shows the pattern", io),
            # async_ok: the async guide, with the rule about blocking calls for newcomers.
            ("README.md", "<https://fastapi.tiangolo.com/async/>", True),
            ("README.md", "an `async def` route must only `await` non-blocking", not easy_async),
            # needs_extensions: what stands in for Flask's extensions.
            ("README.md", "their usual counterparts", extensions),
        ]
    return found


def check_marks(project: Path, answers: dict[str, Any]) -> list[str]:
    """The marks `answers` should have left in `project` and did not (or should not have)."""
    wrong = []
    for name, text, wanted in marks(answers):
        path = project / name
        if text is None:
            present = path.is_file()
        else:
            # The README wraps its lines: compare with every run of white space as one space.
            content = path.read_text() if path.is_file() else ""
            present = " ".join(text.split()) in " ".join(content.split())
        if present != wanted:
            wrong.append(f"{name}: {text or 'the file'!r} {'missing' if wanted else 'present'}")
    return wrong


def code_digest(project: Path) -> str:
    """A digest of every file except README.md and the answers file."""
    digest = hashlib.sha256()
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        relative = path.relative_to(project).as_posix()
        if relative not in NOT_CODE:
            digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def chosen(framework: str, database: str, app_kind: str) -> list[dict[str, Any]]:
    """The combinations rendered: every one with SQLite, the default; with the other databases,
    one per distinct code plus enough for every pair of answers to meet at least once (the
    rest differ from those only in the README's wording, which SQLite's proves)."""
    every = [a for a in combinations(framework, [database]) if a["app_kind"] == app_kind]
    if database == "sqlite":
        return every
    picked = list({code_signature(a): a for a in reversed(every)}.values())
    unmet = set().union(*map(_pairs, every)) - set().union(*map(_pairs, picked))
    while unmet:  # greedy pairwise cover: the combination that meets most unmet pairs next
        best = max(every, key=lambda answers: len(_pairs(answers) & unmet))
        picked.append(best)
        unmet -= _pairs(best)
    return picked


def _pairs(answers: dict[str, Any]) -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
    values = [(key, answers[key]) for key in FACTORS]
    return {(a, b) for i, a in enumerate(values) for b in values[i + 1 :]}


@pytest.mark.parametrize("app_kind", ["api", "web"])
@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_every_combination_renders_a_clean_project(
    framework: str, database: str, app_kind: str, template_copy: Path, tmp_path: Path
) -> None:
    digests: dict[tuple[Any, ...], set[str]] = {}
    projects = []
    # From a plain copy of the templates: a render from the git checkout clones it first, 4x
    # slower (test_copier_parity.py renders from git and proves the two render the same).
    for number, answers in enumerate(chosen(framework, database, app_kind)):
        project = render(tmp_path / f"p{number}", {**answers, **LONGEST_NAMES}, template_copy)
        projects.append(project)
        for source in project.rglob("*.py"):
            compile(source.read_text(), str(source), "exec")  # writes no __pycache__
        # What newapp lists for the answers the project recorded: the given ones and copier's
        # defaults for the rest (sign-in's, for one, follows the app kind and the database).
        recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
        for item in contents({**answers, **recorded}):
            text = (project / item.path.format(package=PKG)).read_text()
            assert item.proof in text, f"{answers}: {item.text!r} not in {item.path}"
        assert not check_marks(project, answers), (answers, check_marks(project, answers))
        digests.setdefault(code_signature(answers), set()).add(code_digest(project))
    # Same signature, same code: so installing one project per signature covers them all.
    assert all(len(found) == 1 for found in digests.values()), digests
    # And different signatures, different code: no answer in CODE_KEYS is a no-op.
    assert len({next(iter(found)) for found in digests.values()}) == len(digests)
    for command in (["check"], ["format", "--check"]):
        ruff = [sys.executable, "-m", "ruff", *command, "--no-cache", *map(str, projects)]
        result = subprocess.run(ruff, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
