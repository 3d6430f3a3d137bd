"""Plain `copier copy` of this repo and `newapp create` make the same project."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO, tree
from newapp.cli import app

# copier records where and at which commit it rendered from; newapp records its release.
RECORDED_BY_THE_TOOL = ("_src_path:", "_commit:")


def comparable(project: Path) -> dict[str, bytes]:
    files = tree(project)
    answers = files.pop(".copier-answers.yml").decode().splitlines(keepends=True)
    kept = [line for line in answers if not line.startswith(RECORDED_BY_THE_TOOL)]
    files[".copier-answers.yml"] = "".join(kept).encode()
    return files


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_copier_copy_renders_the_same_files_as_newapp(
    workdir: Path, framework: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    copier = shutil.which("copier") or f"{Path(sys.executable).parent}/copier"
    subprocess.run(
        [
            copier,
            "copy",
            "--vcs-ref",
            "HEAD",
            "--defaults",
            "--quiet",
            "--data",
            f"framework={framework}",
            str(REPO),
            "by-copier",
        ],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=120,
    )
    monkeypatch.delenv("NEWAPP_TEMPLATE_DIR", raising=False)  # render this checkout, as copier did
    result = CliRunner().invoke(
        app, ["create", "by-newapp", "--name", "my-app", "--framework", framework, "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert comparable(workdir / "by-newapp") == comparable(workdir / "by-copier")
