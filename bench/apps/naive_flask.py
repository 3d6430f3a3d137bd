"""The seed's naive way to serve Flask: the generated app on Flask's `app.run()` dev server."""

from __future__ import annotations

import importlib
import os


def main() -> None:
    """Serve BENCH_PACKAGE's create_app() with app.run() on 127.0.0.1:PORT."""
    module = importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.app")
    module.create_app().run(host="127.0.0.1", port=int(os.environ["PORT"]))


if __name__ == "__main__":
    main()
