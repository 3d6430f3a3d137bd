"""Helpers for end-to-end tests: render projects, make uv virtualenvs, run and stop servers."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# Variables that would leak this test run's settings into the processes it starts.
_LEAKY_PREFIXES = ("PYTEST_", "PYTHON", "COV_CORE_", "FLASK_", "UVICORN_", "GUNICORN_")
_LEAKY_NAMES = {
    "VIRTUAL_ENV",
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "ACCESS_LOG",
    "FORWARDED_ALLOW_IPS",
    "DOCS_ENABLED",
    "MAX_CONTENT_LENGTH",
    "CONDA_PREFIX",
}


def render(dst: Path, answers: Mapping[str, Any], template: Path) -> Path:
    """Render `template` (tests pass conftest's `template_copy`) with `answers` (the rest
    defaulted) into `dst`, as newapp does."""
    import copier  # imported here: copier is slow to import and only some tests render

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DirtyLocalWarning while the templates are being edited
        # vcs_ref HEAD: in a git checkout copier would otherwise render the latest tag.
        copier.run_copy(
            str(template),
            dst,
            data=dict(answers),
            defaults=True,
            vcs_ref="HEAD",
            quiet=True,
            unsafe=False,
        )
    return dst


_COMPILED: dict[tuple[Any, ...], Any] = {}


@contextlib.contextmanager
def jinja_compiles_once() -> Iterator[None]:
    """Keep the code Jinja compiles a template source to, across renders in this process.

    copier makes a new Jinja environment for every render, so each of the hundreds of renders
    in a run (newapp's, copier's, pytest-copie's) compiled the same sources again: two thirds
    of a render's time. The key holds
    everything the compiled code depends on (the source, its names, the environment's syntax
    and extensions), so a render's output is what it would be without this.
    """
    from jinja2 import Environment

    compile_uncached = Environment.compile

    def compile_cached(
        env: Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str):  # an already parsed node tree: nothing to key on
            return compile_uncached(env, source, name, filename, raw, defer_init)
        key = (source, name, filename, raw, defer_init, *_syntax(env))
        if key not in _COMPILED:
            _COMPILED[key] = compile_uncached(env, source, name, filename, raw, defer_init)
        return _COMPILED[key]

    Environment.compile = compile_cached  # type: ignore[method-assign]
    try:
        yield
    finally:
        Environment.compile = compile_uncached  # type: ignore[method-assign]


@contextlib.contextmanager
def git_index_synced_only_in_git() -> Iterator[None]:
    """Skip copier's git call for each file it writes where git has no index to change.

    copier (9.19) asks git, for every file it writes, whether the destination's index should
    get the file's executable bit (only inside a repository with core.fileMode=false). Outside
    a git work tree the answer is always "nothing to do", yet each file cost a git process:
    12,000 of them in the quick profile. Inside one, copier's own method runs as before.
    """
    from copier._main import Worker

    sync = Worker._sync_git_index_executable_bit

    def sync_in_git(worker: Worker, dst_relpath: Path, src_mode: int) -> None:
        root = Path(worker.subproject.local_abspath).resolve()
        if os.environ.get("GIT_DIR") or any(
            (folder / ".git").exists() for folder in (root, *root.parents)
        ):
            sync(worker, dst_relpath, src_mode)

    Worker._sync_git_index_executable_bit = sync_in_git  # type: ignore[method-assign]
    try:
        yield
    finally:
        Worker._sync_git_index_executable_bit = sync  # type: ignore[method-assign]


def _syntax(env: Any) -> tuple[Any, ...]:
    """What, besides the source, decides the code Jinja compiles in this environment."""
    return (
        type(env),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        tuple(sorted(env.extensions)),
        env.optimized,
        env.is_async,
        env.finalize is not None,
        env.autoescape if isinstance(env.autoescape, bool) else repr(env.autoescape),
    )


def clean_env(
    extra: Mapping[str, str] | None = None, venv_python: Path | None = None
) -> dict[str, str]:
    """This process's environment without settings that could leak into a child, plus `extra`;
    with `venv_python`, that virtualenv's bin folder comes first on PATH."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_LEAKY_PREFIXES) and name not in _LEAKY_NAMES
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"  # only interpreters already on this machine
    if venv_python is not None:
        env["PATH"] = os.pathsep.join([str(venv_python.parent), env.get("PATH", "")])
        env["VIRTUAL_ENV"] = str(venv_python.parent.parent)
    env.update(extra or {})
    return env


def run(
    argv: Sequence[str | Path],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion with its output captured; never waits past `timeout`."""
    return subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=dict(env or clean_env()),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_ok(
    argv: Sequence[str | Path],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> str:
    """Run a command that must succeed; on failure raise with its whole output. Returns stdout."""
    result = run(argv, cwd, env, timeout)
    if result.returncode != 0:
        shown = " ".join(str(arg) for arg in argv)
        raise AssertionError(
            f"`{shown}` exited {result.returncode}\n--- stdout\n{result.stdout}"
            f"\n--- stderr\n{result.stderr}"
        )
    return result.stdout


# --- Answer combinations ----------------------------------------------------------------------

FACTORS = ("high_concurrency", "async_ok", "auto_docs", "type_validation", "needs_extensions")
DATABASES = ("none", "sqlite", "postgresql")

# The answers that change a project's code (everything but README.md and the answers file);
# the others only change the README's "Why" section. Flask serves docs when auto_docs is yes,
# and validates with pydantic when either auto_docs or type_validation is; FastAPI's database
# layer is async or not by async_ok, which changes nothing without a database.
CODE_KEYS = {
    "flask": ("app_kind", "high_concurrency", "auto_docs", "openapi", "database"),
    "fastapi": ("app_kind", "high_concurrency", "auto_docs", "database", "async_db"),
}


def combinations(framework: str, databases: Iterable[str] = DATABASES) -> list[dict[str, Any]]:
    """Every answer set for one framework: 64 per database."""
    return [
        {
            "framework": framework,
            "database": database,
            "app_kind": kind,
            **dict(zip(FACTORS, values, strict=True)),
        }
        for database in databases
        for kind in ("api", "web")
        for values in itertools.product([False, True], repeat=len(FACTORS))
    ]


def code_signature(answers: dict[str, Any]) -> tuple[Any, ...]:
    """The values of the answers that decide a project's code."""
    derived = {
        **answers,
        "openapi": answers["auto_docs"] or answers["type_validation"],
        "async_db": answers["async_ok"] if answers["database"] != "none" else None,
    }
    return tuple(derived[key] for key in CODE_KEYS[answers["framework"]])


def distinct(framework: str, databases: Iterable[str] = DATABASES) -> list[dict[str, Any]]:
    """One answer set per distinct project code: the first combination of each signature."""
    firsts: dict[tuple[Any, ...], dict[str, Any]] = {}
    for answers in combinations(framework, databases):
        firsts.setdefault(code_signature(answers), answers)
    return list(firsts.values())


# --- Pythons and virtualenvs -------------------------------------------------------------------


def uv_executable() -> str:
    """The uv binary: the one the `uv` package installed, else the first on PATH."""
    with contextlib.suppress(ImportError, FileNotFoundError):
        import uv

        return str(uv.find_uv_bin())
    found = shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is not installed; install newapp's test extra")
    return found


# Debian builds its Pythons with profile-guided optimisation and LTO; pyenv's default builds
# have neither, and a generated project's tests, servers and commands took 12-30 % more CPU
# on pyenv's 3.11.7 than on Debian's 3.11.2, measured side by side.
DISTRIBUTION_PYTHONS = Path("/usr/bin")


def find_python(version: str) -> Path | None:
    """An interpreter for `version` ("3.12"): the distribution's build if there is one, else
    this one if it matches, else pyenv's newest patch release, else `python3.12` on PATH;
    None when there is none."""
    distribution = DISTRIBUTION_PYTHONS / f"python{version}"
    if distribution.exists():
        return distribution
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return Path(sys.executable)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")
    patches = sorted(
        (int(match.group(1)), path)
        for path in (root.iterdir() if root.is_dir() else [])
        if (match := pattern.match(path.name))
    )
    for _, path in reversed(patches):
        candidate = path / "bin" / f"python{version}"
        if candidate.exists():
            return candidate
    found = shutil.which(f"python{version}")
    return Path(found) if found else None


def make_venv(path: Path, python: str | Path | None = None) -> Path:
    """Create a fresh virtualenv at `path` with uv; returns its Python."""
    argv: list[str | Path] = [uv_executable(), "venv", "--quiet", "--no-project", path]
    if python is not None:
        argv += ["--python", python]
    run_ok(argv, timeout=120)
    if _VENV_REGISTRY is not None:
        with _VENV_REGISTRY.open("a") as registry:  # one short line: appends do not interleave
            registry.write(f"{path}\n")
    return path / "bin" / "python"


def install(
    venv_python: Path,
    project: Path,
    extras: Iterable[str] = ("dev",),
    editable: bool = True,
    deps: bool = True,
) -> None:
    """Install `project` with `extras` into the virtualenv of `venv_python`, with uv (which
    reuses its download cache across virtualenvs); `deps=False` when they are there already."""
    extras = list(extras)
    target = f"{project}[{','.join(extras)}]" if extras else str(project)
    argv: list[str | Path] = [uv_executable(), "pip", "install", "--quiet", "--python", venv_python]
    argv += [] if deps else ["--no-deps"]
    argv += ["--editable", target] if editable else [target]
    run_ok(argv, env=clean_env(), timeout=600)
    if deps:
        borrow_bytecode(venv_python)


def install_packages(venv_python: Path, requirements: Iterable[str]) -> None:
    """Install packages (requirement strings) into the virtualenv of `venv_python`."""
    run_ok(
        [uv_executable(), "pip", "install", "--quiet", "--python", venv_python, *requirements],
        env=clean_env(),
        timeout=600,
    )
    borrow_bytecode(venv_python)


# The run's list of the virtualenvs it made (make_venv), set by conftest.py: see borrow_bytecode.
_VENV_REGISTRY: Path | None = None


def share_bytecode_through(registry: Path) -> None:
    """Record every virtualenv this process makes in `registry` (a file the run's workers
    share), for borrow_bytecode to find."""
    global _VENV_REGISTRY
    _VENV_REGISTRY = registry


def borrow_bytecode(venv_python: Path) -> int:
    """Link into this virtualenv the .pyc files the run's other virtualenvs have compiled for
    the very same files; returns how many.

    Every fresh virtualenv otherwise compiles FastAPI, pydantic, SQLAlchemy, pytest... again at
    its first import: about 2.7 s of CPU a virtualenv. uv hard-links a package's files from its
    cache into every virtualenv, so a source with the same inode is the same file, with the
    size and modification time Python checks before it trusts a .pyc: a borrowed .pyc is the
    one this virtualenv would have compiled. Where uv copied instead, nothing is borrowed.
    Python replaces a stale .pyc by renaming a new file over it, never writing through a link.
    """
    if _VENV_REGISTRY is None or not _VENV_REGISTRY.is_file():
        return 0
    own = _site_packages(venv_python.parent.parent)
    if own is None:
        return 0
    donors = []
    for line in _VENV_REGISTRY.read_text().splitlines():
        site = _site_packages(Path(line))
        if site is not None and site != own and site.parent.name == own.parent.name:
            donors.append(site)
    tag = "cpython-" + own.parent.name.removeprefix("python").replace(".", "")
    linked = 0
    for source in own.rglob("*.py"):
        relative = source.relative_to(own)
        compiled = relative.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        identity = _identity(source)
        for donor in donors if identity is not None else ():
            if (donor / compiled).is_file() and _identity(donor / relative) == identity:
                with contextlib.suppress(OSError):  # already there, or another filesystem
                    (own / compiled).parent.mkdir(exist_ok=True)
                    os.link(donor / compiled, own / compiled)
                    linked += 1
                break
    return linked


def _site_packages(venv: Path) -> Path | None:
    """The site-packages folder of the virtualenv at `venv`, if it has one."""
    return next(iter(venv.glob("lib/python3.*/site-packages")), None)


def _identity(path: Path) -> tuple[int, int] | None:
    """The file's device and inode: equal for two hard links to one file."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


# --- Servers -----------------------------------------------------------------------------------


# Each process's servers listen on ports of its own block (xdist's worker gw<N> has the N-th),
# below the kernel's ephemeral range: ports the kernel picks (a bind to port 0, the source port
# of every outgoing connection) come from that range, so one chosen there could be taken by
# another worker's server between the choice and the bind. A fuzz run once read Prometheus'
# "404 page not found" as the project's OpenAPI document that way.
_PORT_BLOCK = 1000
_FIRST_BLOCK = 10_000
_ports: Iterator[int] | None = None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now, from this process's block (in turn, so a
    port a stopped server left is the last to come round again)."""
    global _ports
    if _ports is None:
        _ports = _port_block()
    for port in _ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise AssertionError("unreachable: the ports cycle")


def _port_block() -> Iterator[int]:
    """This process's ports, round and round; any free port where the blocks do not fit."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = _FIRST_BLOCK + _PORT_BLOCK * int(worker) if worker.isdigit() else None
    try:
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768  # Linux's default
    if first is None or first + _PORT_BLOCK > ephemeral:
        return itertools.repeat(0)  # the kernel picks
    # From a random place in the block: two runs at once on one machine rarely meet.
    ports = list(range(first, first + _PORT_BLOCK))
    start = random.randrange(_PORT_BLOCK)
    return itertools.cycle(ports[start:] + ports[:start])


@dataclass
class Server:
    """A server process started by `start_server`, with its output kept in files."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_dir: Path
    exit_code: int | None = field(default=None)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stdout(self) -> str:
        return (self.log_dir / "stdout.log").read_text(errors="replace")

    def stderr(self) -> str:
        return (self.log_dir / "stderr.log").read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None


def start_server(
    argv: Sequence[str | Path],
    env: Mapping[str, str],
    host: str,
    port: int,
    log_dir: Path,
    ready_path: str = "/healthz",
    cwd: Path | None = None,
    timeout: float = 30,
) -> Server:
    """Start a server and return once `ready_path` answers (any status); if it exits or stays
    silent for `timeout` seconds, stop it and raise with its output."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "stdout.log").open("wb") as out, (log_dir / "stderr.log").open("wb") as err:
        # Files, not pipes: a chatty server can never block on a full pipe nobody reads.
        process = subprocess.Popen(
            [str(arg) for arg in argv],
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    server = Server(process, host, port, log_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.running():
            raise AssertionError(
                f"server exited {process.returncode} before answering\n"
                f"--- stdout\n{server.stdout()}\n--- stderr\n{server.stderr()}"
            )
        with contextlib.suppress(OSError):
            request(server, "GET", ready_path, timeout=1)
            return server
        time.sleep(0.1)
    stop(server, timeout=5)
    raise AssertionError(
        f"server did not answer within {timeout} s\n--- stdout\n"
        f"{server.stdout()}\n--- stderr\n{server.stderr()}"
    )


def stop(server: Server, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
    """Send `sig` to the server's PID and wait for it to exit; kill it (by PID) if it is still
    there after `timeout` seconds. Returns its exit status (negative: killed by that signal)."""
    if server.running():
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, sig)
        try:
            server.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(server.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
    server.exit_code = server.process.returncode
    return server.exit_code


def wait_exit(server: Server, timeout: float) -> int | None:
    """Wait up to `timeout` seconds for the server to exit by itself, sending nothing; its exit
    status, or None if it is still running."""
    try:
        server.exit_code = server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return server.exit_code


@contextlib.contextmanager
def running_server(
    argv: Sequence[str | Path],
    env: Mapping[str, str],
    host: str,
    port: int,
    log_dir: Path,
    **options: Any,
) -> Iterator[Server]:
    """`start_server` as a context manager that always stops the server on the way out."""
    server = start_server(argv, env, host, port, log_dir, **options)
    try:
        yield server
    finally:
        stop(server)


# --- HTTP --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """An HTTP response, read whole."""

    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


def request(
    server: Server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5,
) -> Response:
    """One HTTP request to `server` on a new connection, bounded by `timeout` seconds."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        # A server may answer (a 413) and close before the whole body is sent, as HTTP allows:
        # its answer is still there to read, as curl would.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(method, path, body=body, headers=dict(headers or {}))
        answer = connection.getresponse()
        return Response(
            answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        )
    finally:
        connection.close()


def wait_for(check: Callable[[], Any], seconds: float, every: float = 0.25) -> Any:
    """check()'s first truthy result within `seconds`, else its last result."""
    deadline = time.monotonic() + seconds
    result = check()
    while not result and time.monotonic() < deadline:
        time.sleep(every)
        result = check()
    return result


def counted_requests(server: Server, route: str) -> float:
    """The requests to `route` (its template) that the server's /metrics has counted."""
    exposed = request(server, "GET", "/metrics").body.decode()
    pattern = rf'^http_requests_total\{{[^}}]*route="{re.escape(route)}"[^}}]*\}} (\S+)$'
    return sum(float(n) for n in re.findall(pattern, exposed, re.MULTILINE))


def read_response(sock: socket.socket) -> Response:
    """Read one HTTP/1.1 response from a raw socket (its timeout bounds each read)."""
    answer = http.client.HTTPResponse(sock)
    answer.begin()
    return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
