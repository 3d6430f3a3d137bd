"""A project's Alembic migrations as files: its newest step, and the steps an update writes when
sign-in leaves or comes back, since every database that ran a step must still find it."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from newapp.errors import NotUpdatable

# The template's migration that adds sign-in (rev_0002_create_users.py in FastAPI projects).
USERS_STEP = "*0002_create_users.py"


@dataclass(frozen=True)
class Step:
    """One migration file: its revision and the revisions it follows."""

    path: Path
    revision: str
    down: tuple[str, ...]


def versions(project: Path, package: str) -> Path:
    """Where a project keeps its migration files."""
    return project / "src" / package / "migrations" / "versions"


def steps(folder: Path) -> list[Step]:
    """Every migration in `folder`, read without importing it (the project's virtualenv may
    not exist)."""
    found = []
    for path in sorted(folder.glob("*.py")):
        values = _assigned(path, ("revision", "down_revision"))
        revision, down = values.get("revision"), values.get("down_revision")
        if isinstance(revision, str):
            # None for the first step, a tuple for a merge of two.
            downs = (down,) if isinstance(down, str) else down if isinstance(down, tuple) else ()
            found.append(Step(path, revision, tuple(str(d) for d in downs)))
    return found


def head(folder: Path, found: list[Step] | None = None) -> Step:
    """The newest step: the one no other step follows (of `found`, the steps in `folder`
    already read, if given)."""
    found = steps(folder) if found is None else found
    followed = {revision for step in found for revision in step.down}
    heads = [step for step in found if step.revision not in followed]
    if len(heads) != 1:
        names = ", ".join(step.revision for step in heads) or "none"
        raise NotUpdatable(
            f"{folder} has {len(heads)} newest migrations ({names}), not one; merge them first "
            "(alembic merge heads), commit, then update"
        )
    return heads[0]


def write_step(folder: Path, users: Path, *, drop: bool) -> Path:
    """Write after the newest step a copy of the users migration `users` with a new revision:
    reversed (`drop`), it takes sign-in's tables out; as it is, it brings them back."""
    found = steps(folder)
    newest = head(folder, found)
    revision = _next_revision([step.revision for step in found])
    old = _assigned(users, ("revision",))["revision"]
    action = ("create_users", "drop_users") if drop else ("create_users", "create_users_again")
    target = folder / users.name.replace(str(old), revision, 1).replace(*action)
    summary = (
        f"Take sign-in out: drop the items' owners and the users table, undoing {old}."
        if drop
        else f"Bring sign-in back: the users table and the items' owners, as {old} made them."
    )
    target.write_text(_renumbered(users, revision, newest.revision, summary, swap=drop))
    return target


def _renumbered(users: Path, revision: str, down: str, summary: str, *, swap: bool) -> str:
    source = users.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    first = min(node.lineno for node in functions.values()) - 1
    header = "".join(lines[:first])
    # The docstring's summary, revisions and date, and the revisions' assignments.
    for pattern, replacement in (
        (r'\A"""[^\n]*', f'"""{summary}'),
        (r"^(Revision ID:\s*).*$", rf"\g<1>{revision}"),
        (r"^(Revises:\s*).*$", rf"\g<1>{down}"),
        (r"\d{4}-\d{2}-\d{2}", date.today().isoformat()),
        (r"^(revision\b[^=\n]*=\s*).*$", rf'\g<1>"{revision}"'),
        (r"^(down_revision\b[^=\n]*=\s*).*$", rf'\g<1>"{down}"'),
    ):
        header = re.sub(pattern, replacement, header, count=1, flags=re.MULTILINE)

    def body(name: str) -> str:
        node = functions[name]
        return "".join(lines[node.lineno : node.end_lineno])

    def signature(name: str) -> str:
        return lines[functions[name].lineno - 1]

    upgrade, downgrade = ("downgrade", "upgrade") if swap else ("upgrade", "downgrade")
    return (
        f"{header}{signature('upgrade')}{body(upgrade)}\n\n"
        f"{signature('downgrade')}{body(downgrade)}"
    )


def _next_revision(taken: list[str]) -> str:
    """One more than the highest numbered revision, in the template's four digits."""
    numbered = [int(revision) for revision in taken if revision.isdigit()]
    return f"{max(numbered, default=0) + 1:04d}"


def _assigned(path: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The literal values a module assigns to `names` at its top level."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as error:
        raise NotUpdatable(
            f"cannot read the migration {path}: {error}; fix it, commit, then update"
        ) from None
    values: dict[str, object] = {}
    for node in tree.body:
        target: ast.expr | None = None
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and target.id in names:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue  # computed: not a revision this can read
    return values
