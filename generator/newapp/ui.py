"""What newapp shows people: rich panels and tables on a terminal, plain lines everywhere else.

Plain lines for pipes and CI logs: a box drawn for an 80-column terminal wraps badly in a log,
and not importing rich saves a run with `--yes` about 20 ms.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from newapp.errors import OutputError
from newapp.recommend import Recommendation

if TYPE_CHECKING:
    from rich.console import Console

NAMES = {"flask": "Flask", "fastapi": "FastAPI"}

# The six factors of the comparison this product is built on, in our own words.
# Use case first, as in the questions, the recommendation and the README: what the app is for
# matters most.
COMPARISON: tuple[tuple[str, str, str], ...] = (
    ("Use case", "Small to medium web apps, HTML pages", "APIs that need speed and validation"),
    ("Performance", "Fine for most apps; synchronous workers", "Very high; async built in"),
    ("Learning curve", "Gentle; plain functions", "Moderate; rewards knowing async/await"),
    ("API documentation", "Set up by hand or with an extension", "OpenAPI docs generated for you"),
    ("Type checking", "None built in", "Validates requests from type hints"),
    ("Community & ecosystem", "Large and mature", "Younger, growing fast"),
)


def fancy() -> bool:
    """Whether stdout is a terminal, where panels, tables and spinners help."""
    return sys.stdout.isatty()


def console() -> Console:
    """A rich console; it drops colour when NO_COLOR is set (rich's rule)."""
    from rich.console import Console

    return Console(highlight=False)


def say(text: str) -> None:
    """One plain line, the same on a terminal and in a log."""
    with _output():
        print(text, flush=True)


def tell(text: str) -> None:
    """A sentence: on a terminal, wrapped between words to its width (the terminal itself
    would cut a word in two); one plain line elsewhere."""
    if not fancy():
        say(text)
        return
    from rich.markup import escape

    _print(escape(text))


def _print(renderable: Any) -> None:
    """A rich panel or table, on the terminal."""
    with _output():
        console().print(renderable)
        sys.stdout.flush()


@contextlib.contextmanager
def _output() -> Iterator[None]:
    """Turn a failure to write stdout (a full disk, a closed pipe) into its one-line error."""
    try:
        yield
    except OSError as error:
        raise OutputError(f"cannot write the output: {error.strerror or error}") from None


@contextlib.contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner with `message` while the block runs, on a terminal only."""
    if not fancy():
        yield
        return
    with console().status(message):
        yield


def _show(answer: Any) -> str:
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return str(answer)


def plan(factors: int, framework: bool, project: int) -> str:
    """The line before the first question: what is about to be asked, and how to answer."""
    steps = []
    if factors:
        steps.append(f"{factors} question{'s' * (factors != 1)} about what the app needs")
    if framework:
        steps.append("Flask or FastAPI recommended with its reasons")
    if project:
        steps.append(f"{project} question{'s' * (project != 1)} about the project")
    text = f"{', then '.join(steps)}. Enter takes the answer shown; Ctrl-C stops, writing nothing."
    return text[:1].upper() + text[1:]


def show_recommendation(rec: Recommendation, *, panel: bool | None = None) -> None:
    """The recommendation and, per factor, the answer, which way it pushed and why."""
    if panel if panel is not None else fancy():
        _print(_recommendation_panel(rec))
        return
    say(f"Recommended: {NAMES[rec.framework]}")
    for reason in rec.reasons:
        favours = NAMES.get(reason.favours, "neither")
        say(f"  {reason.factor} ({_show(reason.answer)}, favours {favours}): {reason.why}")


def _recommendation_panel(rec: Recommendation) -> Any:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Factor", style="bold", no_wrap=True)
    table.add_column("You said", no_wrap=True)
    table.add_column("Favours", no_wrap=True)
    table.add_column("Why")
    for reason in rec.reasons:
        favours = NAMES.get(reason.favours, "neither")
        style = "green" if reason.favours == rec.framework else "dim"
        table.add_row(
            reason.factor,
            escape(_show(reason.answer)),
            f"[{style}]{favours}[/]",
            escape(reason.why),
        )
    title = f"Recommended: [bold]{NAMES[rec.framework]}[/]"
    return Panel(table, title=title, title_align="left", border_style="cyan")


def show_comparison() -> None:
    """The Flask vs FastAPI comparison, one row per factor: a table on a terminal, plain lines
    (one per framework, under its factor) in a pipe or a log."""
    if not fancy():
        say("Flask vs FastAPI:")
        for factor, flask, fastapi in COMPARISON:
            say(f"  {factor}")
            say(f"    Flask    {flask}")
            say(f"    FastAPI  {fastapi}")
        return
    from rich.table import Table

    table = Table(title="Flask vs FastAPI", show_lines=True)
    table.add_column("Factor", style="bold")
    table.add_column("Flask")
    table.add_column("FastAPI")
    for row in COMPARISON:
        table.add_row(*row)
    _print(table)


def show_list(title: str, lines: Sequence[str], *, commands: bool = False) -> None:
    """A titled list: a panel on a terminal, indented lines elsewhere. In the panel, rich wraps
    a long line between words. Not `commands`, though: rich would break one with the border
    in between, and a command copied from there would not run, so a list of commands with a
    line too long for the panel is plain lines, which the terminal's own wrap copies whole."""
    too_long = commands and max(map(len, lines), default=0) + 4 > console().width
    if not fancy() or too_long:
        say(f"{title}:")
        for line in lines:
            say(f"  {line}")
        return
    from rich.markup import escape
    from rich.panel import Panel

    body = escape("\n".join(lines))
    _print(Panel(body, title=title, title_align="left", border_style="green"))


# The same command the project's README and its refusal to start without a key give.
_MAKE_SECRET = "python -c 'import secrets; print(secrets.token_hex(32))'"


def next_steps(dest_label: str, answers: Mapping[str, Any]) -> list[str]:
    """What to type after the project is made, ending with what the project is for: a web
    app's home page, an API's hello endpoint, and its docs where it has them."""
    package = answers["package_name"]
    steps = [
        f"cd {shlex.quote(dest_label)}",
        f"{_venv_python(answers)} -m venv .venv && . .venv/bin/activate",
        "pip install -e '.[dev]'",
        "pytest",
        f"python -m {package}",
    ]
    if answers["framework"] == "flask":  # the production server refuses to start without it
        steps.insert(-1, f'export FLASK_SECRET_KEY="$({_MAKE_SECRET})"')
    database = answers.get("database", "none")
    if database == "postgresql":  # no default: the server refuses to start without it
        steps.insert(-1, f"export DATABASE_URL=postgresql://user:password@127.0.0.1:5432/{package}")
    if database != "none":  # the tables, before the server needs them
        steps.insert(-1, f"python -m {package} migrate")
    if database != "none" and answers.get("auth", False):  # items need a signed-in user
        steps.insert(-1, f"python -m {package} create-user admin@example.com --admin")
    return steps + _first_look(answers)


def python_note(answers: Mapping[str, Any]) -> str | None:
    """What to know when the project needs a newer Python than the one running newapp (pip
    would refuse to install it there): how to get one, or how to make it for this Python."""
    venv = _venv_python(answers)
    if venv == "python":
        return None
    wanted, here = answers["python_version"], f"{sys.version_info[0]}.{sys.version_info[1]}"
    return (
        f"The project needs Python {wanted} or newer (python_version) and newapp runs on "
        f"{here}: install {venv} (for example `uv python install {wanted}`), or make the "
        f"project for this Python with --data python_version={here}."
    )


def _venv_python(answers: Mapping[str, Any]) -> str:
    """The Python to make the project's virtualenv with: this one, unless it is older than the
    project's lowest (pip would refuse to install the project into it)."""
    wanted = str(answers.get("python_version", ""))
    try:
        lowest = tuple(int(part) for part in wanted.split("."))
    except ValueError:
        return "python"
    return "python" if sys.version_info[:2] >= lowest else f"python{wanted}"


def _first_look(answers: Mapping[str, Any]) -> list[str]:
    base = f"http://127.0.0.1:{answers['port']}"
    if answers.get("app_kind") == "web":
        steps = [f"curl {base}/    # the home page: open it in a browser, too"]
        if answers.get("database", "none") != "none" and answers.get("auth", False):
            steps.append(f"open {base}/pages/sign-in    # in a browser, as admin@example.com")
    else:
        steps = [f"curl {base}/hello    # from another terminal"]
    if answers.get("database", "none") != "none":
        body = """'{"name": "first"}'"""
        bearer = ""
        if answers.get("auth", False):
            # The password goes through stdin: never on a command line, where `ps` shows it.
            steps.append("read -rsp 'Password: ' PASSWORD; echo")
            steps.append(
                """TOKEN=$(printf %s "$PASSWORD" | curl -s -d username=admin@example.com """
                f"--data-urlencode password@- {base}/auth/token | python -c "
                """'import json, sys; print(json.load(sys.stdin)["access_token"])')"""
            )
            bearer = """-H "Authorization: Bearer $TOKEN" """
        steps.append(f"curl {bearer}-H 'Content-Type: application/json' -d {body} {base}/items")
    if answers.get("auto_docs", True):
        docs = "/docs" if answers["framework"] == "fastapi" else "/openapi/swagger"
        steps.append(f"API docs: {base}{docs}")
    return steps


def show_files(title: str, rows: Iterable[tuple[str, str]]) -> None:
    """(action, path) rows, for --dry-run, --force and update reports."""
    rows = list(rows)
    if not fancy():
        if title:
            say(f"{title}:")
        for action, path in rows:
            say(f"  {action:<10} {path}")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title or None, box=None, show_header=False, pad_edge=False)
    table.add_column("action", style="cyan", no_wrap=True)
    table.add_column("path")
    for action, path in rows:
        table.add_row(action, escape(path))
    _print(table)
