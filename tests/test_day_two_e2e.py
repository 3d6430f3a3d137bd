"""Day two of a generated project: a column added to a model, its migration made the way the
project's README says, and the project's own checks still clean; `migrate` says in one line
where the database is."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from projects import FRAMEWORKS, MAIN, MypyCaches
from support import run, run_ok

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

DESCRIPTION = '    description: Mapped[str] = mapped_column(Text, default="", server_default="")\n'
PRICE = '    price: Mapped[int] = mapped_column(default=0, server_default="0")\n'
# The README's command for a new migration, per framework.
MAKE_MIGRATION = {
    "flask": lambda package: ["-m", "flask", "--app", f"{package}.app", "db", "migrate"],
    "fastapi": lambda package: ["-m", "alembic", "revision", "--autogenerate"],
}
CACHES = (".venv", "data", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_new_columns_migration_passes_the_projects_own_checks(
    projects: Any, mypy_cache: MypyCaches, framework: str, tmp_path: Path
) -> None:
    project = projects(MAIN[framework])
    # A copy, so the shared project stays as made; its virtualenv serves, with the copy's
    # package first on the path.
    copy = tmp_path / "project"
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns(*CACHES))
    env = project.env(PYTHONPATH=str(copy / "src"))
    models = copy / "src" / project.package / "models.py"
    assert DESCRIPTION in models.read_text()
    models.write_text(models.read_text().replace(DESCRIPTION, DESCRIPTION + PRICE))
    python = project.python

    def migrate() -> str:
        result = run([python, "-m", project.package, "migrate"], copy, env)
        assert (result.returncode, result.stderr) == (0, "")  # no log lines from Alembic
        assert result.stdout.count("\n") == 1, result.stdout
        return result.stdout

    # The main projects have sign-in (auth, the default): its migration is the newest.
    newest = "0002 (Create the users table; items get an owner)"
    assert migrate().startswith(f"Migrated: the database is at {newest}")
    make = [python, *MAKE_MIGRATION[framework](project.package), "-m", "add price"]
    run_ok(make, copy, env)
    [new] = [
        path
        for path in (copy / "src" / project.package / "migrations" / "versions").glob("*.py")
        if "add_price" in path.name
    ]
    assert "price" in new.read_text()
    for check in (["ruff", "format", "--check", "."], ["ruff", "check", "."]):
        run_ok([python, "-m", *check], copy, env)
    with mypy_cache.seeded(MAIN[framework].python_version) as cache:
        run_ok([python, "-m", "mypy"], copy, {**env, "MYPY_CACHE_DIR": str(cache)})
    assert migrate().endswith("(add price), the newest.\n")
