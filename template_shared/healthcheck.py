"""Container health check: exit 0 if the running server answers GET /healthz with 200."""

import os
import sys
import urllib.request

# A wildcard bind address says where the server listens, not where to reach it.
_LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104


def url() -> str:
    """The /healthz URL of the server started with the same HOST and PORT variables."""
    host = os.environ.get("HOST", "127.0.0.1").strip()
    host = _LOOPBACK.get(host, host)
    if ":" in host:  # an IPv6 address needs brackets in a URL
        host = f"[{host}]"
    port = os.environ.get("PORT", "{{ port }}").strip()
    return f"http://{host}:{port}/healthz"


def main() -> int:
    """Return the exit status Docker's HEALTHCHECK expects: 0 healthy, 1 unhealthy."""
    # No proxy: HTTP(S)_PROXY set in the container must not reroute a call to ourselves.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url(), timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {url()}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
