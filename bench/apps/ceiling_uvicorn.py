"""The generated FastAPI project's own `python -m` entry point, with the ceiling app swapped in.

Same uvicorn.run() settings (workers, loop, keep-alive, access log) as the real thing; only the
application string changes, so the difference is what FastAPI and the app cost.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import uvicorn


def main() -> None:
    """Patch uvicorn.run to serve ceiling:asgi, then run BENCH_PACKAGE.__main__.main()."""
    real_run = uvicorn.run

    def run(app: Any, **settings: Any) -> None:
        real_run("ceiling:asgi", **settings)

    uvicorn.run = run
    importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.__main__").main()


if __name__ == "__main__":
    main()
