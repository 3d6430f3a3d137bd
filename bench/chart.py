"""Draw bench/results.png from results.json (runs in bench/.work/venv-tools, with matplotlib)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

COLORS = {
    "generated": "#d9480f",
    "naive": "#868e96",
    "ceiling": "#ced4da",
    "alternative": "#4c6ef5",
}
NEWAPP, OTHER = "#d9480f", "#4c6ef5"


def startup(ax: Axes, s: dict[str, Any]) -> None:
    names = list(s["median_ms"])
    values = [s["median_ms"][n] for n in names]
    colors = [NEWAPP if n.startswith("newapp") else OTHER for n in names]
    ax.barh(names, values, color=colors)
    limit = s["median_ms"]["copier --help"] * s["target"]
    ax.axvline(limit, color="black", ls="--", lw=1)
    ax.text(limit, -0.6, " target: 1/3 of copier", fontsize=8, va="bottom")
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.0f} ms", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds, median (lower is better)")
    ax.set_title("1. CLI start-up")
    ax.set_xlim(0, max(values) * 1.25)


def render(ax: Axes, r: dict[str, Any]) -> None:
    frameworks = list(r["ratio"])
    for i, f in enumerate(frameworks):
        new, cop = r["median_ms"][f"newapp {f}"], r["median_ms"][f"copier {f}"]
        ax.bar([i - 0.2], [new], 0.4, color=NEWAPP, label="newapp create --yes" if i == 0 else None)
        ax.bar(
            [i + 0.2], [cop], 0.4, color=OTHER, label="copier copy --defaults" if i == 0 else None
        )
        ax.hlines(cop * r["target"], i - 0.4, i + 0.4, colors="black", linestyles="--", lw=1)
        top = max(new, cop * r["target"])  # above the dashed target line, not across it
        ax.text(
            i - 0.2, top, f"{new:.0f} ms\n{new / cop:.2f}x", ha="center", va="bottom", fontsize=9
        )
        ax.text(i + 0.2, cop, f"{cop:.0f} ms", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(frameworks)), frameworks)
    ax.set_ylabel("milliseconds, median (lower is better)")
    ax.set_title("2. Rendering (dashed: target, copier + 15 %)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_ylim(0, max(r["median_ms"].values()) * 1.45)


def servers(ax: Axes, framework: str, f: dict[str, Any], load: dict[str, Any]) -> None:
    rows = sorted(f["rows"], key=lambda r: r["rps"])
    ax.barh(
        [r["name"] for r in rows],
        [r["rps"] for r in rows],
        color=[COLORS[r["role"]] for r in rows],
        hatch=["//" if r["role"] == "ceiling" else "" for r in rows],
        edgecolor="white",
    )
    for y, r in enumerate(rows):
        label = f" {r['rps']:,.0f} req/s  p99 {r['p99_ms']:.1f} ms  {r['pss_mib']:.0f} MiB"
        ax.text(r["rps"], y, label, va="center", fontsize=8)
    ax.set_xlim(0, max(r["rps"] for r in rows) * 1.75)
    ax.set_xlabel("requests/s, median (higher is better); MiB = PSS of all workers under load")
    title = f"3. {framework}: generated = {f['ratio_to_naive']:.1f}x naive, "
    ax.set_title(title + f"{f['ratio_to_best']:.0%} of best (wrk -c{load['connections']})")


def slowio(ax: Axes, s: dict[str, Any]) -> None:
    rows = s["rows"]
    xs = list(range(len(rows)))
    labels = [
        f"{r['threads']}\n{r['shipped']}" if r["shipped"] else str(r["threads"]) for r in rows
    ]
    colors = [NEWAPP if r["shipped"] else OTHER for r in rows]
    ax.bar(xs, [r["slow"]["rps"] for r in rows], color=colors, width=0.6)
    for x, r in zip(xs, rows, strict=True):
        label = f"{r['slow']['rps']:,.0f}\np99 {r['slow']['p99_ms']:.0f} ms"
        ax.text(x, r["slow"]["rps"], label, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(xs, labels)
    ax.set_xlabel(f"gunicorn threads per worker ({s['workers']} workers)")
    ax.set_ylabel(f"bars: /slow ({s['pause_ms']} ms wait) req/s, -c128")
    ax.set_ylim(0, max(r["slow"]["rps"] for r in rows) * 1.3)
    twin = ax.twinx()
    twin.plot(xs, [r["hello"]["rps"] for r in rows], "k.--", label="/hello req/s, -c64")
    twin.set_ylim(0, max(r["hello"]["rps"] for r in rows) * 1.3)
    twin.set_ylabel("dashed: /hello req/s (fast path)")
    twin.legend(loc="upper left", fontsize=8)
    ax.set_title("5. Flask, slow I/O: more threads, more waiting requests served")


def memory(ax: Axes, s: dict[str, Any]) -> None:
    names, idle, loaded, colors = [], [], [], []
    for framework in ("flask", "fastapi"):
        for r in s.get(framework, {}).get("rows", []):
            if r["role"] in {"generated", "naive"} or r["name"] == s[framework]["best"]:
                names.append(f"{framework}: {r['name']}")
                idle.append(r["idle_pss_mib"])
                loaded.append(r["pss_mib"])
                colors.append(COLORS[r["role"]])
    ys = list(range(len(names)))
    ax.barh([y - 0.2 for y in ys], idle, 0.4, color=colors, alpha=0.5, label="idle")
    ax.barh([y + 0.2 for y in ys], loaded, 0.4, color=colors, label="under load")
    for y, (i, v) in enumerate(zip(idle, loaded, strict=True)):
        ax.text(v, y + 0.2, f" {v:.0f} MiB (idle {i:.0f})", va="center", fontsize=8)
    ax.set_yticks(ys, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(loaded + idle) * 1.4)
    ax.set_xlabel("MiB, PSS summed over all processes (lower is better); pale = idle")
    ax.set_title("4. Memory: generated, naive and the fastest alternative")


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    fig, axes = plt.subplots(3, 2, figsize=(16, 15))
    if "startup" in results:
        startup(axes[0][0], results["startup"])
    if "render" in results:
        render(axes[0][1], results["render"])
    s = results.get("servers", {})
    for ax, framework in zip(axes[1], ("flask", "fastapi"), strict=True):
        if framework in s:
            servers(ax, framework, s[framework], s["load"])
    if "slowio" in results:
        slowio(axes[2][1], results["slowio"])
    if "flask" in s or "fastapi" in s:
        memory(axes[2][0], s)
    m = results["meta"]
    quick = "  (QUICK SMOKE RUN)" if m["quick"] else ""
    fig.suptitle(
        f"newapp benchmarks, {m['date']}, {m['machine']['cores']} cores{quick}\n"
        "orange = newapp / generated project, grey = naive, hatched = framework-less ceiling",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
