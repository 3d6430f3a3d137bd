"""Rendering is all or nothing: signals in the middle of a real run leave no trace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_template

# Jinja's sandbox caps range() at 100,000, so nest two loops to make rendering take a while.
SLOW = "{% for i in range(100000) %}{% for j in range(40) %}{% endfor %}{% endfor %}slow\n"


def _as_from_a_terminal() -> None:
    # Ctrl-C at its default, as in a terminal: a suite started in the background (`cmd &` in a
    # script) inherits SIGINT ignored, and Python then rightly leaves it ignored in newapp too.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def slow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_template(tmp_path_factory.mktemp("slow"))
    for framework in ("flask", "fastapi"):
        (root / f"template_{framework}" / "zz_slow.txt.jinja").write_text(SLOW)
    return root


def newapp(
    args: list[str], cwd: Path, env: dict[str, str], **kwargs: object
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "newapp", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_as_from_a_terminal,  # sets one signal: nothing a fork could deadlock on
        **kwargs,  # type: ignore[call-overload]
    )


def wait_for_staging(cwd: Path, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.name.startswith(".my-api.newapp-") for p in cwd.iterdir()):
            time.sleep(0.3)  # well inside copier's render by now
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    pytest.fail("rendering never started")


@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [
        (signal.SIGINT, 130, "cancelled, nothing was written"),
        (signal.SIGTERM, 143, "terminated (SIGTERM), nothing was written"),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_signal_mid_render_leaves_nothing(
    workdir: Path, slow_template: Path, sig: int, code: int, message: str
) -> None:
    env = {**os.environ, "NEWAPP_TEMPLATE_DIR": str(slow_template)}
    proc = newapp(["create", "my-api", "--yes"], workdir, env)
    try:
        wait_for_staging(workdir, proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert err.strip() == f"error: {message}"
    assert list(workdir.iterdir()) == []


def test_slow_render_completes_when_left_alone(workdir: Path, slow_template: Path) -> None:
    """The control for the test above: the slow template does render."""
    env = {**os.environ, "NEWAPP_TEMPLATE_DIR": str(slow_template)}
    proc = newapp(["create", "my-api", "--yes"], workdir, env)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert (workdir / "my-api" / "zz_slow.txt").read_text() == "slow\n"
    assert [p.name for p in workdir.iterdir()] == ["my-api"]


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
@pytest.mark.parametrize("command", [["create", "my-api"], ["recommend"]])
def test_no_terminal_real_console_script_exits_at_once(
    workdir: Path, command: list[str], stdin: str
) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "newapp", *command],
        cwd=workdir,
        text=True,
        stdin=subprocess.DEVNULL,
        # Closed: Python starts with sys.stdin None, as under some CI runners and daemons.
        preexec_fn=(lambda: os.close(0)) if stdin == "closed" else None,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "no terminal to ask" in result.stderr
    assert time.monotonic() - started < 30
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("errno_", "fragment"),
    [(28, "no space left on the device"), (30, "read-only file system"), (13, "permission denied")],
    ids=["disk-full", "read-only", "permission-denied"],
)
@pytest.mark.parametrize("stage", ["render", "move"])
def test_os_errors_are_one_line_and_leave_nothing(
    workdir: Path,
    template_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    errno_: int,
    fragment: str,
    stage: str,
) -> None:
    from typer.testing import CliRunner

    from newapp.cli import app

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(errno_, os.strerror(errno_), str(workdir / "my-api" / "x"))

    monkeypatch.setenv("NEWAPP_TEMPLATE_DIR", str(template_copy))
    monkeypatch.setattr("copier.run_copy" if stage == "render" else "os.rename", fail)
    result = CliRunner().invoke(app, ["create", "my-api", "--yes"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: cannot write ") and fragment in result.stderr
    assert result.stderr.count("\n") == 1
    assert list(workdir.iterdir()) == []
