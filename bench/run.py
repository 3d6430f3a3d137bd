"""The one command: set up, measure start-up, rendering and servers, write RESULTS.md + chart.

python bench/run.py            # the full run (about 20 minutes on 2 cores)
python bench/run.py --parts servers,slowio   # just the servers (about 18 min)
python bench/run.py --quick    # a short smoke run of every part
python bench/run.py --parts database --rounds 3   # the database layer only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import database
import envs  # after the path is set, so `python bench/run.py` works from anywhere
import render
import report
import servers
import slowio
import startup
from common import WORK
from load import Load

PARTS = ("startup", "render", "servers", "slowio", "database")
RESULTS = WORK / "results.json"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few short rounds: a smoke run")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset to run")
    parser.add_argument("--rounds", type=int, help="server rounds (default 10, quick 2)")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default 3, quick 1)")
    parser.add_argument("--frameworks", default="flask,fastapi", help="servers of these only")
    parser.add_argument("--skip-setup", action="store_true", help="reuse bench/.work's venvs")
    parser.add_argument(
        "--db-variants",
        default=",".join(database.VARIANTS),
        help="database part: these project variants only",
    )
    parser.add_argument(
        "--db-templates",
        default="",
        help="database part: render from other checkouts' HEAD, e.g. flask=../wt-flask,"
        "fastapi=../wt-fastapi (default: this repository's template)",
    )
    return parser.parse_args(argv)


def setup(skip: bool) -> dict[str, envs.Project]:
    """wrk, the plain template copy, the tools venv and both rendered, installed projects."""
    envs.ensure_apt("wrk")
    envs.copy_template()
    projects = {}
    for framework in ("flask", "fastapi"):
        name = f"bench_{framework}"
        path, venv = WORK / f"project-{framework}", WORK / f"venv-{framework}"
        if skip and venv.exists():
            projects[framework] = envs.Project(framework, name, path, venv)
        else:
            print(f"rendering and installing the {framework} project", flush=True)
            projects[framework] = envs.render_project(framework)
    if not (skip and envs.TOOLS.exists()):
        envs.setup_tools()
    return projects


def with_load(measure: Any, *args: Any) -> dict[str, Any]:
    """Run one part; record when, how long, and the 1-minute load average before and after."""
    before, started = os.getloadavg()[0], time.monotonic()
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result: dict[str, Any] = measure(*args)
    minutes = (time.monotonic() - started) / 60
    return result | {"loadavg": [before, os.getloadavg()[0]], "date": date, "minutes": minutes}


def load_previous() -> dict[str, Any]:
    """Earlier results, so a run of some parts keeps the others."""
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    parts = [p for p in args.parts.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"unknown part(s): {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    started = time.monotonic()
    projects = setup(args.skip_setup)
    results = load_previous()
    if parts or "meta" not in results:  # `--parts=` only rewrites the report
        results["meta"] = report.meta(projects, quick=args.quick)
    if "startup" in parts:
        print("part 1: start-up", flush=True)
        results["startup"] = with_load(startup.measure, 3 if args.quick else 20)
    if "render" in parts:
        print("part 2: rendering", flush=True)
        results["render"] = with_load(render.measure, 2 if args.quick else 12)
    if "servers" in parts:
        load = Load(seconds=args.seconds or (1 if args.quick else 3))
        rounds = args.rounds or (2 if args.quick else 10)
        results["servers"] = {"load": vars(load), "rounds": rounds} | {
            f: results.get("servers", {})[f]
            for f in projects
            if f not in args.frameworks.split(",") and f in results.get("servers", {})
        }
        for framework in args.frameworks.split(","):
            print(f"part 3+4: {framework} servers", flush=True)
            measure = servers.measure_framework
            results["servers"][framework] = with_load(measure, projects[framework], load, rounds)
    if "slowio" in parts:
        print("part 5: Flask under slow I/O", flush=True)
        seconds = args.seconds or (1 if args.quick else 3)
        rounds = 1 if args.quick else 5
        results["slowio"] = with_load(slowio.measure, projects["flask"], rounds, seconds)
    if "database" in parts:
        print("part 6: the database layer", flush=True)
        variants = [v for v in args.db_variants.split(",") if v]
        templates = dict(pair.split("=", 1) for pair in args.db_templates.split(",") if pair)
        sources = database.describe(templates)  # the commits that setup() is about to copy
        db_projects = database.setup(variants, templates, args.skip_setup)
        rounds = args.rounds or (1 if args.quick else 5)
        seconds = args.seconds or (1 if args.quick else 3)
        earlier = results.get("database", {})
        results["database"] = with_load(database.measure, db_projects, rounds, seconds)
        results["database"]["templates"] = sources
        database.keep_others(results["database"], earlier, variants)
    RESULTS.write_text(json.dumps(results, indent=2))
    report.write(results)
    print(
        f"done in {(time.monotonic() - started) / 60:.1f} min: bench/RESULTS.md, bench/results.png"
    )


if __name__ == "__main__":
    main()
