"""Run inside a generated project's venv by bench/inprocess.py: the app's own CPU time per request,
called in this process (ASGI for FastAPI, WSGI for Flask) with no server, socket or other load.

    python inprocess_probe.py PACKAGE FRAMEWORK EMAIL PASSWORD REQUESTS ROUNDS

The database (DATABASE_URL) is migrated and EMAIL is a user (bench/inprocess.py did both). The
probe signs in and makes one item through the app's own routes, then times each route REQUESTS
times per round, the routes in an order that rotates each round, and prints JSON: for each
route, the process CPU (all threads: aiosqlite's and the threadpool's count) per request, in
microseconds, one number per round.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

PACKAGE, FRAMEWORK, EMAIL, PASSWORD = sys.argv[1:5]
REQUESTS, ROUNDS = int(sys.argv[5]), int(sys.argv[6])
WARM_UP = 100
Call = Callable[[str, str, bytes, dict[str, str]], tuple[int, bytes]]


def fastapi_client() -> tuple[Call, Callable[[], None]]:
    """Calls into the FastAPI app's ASGI callable, its lifespan started first."""
    app = importlib.import_module(f"{PACKAGE}.app").create_app()
    loop = asyncio.new_event_loop()
    startup: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    async def lifespan_receive() -> dict[str, str]:
        return await startup.get()

    async def lifespan_send(_: Any) -> None:
        return None

    lifespan: list[asyncio.Task[None]] = []  # kept: the loop holds tasks only weakly

    async def start() -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        lifespan.append(loop.create_task(app(scope, lifespan_receive, lifespan_send)))
        await startup.put({"type": "lifespan.startup"})
        await asyncio.sleep(0.1)

    async def one(
        method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        target = urllib.parse.urlsplit(path)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": target.path,
            "raw_path": target.path.encode(),
            "query_string": target.query.encode(),
            "root_path": "",
            "headers": [(b"host", b"localhost")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        messages: list[dict[str, Any]] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never leaves
            return {}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await app(scope, receive, send)
        return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])

    loop.run_until_complete(start())

    def call(method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return loop.run_until_complete(one(method, path, body, headers))

    def close() -> None:
        loop.run_until_complete(startup.put({"type": "lifespan.shutdown"}))

    return call, close


def flask_client() -> tuple[Call, Callable[[], None]]:
    """Calls into the Flask app's WSGI callable (the app alone: not front.py's ASGI bridge)."""
    from werkzeug.test import EnvironBuilder

    app = importlib.import_module(f"{PACKAGE}.app").create_app()

    def call(method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        builder = EnvironBuilder(
            path=path, method=method, data=body, headers=headers, base_url="http://localhost"
        )
        status: list[int] = []

        def start_response(line: str, _headers: Any, *_: Any) -> Any:
            status.append(int(line.split(" ", 1)[0]))
            return lambda chunk: None

        result = app(builder.get_environ(), start_response)
        try:
            content = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return status[0], content

    return call, lambda: None


def main() -> None:
    call, close = (fastapi_client if FRAMEWORK == "fastapi" else flask_client)()
    form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
    status, body = call(
        "POST", "/auth/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 200, (status, body)
    token = {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
    json_type = {"Content-Type": "application/json"}
    status, body = call("POST", "/items", b'{"name": "probe"}', {**token, **json_type})
    assert status == 201, (status, body)
    item = json.loads(body)["id"]
    routes = {
        "GET /hello": ("/hello", {}, 200),
        "GET /items/{id}, no token (401)": (f"/items/{item}", {}, 401),
        "GET /users/me": ("/users/me", token, 200),
        "GET /items/{id}": (f"/items/{item}", token, 200),
    }
    names = list(routes)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(ROUNDS):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            path, headers, expected = routes[name]
            for _ in range(WARM_UP):
                status, body = call("GET", path, b"", headers)
                assert status == expected, (name, status, body)
            started = time.process_time()
            for _ in range(REQUESTS):
                call("GET", path, b"", headers)
            cpu[name].append((time.process_time() - started) / REQUESTS * 1e6)
    close()
    print(json.dumps(cpu))


main()
