"""The generated apps behind granian's own proxy-headers wrapper (X-Forwarded-For/-Proto from
127.0.0.1 and ::1 only), as a shipped granian set-up would need: `--factory proxied:wsgi`."""

from __future__ import annotations

import importlib
import os
from typing import Any

from granian.utils.proxies import wrap_asgi_with_proxy_headers, wrap_wsgi_with_proxy_headers

TRUSTED = ["127.0.0.1", "::1"]


def _app_module() -> Any:
    return importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.app")


def wsgi() -> Any:
    """Factory: the Flask app from create_app(), wrapped."""
    return wrap_wsgi_with_proxy_headers(_app_module().create_app(), TRUSTED)


def asgi() -> Any:
    """Factory: the FastAPI app, wrapped."""
    return wrap_asgi_with_proxy_headers(_app_module().app, TRUSTED)
