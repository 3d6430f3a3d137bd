"""Part 3's contenders: the generated servers, the naive ones, the ceilings and alternatives.

Every contender serves the generated project's own app (create_app() / app), except the
ceilings, which serve a framework-less callable with the same bytes on the generated server
settings. PORT and HOST are in every contender's environment; WEB_CONCURRENCY never is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common import APPS, HOST
from envs import Project

# Alternatives run with the settings the generated servers keep for safety.
GUNICORN_SAFE = ["--no-control-socket", "--keep-alive", "5", "--graceful-timeout", "8"]


@dataclass(frozen=True)
class Contender:
    """One way to serve the hello endpoint: its command line (before the port) and role."""

    name: str
    role: str  # generated | naive | ceiling | alternative
    argv: list[str]
    port_args: bool = False  # append --host 127.0.0.1 --port N (else PORT/HOST env only)
    env: dict[str, str] = field(default_factory=dict)  # on top of servers.base_env()

    def command(self, port: int) -> list[str]:
        argv = [arg.replace("{bind}", f"{HOST}:{port}") for arg in self.argv]
        return [*argv, "--host", HOST, "--port", str(port)] if self.port_args else argv


def shown(contender: Contender) -> str:
    """The command line as RESULTS.md shows it: extra environment first, $PORT for the port."""
    argv = (
        " ".join(contender.command(0)).replace(":0 ", ":$PORT ").replace("--port 0", "--port $PORT")
    )
    return " ".join([*(f"{k}={v}" for k, v in contender.env.items()), argv])


def _granian(py: str, interface: str, workers: int, target: str, *opts: str) -> list[str]:
    base = [py, "-m", "granian", "--interface", interface, "--workers", str(workers)]
    return [*base, *opts, target]


def flask(p: Project) -> list[Contender]:
    """Flask: python -m <pkg> (gunicorn + its config), app.run(), the WSGI ceiling, others."""
    py, pkg = p.python, p.package
    conf = [py, "-m", "gunicorn", "--config", f"python:{pkg}.gunicorn_conf"]
    factory = f"{pkg}.app:create_app"
    return [
        Contender("generated: python -m (gunicorn)", "generated", [py, "-m", pkg]),
        Contender("naive: app.run() dev server", "naive", [py, str(APPS / "naive_flask.py")]),
        Contender("ceiling: bare WSGI, same gunicorn", "ceiling", [*conf, "ceiling:wsgi"]),
        Contender(
            "generated + ACCESS_LOG=1", "alternative", [py, "-m", pkg], env={"ACCESS_LOG": "1"}
        ),
        Contender(
            "gunicorn sync w=2", "alternative", [*conf, "-k", "sync", "--threads", "1", "-w", "2"]
        ),
        Contender(
            "gunicorn sync w=5 (2 x CPUs + 1)",
            "alternative",
            [*conf, "-k", "sync", "--threads", "1", "-w", "5"],
        ),
        Contender("gunicorn gthread w=2 t=4", "alternative", [*conf, "-w", "2", "--threads", "4"]),
        Contender(
            "gunicorn gthread w=2 t=16", "alternative", [*conf, "-w", "2", "--threads", "16"]
        ),
        Contender(
            "gunicorn gthread w=5 t=4 (old default)",
            "alternative",
            [*conf, "-w", "5", "--threads", "4"],
        ),
        Contender(
            "granian wsgi w=2", "alternative", _granian(py, "wsgi", 2, factory, "--factory"), True
        ),
        Contender(
            "granian wsgi w=2 blocking-threads=8",
            "alternative",
            _granian(py, "wsgi", 2, factory, "--factory", "--blocking-threads", "8"),
            True,
        ),
        Contender(
            "granian wsgi w=2 +proxy headers",
            "alternative",
            _granian(py, "wsgi", 2, "proxied:wsgi", "--factory"),
            True,
        ),
    ]


def fastapi(p: Project) -> list[Contender]:
    """FastAPI: python -m <pkg> (uvicorn), plain `uvicorn pkg.app:app`, the ASGI ceiling, others."""
    py, pkg = p.python, p.package
    app = f"{pkg}.app:app"
    uvicorn = [py, "-m", "uvicorn", app, "--no-access-log", "--workers"]
    gunicorn = [py, "-m", "gunicorn", *GUNICORN_SAFE, "-w", "2", "-b"]
    return [
        Contender("generated: python -m (uvicorn)", "generated", [py, "-m", pkg]),
        Contender("naive: uvicorn defaults", "naive", [py, "-m", "uvicorn", app], True),
        Contender(
            "ceiling: bare ASGI, same uvicorn", "ceiling", [py, str(APPS / "ceiling_uvicorn.py")]
        ),
        Contender(
            "generated + ACCESS_LOG=1", "alternative", [py, "-m", pkg], env={"ACCESS_LOG": "1"}
        ),
        Contender("uvicorn w=1", "alternative", [*uvicorn, "1"], True),
        Contender("uvicorn w=3", "alternative", [*uvicorn, "3"], True),
        Contender("granian asgi w=2", "alternative", _granian(py, "asgi", 2, app), True),
        Contender(
            "granian asgi w=2 +proxy headers",
            "alternative",
            _granian(py, "asgi", 2, "proxied:asgi", "--factory"),
            True,
        ),
        Contender("gunicorn asgi w=2", "alternative", [*gunicorn, "{bind}", "-k", "asgi", app]),
        Contender(
            "gunicorn+UvicornWorker w=2",
            "alternative",
            [*gunicorn, "{bind}", "-k", "uvicorn_worker.UvicornWorker", app],
        ),
    ]
