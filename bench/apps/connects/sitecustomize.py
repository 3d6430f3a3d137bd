"""Counts the SQLite connections a server opens: on PYTHONPATH with CONNECT_LOG=<file>, every
sqlite3.connect() in any of its processes (aiosqlite's threads too) appends one byte to that
file, so its size is the count. Python's audit hooks see the call; nothing is patched."""

import os
import sys

_LOG = os.environ.get("CONNECT_LOG")


def _count(event: str, _args: tuple[object, ...]) -> None:
    if event == "sqlite3.connect" and _LOG:
        fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b".")
        finally:
            os.close(fd)


if _LOG:
    sys.addaudithook(_count)
