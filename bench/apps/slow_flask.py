"""The generated Flask app plus GET /slow, which waits like a view calling a database or API."""

from __future__ import annotations

import importlib
import os
import time

from flask import Flask


def create() -> Flask:
    """BENCH_PACKAGE's create_app(), with /slow sleeping BENCH_SLOW_SECONDS (default 0.05)."""
    app: Flask = importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.app").create_app()
    pause = float(os.environ.get("BENCH_SLOW_SECONDS", "0.05"))

    def slow() -> dict[str, str]:
        time.sleep(pause)  # the GIL is released while waiting, as in a socket read
        return {"message": "done"}

    app.add_url_rule("/slow", view_func=slow)
    return app


app = create()
