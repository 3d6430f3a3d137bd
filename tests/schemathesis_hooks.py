"""schemathesis hooks for the contract tests: checks the generated projects promise beyond
their OpenAPI documents, and a guard for the fuzzer itself (loaded by
`SCHEMATHESIS_HOOKS=schemathesis_hooks`)."""

from __future__ import annotations

import ast
import os
import threading
from typing import Any

import schemathesis

# CPython 3.11 keeps one AST recursion counter per interpreter: two threads parsing at once
# (schemathesis' --workers 2, each asking hypothesis to describe a filter lambda, which it
# does with ast.parse) can fail with "SystemError: AST constructor recursion depth
# mismatch" (python/cpython#106905), a crash of the fuzzer, not a finding. One parse at a time.
_PARSING = threading.RLock()
_parse = ast.parse


def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _PARSING:
        return _parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time

# What every response of a generated project carries, errors included (its README says so);
# the Referrer-Policy depends on the app kind, which the test passes in NEWAPP_APP_KIND.
REFERRER_POLICY = {"api": "no-referrer", "web": "strict-origin-when-cross-origin"}
SECURITY_HEADERS = {
    "x-content-type-options": {"nosniff"},
    "x-frame-options": {"DENY"},
    "referrer-policy": {REFERRER_POLICY[os.environ.get("NEWAPP_APP_KIND", "api")]},
    "permissions-policy": {"camera=(), microphone=(), geolocation=(), payment=(), usb=()"},
}


@schemathesis.check
def security_headers(ctx: Any, response: Any, case: Any) -> None:
    """Every response carries the security headers, with the values the projects set."""
    headers = {name.lower(): values for name, values in response.headers.items()}
    for name, allowed in SECURITY_HEADERS.items():
        values = headers.get(name) or []
        assert values and values[0] in allowed, (
            f"{name} is {values or 'missing'} on a {response.status_code} answer "
            f"(expected one of {sorted(allowed)})"
        )
