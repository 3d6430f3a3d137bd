"""Property tests: any answer is refused with exit 2, or makes a project that imports."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from newapp.cli import app
from projects import CURRENT, interpreter
from support import clean_env, install, make_venv, render, uv_executable

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("properties")]

FIELDS = ["project_name", "package_name", "description", "author_name"]
# The projects are installed into a virtualenv of this Python: they must support it (the
# default python_version may be newer than the one running the tests).
THIS_PYTHON = {"python_version": CURRENT}
# Plain text and the characters that break file formats: quotes, backslashes, TOML/YAML and
# Jinja syntax, line breaks, non-ASCII.
TRICKY = st.text(
    alphabet=st.sampled_from(list("abz09_-. '\"\\{}%#:[]\n\té✓/")) | st.characters(),
    max_size=30,
)


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory, template_copy: Path) -> Path:
    """A virtualenv holding both frameworks' runtime dependencies, to import rendered code."""
    root = tmp_path_factory.mktemp("properties")
    python = make_venv(root / "venv", interpreter(CURRENT))
    for framework in ("flask", "fastapi"):
        project = render(
            root / framework,
            {"framework": framework, "project_name": f"dep-{framework}", **THIS_PYTHON},
            template=template_copy,
        )
        install(python, project, extras=(), editable=False)
    return python


def imports(python: Path, project: Path, package: str) -> subprocess.CompletedProcess[str]:
    """Install the project (its dependencies are already there) and import its app."""
    subprocess.run(
        [
            uv_executable(),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--reinstall",
            "--python",
            python,
            project,
        ],
        env=clean_env(),
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = clean_env({"SECRET_KEY": "x" * 32})
    code = f"from {package}.app import create_app; assert callable(create_app)"
    return subprocess.run(
        [python, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
@pytest.mark.parametrize("field", FIELDS)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=TRICKY)
def test_any_answer_is_refused_or_makes_an_importable_project(
    runtime: Path,
    template_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    framework: str,
    field: str,
    value: str,
) -> None:
    monkeypatch.setenv("NEWAPP_TEMPLATE_DIR", str(template_copy))
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "out"
        args = ["create", str(dest), "--framework", framework, "--yes"]
        args += ["--data", f"python_version={THIS_PYTHON['python_version']}"]
        if field != "project_name":
            args += ["--name", "prop"]
        result = CliRunner().invoke(app, [*args, "--data", f"{field}={value}"])
        if result.exit_code == 2:
            assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
            assert not dest.exists()
            return
        assert result.exit_code == 0, result.output
        import yaml

        answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
        assert answers[field] == value  # recorded as given, never evaluated
        proc = imports(runtime, dest, answers["package_name"])
        assert proc.returncode == 0, proc.stderr
