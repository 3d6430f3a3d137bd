# Seconds between two writes of a worker's request metrics; GET /metrics writes its own worker's
# first, so only the other workers' can be this much behind.
FLUSH_SECONDS = 1.0
# The most events (arrivals and answers) kept waiting for the writer: the request that reaches
# it writes them all, so memory stays bounded if the writer falls behind or is not running (an
# app served without its lifespan, as some test clients do).
MAX_WAITING = 10_000
# The latency histogram's buckets, in seconds (and +Inf after them): prometheus-client's
# defaults, named here because Tally sorts each request into one of them itself.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
Answer = tuple[str, str, int, float]  # method, route template, status, seconds
Event = Answer | None  # None: a request arrived
Key = tuple[str, str, int]  # method (or OTHER), route template, status
Totals = dict[Key, tuple[int, float, list[int]]]  # count, seconds, count by bucket


class Tally:
    """This process's request metrics, kept in memory and written to prometheus-client's at
    most FLUSH_SECONDS later, and whenever this process answers GET /metrics.

    In multiprocess mode prometheus-client writes each increment to the worker's file under a
    lock: the counter, the histogram's sum and bucket, and the in-flight gauge up and down made
    five writes a request (seven with a database connection), a fifth of the CPU /hello costs.
    Here a request only queues two events, its arrival and its answer, and the writer adds the
    queue up and writes the totals: the same series, one write per label set a second, and the
    requests in flight as the arrivals less the answers it has seen. Sorting a second's events
    in one loop costs less than doing it in each request, and counting a request takes no
    lock (bench/RESULTS.md, section 8).

    This one is for an app whose requests are all counted on one event loop, which runs the
    writer too (`keep_writing`, a task for as long as the app is served). ThreadedTally is for
    apps that run on threads.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start from zero, with no writer (as a worker forked from this process must: a thread,
        or a lock another thread held, does not survive a fork)."""
        # Taken by the writer, and for the connections (a sync engine checks them out on the
        # threadpool's threads).
        self.lock = threading.Lock()
        self.in_flight = 0  # as of the last flush
        self.connections = 0  # database connections checked out of the pool
        # A deque: threads append to it without a lock while the writer takes from it.
        self.events: deque[Event] = deque()

    def arrived(self) -> None:
        """A request has come in."""
        self.events.append(None)

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """A request has been answered (or has failed: status 500), in `seconds`."""
        self.events.append((method, route, status, seconds))
        if len(self.events) >= MAX_WAITING:
            self.flush()

    def connection(self, change: int) -> None:
        """A database connection was checked out of its pool (1), or back in (-1)."""
        with self.lock:
            self.connections += change

    def flush(self) -> None:
        """Write what was answered since the last flush to prometheus-client's metrics."""
        with self.lock:  # one writer at a time takes the events
            events = [self.events.popleft() for _ in range(len(self.events))]
            arrivals = events.count(None)
            self.in_flight += arrivals - (len(events) - arrivals)
            in_flight, connections = self.in_flight, self.connections
        made = instruments()
        made.in_flight.set(in_flight)
        if made.connections is not None:
            made.connections.set(connections)
        for (method, route, status), (count, total, buckets) in add_up(events).items():
            made.requests.labels(method, route, status).inc(count)
            latency = made.latency.labels(method, route)
            # prometheus-client has no call that adds many observations at once; its observe()
            # adds to these same two, one observation at a time.
            latency._sum.inc(total)
            for bucket, observed in zip(latency._buckets, buckets, strict=True):
                if observed:
                    bucket.inc(observed)

    async def keep_writing(self) -> None:
        """Write every FLUSH_SECONDS, until cancelled (on the app's event loop)."""
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            self._write()

    def _write(self) -> None:
        try:
            self.flush()
        except Exception:  # a failed write must not stop the next ones
            logging.getLogger(__name__).exception("writing the request metrics failed")


class ThreadedTally(Tally):
    """A Tally for an app whose requests run on several threads: the writer is a thread of its
    own, started with the first request."""

    def reset(self) -> None:
        super().reset()
        self.writer: threading.Thread | None = None

    def arrived(self) -> None:
        """A request has come in (on any thread)."""
        self.events.append(None)
        if self.writer is None:
            self._start_writer()

    def _start_writer(self) -> None:
        with self.lock:  # one thread starts it
            if self.writer is None:
                self.writer = threading.Thread(target=self._keep_writing, daemon=True)
                self.writer.start()

    def stop(self) -> None:
        """Write the last answers, as the worker stops (nothing to write if it never counted a
        request: the writer starts with the first)."""
        if self.writer is not None:
            self._write()

    def _keep_writing(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self._write()


def add_up(events: list[Event]) -> Totals:
    """The answers' count, time and histogram buckets by label set; Prometheus' own scrapes
    are left out (they are not the app's traffic)."""
    totals: Totals = {}
    for event in events:
        if event is None:  # an arrival
            continue
        method, route, status, seconds = event
        if route == PATH:
            continue
        key = (method if method in METHODS else "OTHER", route, status)
        count, total, buckets = totals.get(key) or (0, 0.0, [0] * (len(BUCKETS) + 1))
        buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        totals[key] = (count + 1, total + seconds, buckets)
    return totals
