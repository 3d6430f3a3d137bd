"""What sign-in costs (issues 22 and 19): an Argon2 verify per sign-in, a token check per
request; writes section 9 of RESULTS.md.

    python bench/signin.py                     # both frameworks, 6 rounds: about 8 minutes
    python bench/signin.py --rounds 3 --frameworks fastapi

Each framework's main project (newapp create --yes, SQLite) is rendered from this checkout
twice, with sign-in (the default for an API with a database) and with --no-auth, each installed
in its own venv under bench/.work/ and migrated; the signed-in one gets a user from its own
`create-user`. Both servers run at once on 127.0.0.1, 2 workers each, access log off, and get
ITEMS items (the signed-in one's owned by its user). Each round, in an order that rotates,
gives both servers a wrk run of GET /hello and of GET /items/{id} (the signed-in server's with
the user's bearer token), then the signed-in one POST /auth/token (the password form) at two
connections (one per worker: a sign-in is CPU-bound) and at one (the time one sign-in takes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import envs
from common import HOST, WORK, Group, load_average, median, run
from database import DbLoad
from load import wait_ready
from ops import ITEMS, one_run, seed, server_env, write_section

HEADING = "## 9. Sign-in: a sign-in, and a token on every request (issues 22 and 19)"
RAW = WORK / "signin.json"
EMAIL, PASSWORD = "bench@example.com", "bench-only-passphrase"
SERVERS = ("open", "signed")  # --no-auth, and the default with sign-in
PATHS = ("hello", "get")
PORTS = {"flask": 18700, "fastapi": 18710}
# Flask signs its tokens with SECRET_KEY, which sign-in wants 32 bytes long at least.
SECRET = {"FLASK_SECRET_KEY": "bench-only secret, thirty-two bytes or more"}


@dataclass(frozen=True)
class TokenLoad(DbLoad):
    """items.lua's get or hello, with a bearer token on the items requests when given."""

    token: str = ""

    def argv(self, port: int, seconds: int | None = None) -> list[str]:
        return [*super().argv(port, seconds), *([self.token] if self.token else [])]


@dataclass(frozen=True)
class SignInLoad(DbLoad):
    """items.lua's signin mode: POST /auth/token with the bench user's form, again and again."""

    def argv(self, port: int, seconds: int | None = None) -> list[str]:
        head = super().argv(port, seconds)
        form = [urllib.parse.quote(EMAIL), urllib.parse.quote(PASSWORD)]
        return [*head[: head.index("--") + 1], "signin", *form]


def setup(framework: str, server: str) -> envs.Project:
    """The main project, with or without sign-in, rendered and installed in bench/.work/."""
    template = envs.copy_template()
    name = f"signin-{framework}-{server}"
    path = WORK / f"{name}-project"
    shutil.rmtree(path, ignore_errors=True)
    cmd = [envs.bin_of("newapp"), "create", "--yes", "--framework", framework, "--name", name]
    cmd += ["--no-auth"] if server == "open" else ["--auth"]
    env = {**envs.template_env(), "NEWAPP_TEMPLATE_DIR": str(template)}
    run([*cmd, *envs.AUTHOR, str(path)], env=env)
    project = envs.Project(framework, name.replace("-", "_"), path, WORK / f"{name}-venv")
    envs.new_venv(project.venv, [str(path)])
    return project


def create_user(project: envs.Project, env: dict[str, str], cwd: Path) -> None:
    """The project's own `create-user`, the password on stdin."""
    subprocess.run(
        [project.python, "-m", project.package, "create-user", EMAIL],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=True,
    )


def token(port: int) -> str:
    form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"http://{HOST}:{port}/auth/token", form, timeout=30) as answer:
        issued: str = json.load(answer)["access_token"]
    return issued


def start(framework: str, folder: Path) -> dict[str, tuple[Group, int, str]]:
    """Both servers, migrated, seeded and answering: (group, port, bearer token or "")."""
    started: dict[str, tuple[Group, int, str]] = {}
    for offset, server in enumerate(SERVERS):
        project = setup(framework, server)
        port = PORTS[framework] + offset
        env = server_env(project, port, folder / f"{server}.db", SECRET)
        run([project.python, "-m", project.package, "migrate"], env=env, cwd=folder)
        if server == "signed":
            create_user(project, env, folder)
        argv = [project.python, "-m", project.package]
        group = Group.start(f"{framework}-{server}", argv, env, folder / f"{server}.log", folder)
        started[server] = (group, port, "")
        wait_ready(group, port, timeout=120)
        bearer = token(port) if server == "signed" else ""
        seed(port, {"Authorization": f"Bearer {bearer}"} if bearer else {})
        started[server] = (group, port, bearer)
    return started


def measure(framework: str, rounds: int, seconds: int) -> dict[str, Any]:
    folder = WORK / f"signin-db-{framework}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started: dict[str, tuple[Group, int, str]] = {}
    samples: dict[str, list[dict[str, float]]] = {}
    try:
        started = start(framework, folder)
        for number in range(rounds):
            order = SERVERS[number % 2 :] + SERVERS[: number % 2]
            for path in PATHS:
                for server in order:
                    group, port, bearer = started[server]
                    load = TokenLoad(seconds=seconds, mode=path, high=ITEMS, token=bearer)
                    samples.setdefault(f"{server}-{path}", []).append(
                        one_run(group, port, load, seconds)
                    )
            group, port, _ = started["signed"]
            for connections in (2, 1):
                signing = SignInLoad(threads=1, connections=connections, seconds=seconds)
                samples.setdefault(f"signin-c{connections}", []).append(
                    one_run(group, port, signing, seconds)
                )
            print(f"{framework}: round {number + 1}/{rounds} done", flush=True)
    finally:
        for group, _, _ in started.values():
            group.stop()
    return {"samples": samples}


def ratio(samples: dict[str, list[dict[str, float]]], key: str, a: str, b: str) -> float:
    """The median over rounds of `a`'s figure `key` divided by `b`'s, in the same round."""
    return median([x[key] / y[key] for x, y in zip(samples[a], samples[b], strict=True)])


def section(results: dict[str, Any], rounds: int, seconds: int, load: str) -> list[str]:
    lines = [
        HEADING,
        "",
        f"Measured by `python bench/signin.py --rounds {rounds}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load}. Each "
        "framework's main project (SQLite, 2 workers, access log off) made twice, `open` "
        "(`--no-auth`) and `signed` (sign-in, the default), running side by side; "
        f"`wrk -t2 -c64 -d{seconds}s` per server and path per round, `GET /items/{{id}}` "
        f"reading one of {ITEMS} seeded items at random, the signed server's with a bearer "
        "token. CPU per request: the server's user + system CPU over a run divided by the "
        "requests it answered (from /proc), steadier than requests/s on a shared machine. The "
        "target (issue 22): a signed-in read within 15 % of an open one.",
        "",
        "| framework | read CPU/request open | signed | signed / open | read req/s open / "
        "signed | hello CPU signed / open | one sign-in (p50, 1 connection) | sign-ins/s per "
        "worker (2 connections) | CPU per sign-in | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for framework, result in results.items():
        s = result["samples"]
        cpu = {key: median([r["cpu_us"] for r in runs]) for key, runs in s.items()}
        rps = {key: median([r["rps"] for r in runs]) for key, runs in s.items()}
        p50 = median([r["p50_ms"] for r in s["signin-c1"]])
        errors = int(sum(r["errors"] for runs in s.values() for r in runs))
        lines.append(
            f"| {framework} | {cpu['open-get']:.0f} us | {cpu['signed-get']:.0f} us | "
            f"{ratio(s, 'cpu_us', 'signed-get', 'open-get'):.2f}x | "
            f"{rps['open-get']:.0f} / {rps['signed-get']:.0f} | "
            f"{ratio(s, 'cpu_us', 'signed-hello', 'open-hello'):.2f}x | {p50:.0f} ms | "
            f"{rps['signin-c2'] / 2:.1f} | {cpu['signin-c2'] / 1000:.0f} ms | {errors} |"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--frameworks", default="flask,fastapi")
    args = parser.parse_args()
    envs.ensure_apt("wrk")
    load = load_average()
    results = {f: measure(f, args.rounds, args.seconds) for f in args.frameworks.split(",")}
    load = f"{load} at the start, {load_average()} at the end"
    WORK.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps(results, indent=2))
    lines = section(results, args.rounds, args.seconds, load)
    write_section(lines, HEADING)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
