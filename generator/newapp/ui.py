"""What newapp shows people: the recommendation, the comparison table and next steps (rich)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from newapp.recommend import Recommendation

NAMES = {"flask": "Flask", "fastapi": "FastAPI"}

# The six factors of the comparison this product is built on, in our own words.
COMPARISON: tuple[tuple[str, str, str], ...] = (
    ("Performance", "Fine for most apps; synchronous workers", "Very high; async built in"),
    ("Learning curve", "Gentle; plain functions", "Moderate; rewards knowing async/await"),
    ("API documentation", "Set up by hand or with an extension", "OpenAPI docs generated for you"),
    ("Type checking", "None built in", "Validates requests from type hints"),
    ("Community & ecosystem", "Large and mature", "Younger, growing fast"),
    ("Use case", "Small to medium web apps, HTML pages", "APIs that need speed and validation"),
)


def console(stderr: bool = False) -> Console:
    """A console that drops colour when not on a terminal or when NO_COLOR is set (rich's rule)."""
    return Console(stderr=stderr, highlight=False)


def _show(answer: Any) -> str:
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return str(answer)


def recommendation_panel(rec: Recommendation) -> Panel:
    """The recommendation and one row per factor saying which way the answer pushed."""
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


def comparison_table() -> Table:
    """The Flask vs FastAPI comparison, one row per factor."""
    table = Table(title="Flask vs FastAPI", show_lines=True)
    table.add_column("Factor", style="bold")
    table.add_column("Flask")
    table.add_column("FastAPI")
    for row in COMPARISON:
        table.add_row(*row)
    return table


def next_steps_panel(dest_label: str, package: str, port: int, framework: str) -> Panel:
    """What to type after the project is made."""
    steps = [
        f"cd {dest_label}",
        "python -m venv .venv && . .venv/bin/activate",
        "pip install -e '.[dev]'",
        "pytest",
        f"python -m {package}",
        f"curl http://127.0.0.1:{port}/hello",
    ]
    body = escape("\n".join(steps))
    if framework == "fastapi":
        body += f"\n\nAPI docs: http://127.0.0.1:{port}/docs"
    return Panel(body, title="Next steps", title_align="left", border_style="green")


def file_list(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    """A two-column table of (action, path), for --dry-run and --force reports."""
    table = Table(title=title, box=None, show_header=False, pad_edge=False)
    table.add_column("action", style="cyan", no_wrap=True)
    table.add_column("path")
    for action, path in rows:
        table.add_row(action, escape(path))
    return table
