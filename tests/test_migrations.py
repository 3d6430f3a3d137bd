"""newapp's reading and writing of a project's migration files: the newest step, and the step
that takes sign-in out (or brings it back) after it, for each template's users migration."""

from __future__ import annotations

import ast
import shutil
from datetime import date
from pathlib import Path

import pytest

from newapp.errors import NotUpdatable
from newapp.migrations import USERS_STEP, head, steps, write_step

REPO = Path(__file__).resolve().parents[1]
# Each template's migrations as a project gets them (their folder names are Jinja).
TEMPLATE_VERSIONS = {
    framework: next((REPO / f"template_{framework}").glob("src/*/*migrations*/versions"))
    for framework in ("flask", "fastapi")
}
# A migration the user made on day two, as `alembic revision` writes it: a hex revision.
USER_STEP = '''"""add price

Revision ID: 3f2a9c1b7d4e
Revises: 0002
"""

revision = "3f2a9c1b7d4e"
down_revision = "0002"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


@pytest.fixture(params=sorted(TEMPLATE_VERSIONS))
def versions(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of a template's migrations folder, sign-in's included."""
    folder = tmp_path / "versions"
    shutil.copytree(TEMPLATE_VERSIONS[request.param], folder)
    return folder


def _functions(path: Path) -> dict[str, str]:
    """Each function's body, as source."""
    source = path.read_text()
    return {
        node.name: "\n".join(ast.unparse(statement) for statement in node.body)
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
    }


def _values(path: Path) -> dict[str, object]:
    """The names the module sets at its top level, with their values."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            found[node.target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def test_the_newest_step_is_the_one_no_other_follows(versions: Path) -> None:
    assert head(versions).revision == "0002"
    (versions / "3f2a9c1b7d4e_add_price.py").write_text(USER_STEP)
    assert head(versions).revision == "3f2a9c1b7d4e"
    assert sorted(step.revision for step in steps(versions)) == ["0001", "0002", "3f2a9c1b7d4e"]


def test_two_newest_steps_are_refused_with_the_way_out(versions: Path) -> None:
    (versions / "3f2a9c1b7d4e_add_price.py").write_text(USER_STEP)
    (versions / "9e8d_add_colour.py").write_text(USER_STEP.replace("3f2a9c1b7d4e", "9e8d"))
    with pytest.raises(NotUpdatable, match=r"2 newest migrations \(3f2a9c1b7d4e, 9e8d\).*merge"):
        head(versions)


def test_an_unreadable_migration_is_named(versions: Path) -> None:
    (versions / "broken.py").write_text("revision = (\n")
    with pytest.raises(NotUpdatable, match=r"cannot read the migration .*broken\.py"):
        head(versions)


@pytest.mark.parametrize("user_step", [False, True], ids=["after-users", "after-a-user-step"])
def test_taking_sign_in_out_reverses_the_users_migration_after_the_newest(
    versions: Path, user_step: bool
) -> None:
    if user_step:
        (versions / "3f2a9c1b7d4e_add_price.py").write_text(USER_STEP)
    [users] = versions.glob(USERS_STEP)

    step = write_step(versions, users, drop=True)

    assert step.name == users.name.replace("0002_create_users", "0003_drop_users")
    values = _values(step)
    assert values["revision"] == "0003"
    assert values["down_revision"] == ("3f2a9c1b7d4e" if user_step else "0002")
    assert head(versions).path == step
    # The users migration, run backwards: its downgrade is the new upgrade, and the other way.
    assert _functions(step) == {
        "upgrade": _functions(users)["downgrade"],
        "downgrade": _functions(users)["upgrade"],
    }
    text = step.read_text()
    first = "Take sign-in out: drop the items' owners and the users table, undoing 0002."
    assert text.startswith(f'"""{first}\n')
    assert "Revision ID: 0003\n" in text and f"Revises: {values['down_revision']}\n" in text
    assert date.today().isoformat() in text
    assert text.endswith(")\n") and not text.endswith("\n\n")  # as ruff formats it


def test_bringing_sign_in_back_makes_its_tables_again_after_the_drop(versions: Path) -> None:
    [users] = versions.glob(USERS_STEP)
    dropped = write_step(versions, users, drop=True)

    again = write_step(versions, users, drop=False)

    assert again.name == users.name.replace("0002_create_users", "0004_create_users_again")
    assert (_values(again)["revision"], _values(again)["down_revision"]) == ("0004", "0003")
    assert _functions(again) == _functions(users)
    assert head(versions).path == again and dropped.is_file()
