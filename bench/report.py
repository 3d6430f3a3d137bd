"""Write bench/RESULTS.md from the results, and have the tools venv draw bench/results.png."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import database
import envs
from common import BENCH, WORK, run

RESULTS_MD = BENCH / "RESULTS.md"
CHART = BENCH / "results.png"
NOTES = BENCH / "recommendations.md"
SHOWN = {
    "flask": ["flask", "werkzeug", "gunicorn", "granian"],
    "fastapi": ["fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools", "granian"],
}


def machine() -> dict[str, str]:
    """CPU, cores, memory, kernel and Python of this machine."""
    cpu = next(
        (
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kib / 1024**2:.0f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def meta(projects: dict[str, envs.Project], *, quick: bool) -> dict[str, Any]:
    """Machine, versions and date of this run."""
    here = envs.versions(sys.executable)
    tools = envs.versions(str(envs.TOOLS / "bin" / "python"))
    soft = {"newapp": here.get("newapp", "?"), "copier": here.get("copier", "?")}
    soft["cookiecutter"] = tools.get("cookiecutter", "?")
    for framework, project in projects.items():
        installed = envs.versions(project.python)
        soft.update({name: installed.get(name, "?") for name in SHOWN[framework]})
    soft["wrk"] = envs.tool_version(["wrk", "--version"]).split(" [")[0]
    soft["matplotlib"] = tools.get("matplotlib", "?")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {"date": now, "quick": quick, "machine": machine(), "versions": soft}


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def loadavg(part: dict[str, Any]) -> str:
    """When a part ran, for how long, and the machine's 1-minute load average around it
    (2 cores: above ~3 while wrk and a server run, something else ran too)."""
    if "loadavg" not in part:
        return ""
    before, after = part["loadavg"]
    when = f"Measured {part['date']} in {part['minutes']:.1f} min. " if "date" in part else ""
    return f"{when}Load average (1 min, 2 cores) before / after: {before:.1f} / {after:.1f}."


def met(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def short(command: str) -> str:
    """A command with this checkout's paths made relative."""
    return command.replace(str(WORK), "bench/.work").replace(str(BENCH), "bench")


def section_meta(results: dict[str, Any]) -> list[str]:
    m = results["meta"]
    lines = ["# Benchmark results", ""]
    lines += [f"Written by `python bench/run.py` on {m['date']}; raw numbers in"]
    lines += ["`bench/.work/results.json`, method and contenders in `bench/README.md`.", ""]
    if m["quick"]:
        lines += ["> **Quick smoke run** (`--quick`): too few, too short rounds to trust.", ""]
    lines += ["![results](results.png)", "", "## Machine and versions", ""]
    mach = m["machine"]
    lines += [
        f"{mach['cpu']}, {mach['cores']} cores, {mach['memory']}, Linux {mach['kernel']}, "
        f"Python {mach['python']}; shared and noisy, so every number below is a ratio or a "
        "median of alternating runs within one run.",
        "",
    ]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    return [*lines, versions, ""]


def section_startup(s: dict[str, Any]) -> list[str]:
    base, copier = s["median_ms"]["python -c pass"], s["median_ms"]["copier --help"]
    rows = [
        [f"`{name}`", f"{ms:.1f}", f"{ms / base:.2f}x", f"{ms / copier:.2f}"]
        for name, ms in s["median_ms"].items()
    ]
    ratio = s["ratio_help_to_copier"]
    lines = ["## 1. CLI start-up", ""]
    lines += [f"Median of {s['rounds']} alternating runs each (after 2 warm-up rounds).", ""]
    lines += [loadavg(s), ""]
    lines += table(["command", "median ms", "vs python -c pass", "vs copier --help"], rows)
    lines += ["", f"Target `newapp --help` <= 1/3 of `copier --help`: {ratio:.2f}, "]
    lines[-1] += met(ratio <= s["target"]) + "."
    heavy = ", ".join(f"{name} {ms:.0f} ms" for name, ms in s["importtime"][:8])
    return [
        *lines,
        "",
        f"Heaviest first-level imports of `newapp --help` (-X importtime): {heavy}.",
        "",
    ]


def section_render(r: dict[str, Any]) -> list[str]:
    rows = [[f"`{name}`", f"{ms:.0f}"] for name, ms in r["median_ms"].items()]
    lines = ["## 2. Rendering", ""]
    lines += [
        f"Median of {r['rounds']} alternating runs. Both render a plain, non-git copy of",
        "copier.yml + template_* (`NEWAPP_TEMPLATE_DIR` for newapp, the path for copier), so",
        "neither pays for a git clone; same answers (framework, name, author) for both.",
        "",
    ]
    lines += [loadavg(r), "", *table(["command", "median ms"], rows)]
    lines.append("")
    for framework, ratio in r["ratio"].items():
        same = "same files" if r["same_files"][framework] else "files DIFFER"
        lines.append(
            f"- {framework}: newapp / copier = {ratio:.3f} (target <= {r['target']:.2f}: "
            f"{met(ratio <= r['target'])}); {same}."
        )
    commands = [f"    {short(cmd)}" for cmd in r["commands"].values()]
    return [*lines, "", "Commands (flask shown):", "", *commands, ""]


def section_servers(s: dict[str, Any]) -> list[str]:
    load = s["load"]
    lines = ["## 3. Generated servers: requests/s, p99, errors", ""]
    lines += [
        f"`wrk -t{load['threads']} -c{load['connections']} -d{load['seconds']}s` on "
        f"`http://127.0.0.1:PORT/hello`, {s['rounds']} rounds; in each round every server of",
        "the framework gets one run, in an order that rotates each round; all servers of a",
        "framework are up at once (idle ones cost nothing measurable), started from the",
        "generated project's venv, WEB_CONCURRENCY and ACCESS_LOG unset. Medians over",
        "rounds; errors are totals (connect, read, write, timeout, non-2xx).",
        "",
    ]
    for framework in ("flask", "fastapi"):
        if framework in s:
            lines += framework_table(framework, s[framework])
    lines += ["## 4. Memory: whole process tree, idle and under load", ""]
    lines += ["RSS summed over the tree counts pages that forked workers share once per worker;"]
    lines += ["PSS divides them, so it sums to the real total. Under load: sampled mid-run.", ""]
    for framework in ("flask", "fastapi"):
        if framework in s:
            lines += memory_table(framework, s[framework])
    return lines


def framework_table(framework: str, f: dict[str, Any]) -> list[str]:
    gen = next(r for r in f["rows"] if r["role"] == "generated")
    rows = [
        [
            ("**" + r["name"] + "**") if r["role"] == "generated" else r["name"],
            f"{r['rps']:.0f}",
            f"{r['rps'] / gen['rps']:.2f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['errors']:.0f}",
        ]
        for r in sorted(f["rows"], key=lambda r: -r["rps"])
    ]
    lines = [f"### {framework}", "", loadavg(f), ""]
    lines += table(["server", "req/s", "vs generated", "p50 ms", "p99 ms", "errors"], rows)
    lines += [
        "",
        f"- generated / naive = {f['ratio_to_naive']:.2f}x (target >= {f['target_to_naive']:.0f}x: "
        f"{met(f['ratio_to_naive'] >= f['target_to_naive'])})",
        f"- generated / best ({f['best']}) = {f['ratio_to_best']:.2f} (target >= "
        f"{f['target_to_best']:.2f}: {met(f['ratio_to_best'] >= f['target_to_best'] - 1e-9)})",
        f"- generated / best on {f['shipped_server']} ({f['best_same_server']}) = "
        f"{f['ratio_to_best_same_server']:.2f} (target >= {f['target_to_best']:.2f}: "
        f"{met(f['ratio_to_best_same_server'] >= f['target_to_best'] - 1e-9)})",
        f"- generated / ceiling = {f['ratio_to_ceiling']:.2f} (what the framework and app cost)",
        "",
    ]
    return lines


def memory_table(framework: str, f: dict[str, Any]) -> list[str]:
    rows = [
        [
            r["name"],
            f"{r['idle_rss_mib']:.0f}",
            f"{r['idle_pss_mib']:.0f}",
            f"{r['rss_mib']:.0f}",
            f"{r['pss_mib']:.0f}",
            f"{r.get('shutdown_s', float('nan')):.1f} s, code {r.get('exit_code')}",
        ]
        for r in f["rows"]
    ]
    header = ["server", "idle RSS MiB", "idle PSS", "load RSS", "load PSS", "SIGTERM: exit in"]
    return [f"### {framework}", "", *table(header, rows), ""]


def section_slowio(s: dict[str, Any]) -> list[str]:
    slow, fast = s["loads"]["slow"], s["loads"]["hello"]
    lines = ["## 5. Flask under slow I/O: gunicorn threads per worker", ""]
    lines += [
        f"The generated gunicorn config with `--threads N` (workers as shipped: {s['workers']} "
        "here),",
        "serving the generated app plus `GET /slow`, which sleeps "
        f"{s['pause_ms']} ms like a view waiting on a",
        f"database or an HTTP API (`bench/apps/slow_flask.py`). `wrk -c{slow['connections']}` "
        f"on /slow, `-c{fast['connections']}` on /hello,",
        f"{s['seconds']} s each, {s['rounds']} rounds in a rotating order; medians.",
        "",
        loadavg(s),
        "",
    ]
    rows = [
        [
            f"{r['threads']}" + (f" ({r['shipped']})" if r["shipped"] else ""),
            f"{r['slow']['rps']:.0f}",
            f"{r['slow']['p99_ms']:.0f}",
            f"{r['hello']['rps']:.0f}",
            f"{r['hello']['p99_ms']:.1f}",
            f"{r['slow']['errors'] + r['hello']['errors']:.0f}",
        ]
        for r in s["rows"]
    ]
    header = ["threads per worker", "/slow req/s", "/slow p99 ms", "/hello req/s"]
    lines += table([*header, "/hello p99 ms", "errors"], rows)
    return [*lines, "", f"Command: `{short(s['command'])}`", ""]


def log_notes(log: dict[str, int]) -> str:
    """The server log's counts other than pool timeouts, where not zero."""
    names = {"locked": "database is locked", "too_many_clients": "too many clients"}
    names["tracebacks"] = "tracebacks"
    shown = [f"{names[k]}: {v}" for k, v in log.items() if k in names and v]
    return ", ".join(shown) or "-"


def db_cells(r: dict[str, Any]) -> list[str]:
    """GET and POST req/s and p99; of both: failed requests (socket errors, not 2xx), answers
    slower than wrk's timeout, pool timeouts; other log findings."""
    get, post = r["get"], r["post"]
    slow = get["timeouts"] + post["timeouts"]
    hello = f"{r['hello']['rps']:.0f}" if "hello" in r else "-"
    return [
        hello,
        f"{get['rps']:.0f}",
        f"{get['p99_ms']:.0f}",
        f"{post['rps']:.0f}",
        f"{post['p99_ms']:.0f}",
        f"{get['errors'] + post['errors'] - slow:.0f}",
        f"{slow:.0f}",
        f"{r['log']['pool_timeouts']}",
        log_notes(r["log"]),
    ]


DB_HEADER = ["/hello req/s", "GET req/s", "GET p99 ms", "POST req/s", "POST p99 ms", "failed"]
DB_HEADER += ["> 2 s", "pool timeouts"]


def connections(r: dict[str, Any]) -> str:
    """Connections held mid-run (the peak of GET and POST; PostgreSQL only) / opened per run
    (GET, POST)."""
    peak = max(r["get"]["connections"], r["post"]["connections"])
    opened = [r[n].get("opened", float("nan")) for n in ("get", "post")]
    if peak != peak and all(x != x for x in opened):
        return "-"
    held = "-" if peak != peak else f"{peak:.0f}"
    return f"{held} / " + ", ".join("?" if x != x else f"{x:.0f}" for x in opened)


def section_database(d: dict[str, Any]) -> list[str]:
    load = d["load"]["get"]
    groups = d["groups"]
    lines = ["## 6. The database layer: GET /items/{id} and POST /items", ""]
    lines += [
        f"`wrk -t{load['threads']} -c{load['connections']} -d{d['seconds']}s "
        f"--timeout {load['timeout']}s -s bench/items.lua`: `GET /items/{{random seeded id}}` and "
        "`POST /items` with a JSON body, on projects rendered with `--database sqlite` or",
        "`--database postgresql`, installed, migrated by `python -m <pkg> migrate` and seeded "
        f"with {d['seed']} items. {d['rounds']} rounds; in each, every server of a group (one "
        "variant x database) gets one GET and one POST run, in an order that rotates each "
        "round; each server on its own copy of the seeded database. Medians of req/s and p99; "
        "counts are totals over GET and POST: failed (socket errors, responses not 2xx, counted "
        f"by the lua script), > {load['timeout']} s (no answer within wrk's timeout: a latency, "
        "not a failure of the server), pool timeouts (SQLAlchemy's `QueuePool limit of size ... "
        "reached, connection timed out` in the server's log; its pool_timeout is 30 s), and "
        "other failures the log shows.",
        "",
        f"SQLite {d['sqlite']}; PostgreSQL {d['postgresql']}, a throwaway cluster on 127.0.0.1 "
        "started and removed by the run (fsync on, max_connections "
        f"{d['postgresql_max_connections']} "
        "so that a group's servers fit at once). Connections held: the most a server held "
        "mid-run (pg_stat_activity), against PostgreSQL's default limit of 100; opened: the "
        "new connections per GET and per POST run (pg_stat_database.sessions; for SQLite the "
        "server's sqlite3.connect calls, counted by `bench/apps/connects/sitecustomize.py`; "
        "median), where a pool that closes its overflow and opens it again shows. /hello: the "
        "same server's `GET /hello` in the same rounds; GET and POST are given as ratios to it "
        "(targets of issue 19: GET at least 0.40x, POST at least 0.15x).",
        "",
    ]
    runs = sorted({g.get("run", "?") for g in groups.values()})
    if len(runs) > 1:
        lines += [
            f"Groups from the runs of {', '.join(runs)} (a run of some variants keeps the others'"
            " groups; each has its own date in results.json).",
            "",
        ]
    if d.get("templates"):
        sources = "; ".join(f"{k}: `{short(v)}`" for k, v in d["templates"].items())
        lines += [f"Templates rendered from {sources}.", ""]
    lines += [loadavg(d), ""]
    versions = next(iter(groups.values()))["versions"] if groups else {}
    for g in groups.values():
        versions = versions | g["versions"]
    lines += [", ".join(f"{k} {v}" for k, v in sorted(versions.items())), ""]
    for kind in ("sqlite", "postgresql"):
        chosen = [g for g in groups.values() if g["database"] == kind]
        if not chosen:
            continue
        lines += [f"### {'SQLite' if kind == 'sqlite' else 'PostgreSQL'}", ""]
        rows = []
        for g in chosen:
            for r in g["rows"]:
                if r["role"] in {"generated", "naive"}:
                    name = f"**{r['name']}**" if r["role"] == "generated" else r["name"]
                    rows.append([g["label"], name, *db_cells(r), connections(r)])
        header = ["variant", "server", *DB_HEADER, "other log lines", "connections held / opened"]
        lines += [*table(header, rows), ""]
        for g in chosen:
            ratio = g["ratio_to_naive"]
            lines.append(
                f"- {g['label']}: generated / naive = {ratio['get']:.2f}x on GET, "
                f"{ratio['post']:.2f}x on POST"
            )
            for name, of_hello in g.get("ratio_to_hello", {}).items():
                if name.startswith(("generated", "naive")):
                    lines.append(
                        f"- {g['label']}, {name}: GET {of_hello['get']:.2f}x of /hello, "
                        f"POST {of_hello['post']:.2f}x"
                    )
        lines.append("")
    lines += db_cpu(groups)
    lines += db_pools(d)
    lines += ["Commands (run in bench/.work/db/<group>/, DATABASE_URL, HOST and PORT set):", ""]
    shown = {g["variant"]: g for g in groups.values()}  # one group per variant: the last
    for g in shown.values():
        for r in g["rows"]:
            if r["role"] != "pool":
                lines.append(f"- {g['label']}, {r['name']}: `{short(r['command'])}`")
    return [*lines, ""]


def db_cpu(groups: dict[str, Any]) -> list[str]:
    """CPU time per request of each generated server (and its PostgreSQL backends), and GET's
    and POST's as multiples of /hello's: what the database route costs the machine, which the
    other programs on it change far less than requests/s."""
    rows = []
    for g in groups.values():
        for r in g["rows"]:
            if r["role"] != "generated" or "app_cpu_us" not in r["get"]:
                continue
            cpu = {n: r[n]["app_cpu_us"] for n in ("hello", "get", "post")}
            db = {n: r[n]["db_cpu_us"] for n in ("get", "post")}
            rows.append(
                [
                    g["label"],
                    "SQLite" if g["database"] == "sqlite" else "PostgreSQL",
                    *(f"{cpu[n]:.0f}" for n in ("hello", "get", "post")),
                    f"{cpu['get'] / cpu['hello']:.1f}x",
                    f"{cpu['post'] / cpu['hello']:.1f}x",
                    *("-" if db[n] != db[n] else f"{db[n]:.0f}" for n in ("get", "post")),
                ]
            )
    if not rows:
        return []
    header = ["variant", "database", "/hello", "GET", "POST", "GET / hello", "POST / hello"]
    header += ["database GET", "database POST"]
    return [
        "### CPU time per request (µs; generated servers, medians over rounds)",
        "",
        "The server's processes' user + system CPU time during a run over the requests it "
        "answered (/proc/<pid>/stat), and the same for the PostgreSQL backends serving its "
        "database: unlike requests/s, barely moved by what else runs on the machine.",
        "",
        *table(header, rows),
        "",
    ]


def db_pools(d: dict[str, Any]) -> list[str]:
    """The pool sizes tried on PostgreSQL, and the one the numbers choose."""
    groups = [g for g in d["groups"].values() if g["database"] == "postgresql"]
    if not groups:
        return []
    pools = {g["variant"]: database.choose_pool(g) for g in groups}
    lines = ["### Pool sizes on PostgreSQL (DB_POOL_SIZE)", ""]
    lines += [
        "The generated server with its default pool and with other DB_POOL_SIZE values "
        "(per worker process; the overflow stays as the template sets it), same 64 "
        "connections. Chosen: the smallest size with no pool timeout and no failed request whose "
        "score (the geometric mean of its GET and POST req/s, each relative to the best of its "
        f"variant) is within {1 - d['within_best']:.0%} of the best score.",
        "",
    ]
    rows = []
    for g in groups:
        pool_rows = [r for r in g["rows"] if r["role"] in {"generated", "pool"}]
        for r in sorted(pool_rows, key=lambda r: r["pool_size"] or 0):
            size = f"{r['pool_size']}" + (" (default)" if r["role"] == "generated" else "")
            score = pools[g["variant"]]["scores"].get(str(r["pool_size"]), float("nan"))
            rows.append([g["label"], size, *db_cells(r)[:-1], connections(r), f"{score:.2f}"])
    header = ["variant", "DB_POOL_SIZE", *DB_HEADER, "connections held / opened", "score"]
    lines += [*table(header, rows), ""]
    for g in groups:
        lines.append(pool_sentence(g["label"], pools[g["variant"]]))
    return [*lines, ""]


def pool_sentence(label: str, p: dict[str, Any]) -> str:
    """One line: the pool size the measurement chose, and how the default compares."""
    if p["chosen"] is None:
        return f"- {label}: every pool size tried had pool timeouts or errors."
    default = p["default"]
    if p["default_fits"] and p["chosen"] == default:
        verdict = "the default is that size: keep it"
    elif p["default_fits"]:
        verdict = f"the default ({default}) also serves within it: keep it or lower it"
    elif p["default_clean"]:
        verdict = f"the default ({default}) has no timeouts but serves less"
    else:
        verdict = f"the default ({default}) had pool timeouts or errors"
    return (
        f"- {label}: DB_POOL_SIZE={p['chosen']} is the smallest of "
        f"{', '.join(map(str, p['sizes']))} that serves as well as the best with 0 pool "
        f"timeouts; {verdict}."
    )


def section_commands(s: dict[str, Any]) -> list[str]:
    lines = [
        "## Server commands",
        "",
        "Run from the rendered project's venv; HOST and PORT set.",
        "",
    ]
    for framework in ("flask", "fastapi"):
        for r in s.get(framework, {}).get("rows", []):
            lines.append(f"- {r['name']}: `{short(r['command'])}`")
    return [*lines, ""]


# The sections each part writes, by how their headings start. A part that is not in the results
# (a run of other parts on a checkout with no earlier bench/.work/results.json) keeps its
# sections as RESULTS.md has them, instead of losing them.
HEADINGS = {
    "startup": ("## 1.",),
    "render": ("## 2.",),
    "servers": ("## 3.", "## 4."),
    "slowio": ("## 5.",),
    "database": ("## 6.",),
    "commands": ("## Server commands",),
    "ops": ("## 8.",),  # written by bench/ops.py alone
}
CHARTED = ("startup", "render", "servers", "slowio")  # what chart.py draws


def earlier_sections() -> dict[str, str]:
    """RESULTS.md's `## ` sections as the file has them now, by heading line."""
    if not RESULTS_MD.exists():
        return {}
    sections: dict[str, list[str]] = {}
    current = None
    for line in RESULTS_MD.read_text().splitlines():
        if line.startswith("## "):
            current = line
            sections[current] = []
        if current is not None:
            sections[current].append(line)
    return {heading: "\n".join(body).strip() for heading, body in sections.items()}


def kept(part: str, earlier: dict[str, str]) -> list[str]:
    """The earlier sections of `part`, verbatim."""
    out = []
    for heading, text in earlier.items():
        if heading.startswith(HEADINGS[part]):
            out += [text, ""]
    return out


def write(results: dict[str, Any]) -> None:
    """RESULTS.md (with recommendations.md's reasons) and the chart. Parts not in the results
    keep their sections from the RESULTS.md there is; the chart is drawn again only when the
    results have a part it shows (else the one there is stays)."""
    earlier = earlier_sections()
    makers = {
        "startup": section_startup,
        "render": section_render,
        "servers": section_servers,
        "slowio": section_slowio,
        "database": section_database,
    }
    lines = section_meta(results)
    carried = [part for part in makers if part not in results and kept(part, earlier)]
    if carried:
        lines += [
            f"Not measured in this run, kept from the RESULTS.md before it: {', '.join(carried)} "
            "(each section gives its own date; the versions above are this run's).",
            "",
        ]
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    for part, make in makers.items():
        lines += make(results[part]) if part in results else kept(part, earlier)
    lines += kept("ops", earlier)
    if "servers" in results:
        lines += section_commands(results["servers"])
    else:
        lines += kept("commands", earlier)
    RESULTS_MD.write_text("\n".join(lines).rstrip() + "\n")
    data = WORK / "results.json"
    data.write_text(json.dumps(results, indent=2))
    if any(part in results for part in CHARTED):
        run([str(envs.TOOLS / "bin" / "python"), str(BENCH / "chart.py"), str(data), str(CHART)])
