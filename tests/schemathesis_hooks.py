"""schemathesis hooks for the contract tests: checks the generated projects promise beyond
their OpenAPI documents (loaded by `SCHEMATHESIS_HOOKS=schemathesis_hooks`)."""

from __future__ import annotations

import os
from typing import Any

import schemathesis

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
