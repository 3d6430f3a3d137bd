"""Write template_shared/reasons.jinja, the recommendation's reason texts for the generated README.

The texts live in newapp.recommend; the README template imports this file, so they are written
once. Run `python tests/gen_reasons.py` after changing them (tests/test_recommend.py checks it).
"""

from __future__ import annotations

import json
from pathlib import Path

from newapp.recommend import FACTORS, Reason, recommend
from newapp.stack import auth_stack, database_stack, open_to_anyone

TARGET = Path(__file__).resolve().parents[1] / "template_shared" / "reasons.jinja"


def every_reason() -> list[Reason]:
    """One reason for every answer of every factor (two answer sets cover them all)."""
    yes = {key: True for key in FACTORS} | {"app_kind": "api"}
    no = {key: False for key in FACTORS} | {"app_kind": "web"}
    return [*recommend(yes).reasons, *recommend(no).reasons]


def lookup_key(key: str, answer: object) -> str:
    """How the template finds a reason: "auto_docs=true", "app_kind=web"."""
    return f"{key}={str(answer).lower()}"


def stack_rows() -> list[str]:
    """One row per framework, database and async_ok: the stack in words, and why."""
    rows = []
    for framework in ("flask", "fastapi"):
        for database in ("sqlite", "postgresql"):
            for async_ok in (False, True):
                answers = {"framework": framework, "database": database, "async_ok": async_ok}
                stack = database_stack(answers)
                assert stack is not None
                key = f"{framework}/{database}/{str(async_ok).lower()}"
                rows.append(
                    f"    {json.dumps(key)}: [{json.dumps(str(stack))}, {json.dumps(stack.why)}],"
                )
    return rows


def auth_rows() -> list[str]:
    """One row per framework and app kind: the sign-in stack in words, and why."""
    rows = []
    for framework in ("flask", "fastapi"):
        for app_kind in ("api", "web"):
            answers = {"framework": framework, "app_kind": app_kind, "auth": True}
            stack = auth_stack(answers)
            assert stack is not None
            key = f"{framework}/{app_kind}"
            rows.append(
                f"    {json.dumps(key)}: [{json.dumps(stack.stack)}, {json.dumps(stack.why)}],"
            )
    return rows


def open_rows() -> list[str]:
    """One row per app kind: what anyone can do to a project that keeps data without sign-in."""
    rows = []
    for app_kind in ("api", "web"):
        text = open_to_anyone({"app_kind": app_kind, "auth": False, "database": "sqlite"})
        assert text is not None
        rows.append(f"    {json.dumps(app_kind)}: {json.dumps(text)},")
    return rows


def reasons_jinja() -> str:
    """The file's text: Jinja `set` statements holding FACTORS and every reason."""
    factors = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in FACTORS.items())
    rows = [
        f"    {json.dumps(lookup_key(r.key, r.answer))}: "
        f"[{json.dumps(r.favours)}, {json.dumps(r.why)}],"
        for r in sorted(every_reason(), key=lambda r: lookup_key(r.key, r.answer))
    ]
    return "\n".join(
        [
            "{#- Made from recommend.py and stack.py by `python tests/gen_reasons.py`. -#}",
            f"{{%- set FACTORS = {{{factors}}} -%}}",
            "{%- set REASONS = {",
            *rows,
            "} -%}",
            "{%- set STACKS = {",
            *stack_rows(),
            "} -%}",
            "{%- set AUTH = {",
            *auth_rows(),
            "} -%}",
            "{%- set OPEN = {",
            *open_rows(),
            "} -%}",
            "",
        ]
    )


if __name__ == "__main__":
    TARGET.write_text(reasons_jinja(), encoding="utf-8")
    print(f"wrote {TARGET}")
