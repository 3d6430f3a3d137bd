# Seconds between two writes of a worker's request metrics; GET /metrics writes its own worker's
# first, so only the other workers' can be this much behind.
FLUSH_SECONDS = 1.0
# The latency histogram's buckets, in seconds (and +Inf after them): prometheus-client's
# defaults, named here because Tally sorts each request into one of them itself.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
Key = tuple[str, str, int]  # method, route template, status
Totals = tuple[dict[Key, tuple[int, float, list[int]]], int, int]


class Tally:
    """This process's request metrics, added up in memory and written to prometheus-client's
    at most FLUSH_SECONDS later, and whenever this process answers GET /metrics.

    In multiprocess mode prometheus-client writes each increment to the worker's file under a
    lock: the counter, the histogram's sum and bucket, and the in-flight gauge up and down made
    five writes a request (seven with a database connection), a fifth of the CPU /hello costs
    (bench/RESULTS.md, section 8). Here a request adds to a few numbers in memory, and a writer
    of the worker's own writes the totals: the same series, one write per label set a second.

    This one is for an app whose requests are all counted on one event loop, which runs the
    writer too (a timer): nothing needs a lock but the count of database connections, which a
    sync engine checks out on the threadpool's threads. Under granian, each lock a request
    takes, and one more thread in the worker, cost more than their work (section 8).
    ThreadedTally is for apps that run on threads.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start from zero, with no writer (as a worker forked from this process must: a thread,
        or a lock another thread held, does not survive a fork)."""
        self.lock = threading.Lock()
        self.writer: object = None  # the writer's event loop or thread, once started
        self.in_flight = 0
        self.connections = 0  # database connections checked out of the pool
        self.pending: dict[Key, tuple[int, float, list[int]]] = {}

    def started(self) -> None:
        """A request has come in (on the event loop)."""
        self.in_flight += 1
        loop = asyncio.get_running_loop()
        # A new loop (an app served again, as by a test client) needs a writer of its own: the
        # old loop's timer went with it.
        if self.writer is not loop:
            self.writer = loop
            loop.call_later(FLUSH_SECONDS, self._write_on, loop)

    def ended(self) -> None:
        """A request has been answered, or has failed."""
        self.in_flight -= 1

    def answered(self, key: Key, seconds: float) -> None:
        """Count an answered request and its time."""
        count, total, buckets = self.pending.get(key) or (0, 0.0, [0] * (len(BUCKETS) + 1))
        buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.pending[key] = (count + 1, total + seconds, buckets)

    def connection(self, change: int) -> None:
        """A database connection was checked out of its pool (1), or back in (-1)."""
        with self.lock:
            self.connections += change

    def flush(self) -> None:
        """Write what was added since the last flush to prometheus-client's metrics."""
        pending, in_flight, connections = self._take()
        made = instruments()
        made.in_flight.set(in_flight)
        if made.connections is not None:
            made.connections.set(connections)
        for (method, route, status), (count, total, buckets) in pending.items():
            made.requests.labels(method, route, status).inc(count)
            latency = made.latency.labels(method, route)
            # prometheus-client has no call that adds many observations at once; its observe()
            # adds to these same two, one observation at a time.
            latency._sum.inc(total)
            for bucket, observed in zip(latency._buckets, buckets, strict=True):
                if observed:
                    bucket.inc(observed)

    def _take(self) -> Totals:
        # What was added since the last flush, and the levels now; on the event loop.
        pending, self.pending = self.pending, {}
        with self.lock:
            return pending, self.in_flight, self.connections

    def _write_on(self, loop: asyncio.AbstractEventLoop) -> None:
        self._write()
        if self.writer is loop:
            loop.call_later(FLUSH_SECONDS, self._write_on, loop)

    def _write(self) -> None:
        try:
            self.flush()
        except Exception:  # a failed write must not stop the next ones
            logging.getLogger(__name__).exception("writing the request metrics failed")


class ThreadedTally(Tally):
    """A Tally for an app whose requests run on several threads: each change under the lock,
    and the writer a thread of its own."""

    def started(self) -> None:
        """A request has come in (on any thread)."""
        with self.lock:
            self.in_flight += 1
            if self.writer is None:
                self.writer = thread = threading.Thread(target=self._keep_writing, daemon=True)
                thread.start()

    def ended(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def answered(self, key: Key, seconds: float) -> None:
        with self.lock:
            super().answered(key, seconds)

    def _take(self) -> Totals:
        with self.lock:
            pending, self.pending = self.pending, {}
            return pending, self.in_flight, self.connections

    def _keep_writing(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self._write()
