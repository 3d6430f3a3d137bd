"""End to end: every generated API keeps the contract it publishes, fuzzed by schemathesis.

Each variant that publishes an OpenAPI document is served by its own production server and
fuzzed with all of schemathesis' checks and phases (examples, coverage, fuzzing, stateful),
plus `schemathesis_hooks.security_headers`. CI runs a fixed seed and a bounded number of
examples; run it longer by hand with, for example,

    NEWAPP_FUZZ_EXAMPLES=1000 NEWAPP_FUZZ_SEED=random python -m pytest tests/test_contract_e2e.py
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from projects import (
    FASTAPI_SYNC,
    FASTAPI_WEB_IO,
    FASTAPI_WEB_PLAIN,
    FLASK_WEB_TYPED,
    MAIN,
    Project,
    Variant,
    start,
)
from signin import ready_sqlite, sign_in
from support import Server, clean_env, free_port, request, run, running_server, stop

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

TESTS = Path(__file__).resolve().parent
EXAMPLES = os.environ.get("NEWAPP_FUZZ_EXAMPLES", "25")
SEED = os.environ.get("NEWAPP_FUZZ_SEED", "20261203")  # "random": a new seed every run


def fuzzed(name: str, variant: Variant, document: str, **env: str) -> Any:
    group = pytest.mark.xdist_group(variant.build)  # on the worker that builds its project
    return pytest.param(variant, document, env, id=name, marks=group)


VARIANTS = [
    fuzzed("fastapi-api", MAIN["fastapi"], "/openapi.json"),
    fuzzed("fastapi-api-io-sync-docs-off", FASTAPI_SYNC, "/openapi.json", DOCS_ENABLED="true"),
    fuzzed("fastapi-web-io", FASTAPI_WEB_IO, "/openapi.json"),
    fuzzed("fastapi-web-no-db-docs-off", FASTAPI_WEB_PLAIN, "/openapi.json", DOCS_ENABLED="1"),
    fuzzed("flask-api-docs", MAIN["flask"], "/openapi/openapi.json"),
    fuzzed(
        "flask-web-typed-docs-off",
        FLASK_WEB_TYPED,
        "/openapi/openapi.json",
        FLASK_DOCS_ENABLED="true",
    ),
]


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "schemathesis.cli"]


@contextlib.contextmanager
def upstream(project: Project, tmp_path: Path) -> Iterator[dict[str, str]]:
    """With high_concurrency, a local service for GET /upstream to call, so it answers 200
    (unreachable, it answers 502, which schemathesis rightly counts as a server error)."""
    if not dict(project.variant.extra).get("high_concurrency"):
        yield {}
        return
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    log = tmp_path / "upstream"
    with running_server(argv, clean_env(), "127.0.0.1", port, log, ready_path="/", cwd=tmp_path):
        yield {"UPSTREAM_URL": f"http://127.0.0.1:{port}"}


def prepared(project: Project, tmp_path: Path) -> dict[str, str]:
    """The server's database settings, where it has one: a fresh SQLite file, migrated, with
    the user the fuzzer signs in as (fuzz's Authorization header) where there is sign-in."""
    answers = dict(project.variant.extra)
    if answers.get("database", "sqlite") == "none":
        return {}
    return {"DATABASE_URL": ready_sqlite(project, tmp_path / "fuzz.db")}


@pytest.mark.parametrize(("variant", "document", "env"), VARIANTS)
def test_schemathesis_finds_no_failure(
    projects: Callable[[Variant], Project],
    variant: Variant,
    document: str,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    project = projects(variant)
    with upstream(project, tmp_path) as calls:
        database = prepared(project, tmp_path)
        server = start(project, tmp_path / "server", **database, **calls, **env)
        try:
            operations = count_operations(request(server, "GET", document).json())
            signed_in = sign_in(project, server)
        except BaseException:
            stop(server)  # fuzz() stops it otherwise
            raise
        result, exit_code = fuzz(server, document, variant.app_kind, tmp_path, signed_in)
    # On failure, the server's own log too: a 500's cause is only there.
    summary = result.stdout[-6000:] + result.stderr[-2000:] + server.stderr()[-3000:]
    assert result.returncode == 0, summary
    assert "No issues found" in result.stdout or " passed" in result.stdout, summary
    # Every operation the document publishes was selected and tested: none slipped through.
    assert re.search(rf"Selected: {operations}/{operations}\b", result.stdout), summary
    assert re.search(rf"Tested: {operations}\b", result.stdout), summary
    assert exit_code == 0
    assert "Traceback" not in server.stderr(), server.stderr()[-3000:]


def count_operations(document: dict[str, Any]) -> int:
    """The operations an OpenAPI document publishes: each method of each path."""
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return sum(len(methods & set(item)) for item in document["paths"].values())


def fuzz(
    server: Server,
    document: str,
    app_kind: str,
    tmp_path: Path,
    headers: dict[str, str] | None = None,
) -> tuple[Any, int]:
    """schemathesis against the running server (sending `headers` with every request, a
    signed-in user's token), then the server stopped: (result, exit)."""
    try:
        result = run(
            [
                *schemathesis_command(),
                "run",
                server.url + document,
                "--checks",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                EXAMPLES,
                *([] if SEED == "random" else ["--seed", SEED]),
                "--workers",
                "2",
                "--request-timeout",
                "10",
                "--generation-database",
                "none",
                "--no-color",
                *[f"--header={name}: {value}" for name, value in (headers or {}).items()],
            ],
            cwd=tmp_path,
            env=clean_env(
                {
                    "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
                    "NEWAPP_APP_KIND": app_kind,
                    "PYTHONPATH": str(TESTS),
                    "NO_COLOR": "1",
                }
            ),
            timeout=600,
        )
    finally:
        exit_code = stop(server)
    return result, exit_code
