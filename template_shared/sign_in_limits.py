class SignInLimits:
    """Failed sign-ins counted per account and per client address, in the storage a limits
    URL names (memory:// for this process alone, redis://... shared by workers and replicas).

    limits, not slowapi or Flask-Limiter: slowapi's decorators count every request to a route,
    and Flask-Limiter checks its limits in hooks on every request of the app, limited route or
    not (60 us of CPU each, a quarter of a Flask /hello: bench/RESULTS.md, section 9), while
    the contract counts failed sign-ins only (a user who signs in right is never held back),
    in the two views that ask. limits is the library underneath both, kept by Flask-Limiter's
    author, and its moving window counts exactly the last minute.
    """

    def __init__(self, storage_url: str) -> None:
        self.window = MovingWindowRateLimiter(storage_from_string(storage_url))

    def wait(self, *limits: tuple[Any, str, str]) -> int | None:
        """Seconds until the first exhausted limit frees up, or None when none is."""
        for item, kind, key in limits:
            if not self.window.test(item, kind, key):
                reset = self.window.get_window_stats(item, kind, key).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None

    def count(self, *limits: tuple[Any, str, str]) -> None:
        """Count one attempt against each limit."""
        for item, kind, key in limits:
            self.window.hit(item, kind, key)


class TooManyAttempts(Exception):
    """Sign-in or sign-up refused unchecked: too many attempts lately; `seconds` until the next."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds
