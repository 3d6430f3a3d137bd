"""The test harness's own shortcuts prove the same as the long way: shared bytecode."""

from __future__ import annotations

import os
import py_compile
import socket
import sys
from pathlib import Path

import pytest

import support

TAG = sys.implementation.cache_tag  # cpython-311
SITE = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


def virtualenv(root: Path) -> Path:
    """A stand-in virtualenv: only its site-packages folder; returns its Python's path."""
    (root / SITE).mkdir(parents=True)
    return root / "bin" / "python"


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "virtualenvs.txt"
    monkeypatch.setattr(support, "_VENV_REGISTRY", path)
    return path


def test_bytecode_is_borrowed_only_for_the_very_same_file(tmp_path: Path, registry: Path) -> None:
    donor, own = tmp_path / "donor", tmp_path / "own"
    virtualenv(donor)
    python = virtualenv(own)
    registry.write_text(f"{donor}\n{own}\n")
    for name in ("linked", "copied"):
        source = donor / SITE / "pkg" / f"{name}.py"
        source.parent.mkdir(exist_ok=True)
        source.write_text(f"NAME = {name!r}\n")
        py_compile.compile(str(source), doraise=True)
    (own / SITE / "pkg").mkdir()
    os.link(donor / SITE / "pkg/linked.py", own / SITE / "pkg/linked.py")  # as uv installs
    (own / SITE / "pkg/copied.py").write_bytes((donor / SITE / "pkg/copied.py").read_bytes())

    assert support.borrow_bytecode(python) == 1
    borrowed = own / SITE / "pkg/__pycache__" / f"linked.{TAG}.pyc"
    assert borrowed.samefile(donor / SITE / "pkg/__pycache__" / f"linked.{TAG}.pyc")
    # Same name and bytes, but another file (another time): compiled afresh, never borrowed.
    assert not (own / SITE / "pkg/__pycache__" / f"copied.{TAG}.pyc").exists()
    assert support.borrow_bytecode(python) == 0  # what it has, it keeps


def test_no_bytecode_is_borrowed_from_another_python(tmp_path: Path, registry: Path) -> None:
    other = tmp_path / "other" / "lib/python3.0/site-packages"
    other.mkdir(parents=True)
    python = virtualenv(tmp_path / "own")
    registry.write_text(f"{tmp_path / 'other'}\n")
    source = other / "module.py"
    source.write_text("X = 1\n")
    (other / "__pycache__").mkdir()
    (other / "__pycache__" / f"module.{TAG}.pyc").write_bytes(b"not for this Python")
    os.link(source, tmp_path / "own" / SITE / "module.py")
    assert support.borrow_bytecode(python) == 0


def test_free_ports_come_from_the_workers_own_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the kernel's ephemeral range, so no port the kernel hands out (another worker's
    bind to port 0, an outgoing connection) can take one between its choice and its bind."""
    ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    blocks = {}
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        monkeypatch.setattr(support, "_ports", None)
        blocks[worker] = {support.free_port() for _ in range(3)}
        assert len(blocks[worker]) == 3
        assert all(port + support._PORT_BLOCK <= ephemeral for port in blocks[worker])
    assert not blocks["gw0"] & blocks["gw1"]
    # One that something listens on is passed over.
    monkeypatch.setattr(support, "_ports", None)
    taken = support.free_port()
    monkeypatch.setattr(support, "_ports", None)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", taken))
        listener.listen()
        assert support.free_port() != taken
