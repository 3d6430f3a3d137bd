"""Container health check: exit 0 if the running server answers GET /healthz with 200."""

import ipaddress
import os
import sys
import urllib.request


def url() -> str:
    """The /healthz URL of the server started with the same HOST and PORT variables."""
    host = _reachable(os.environ.get("HOST", "127.0.0.1").strip())
    if ":" in host:  # an IPv6 address needs brackets in a URL
        host = f"[{host}]"
    port = os.environ.get("PORT", "{{ port }}").strip()
    return f"http://{host}:{port}/healthz"


def host_header() -> str:
    """The Host to name: the first of the server's allowed hosts, which it answers whatever
    address the check calls (its public name, once production sets them)."""
    allowed = os.environ.get("{{ 'FLASK_' if framework == 'flask' }}ALLOWED_HOSTS", "").split(",")[0].strip()
    return allowed if allowed and allowed != "*" else "localhost"  # the default's first


def _reachable(host: str) -> str:
    # A wildcard bind address (none, 0.0.0.0 or ::) says where the server listens, not where
    # to reach it: loopback, of the same family, reaches it.
    if not host:
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a host name
    if not address.is_unspecified:
        return host
    return "::1" if address.version == 6 else "127.0.0.1"


def main() -> int:
    """Return the exit status Docker's HEALTHCHECK expects: 0 healthy, 1 unhealthy."""
    # No proxy: HTTP(S)_PROXY set in the container must not reroute a call to ourselves.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        # An http:// URL, from url(): never a file: or other scheme, which S310 and B310 warn of.
        check = urllib.request.Request(url(), headers={"Host": host_header()})  # noqa: S310 # nosec B310
        with opener.open(check, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {url()}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
