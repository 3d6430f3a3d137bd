"""Operations of the generated projects, end to end (issue 20): a real Prometheus scrapes a
2-worker server and counts what was sent; an OTLP/HTTP receiver sees one trace per request, its
database span inside and its request ID on it; every log line is JSON and carries that ID."""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from projects import FRAMEWORKS, MAIN, Project, Variant, start
from signin import ready_sqlite, request, sign_in
from support import Server, counted_requests, free_port, stop, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Dirty template changes")]

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
JSON = {"Content-Type": "application/json"}
# Requests by kind, each with an X-Request-ID of its own: created items, reads of them (each
# with a database query), greetings, and random paths no route has.
CREATES, READS, GREETINGS, RANDOM = 3, 6, 6, 40
SENT = CREATES + READS + GREETINGS + RANDOM
# The route template of GET /items/{id}, as each framework writes it.
ITEM_ROUTE = {"flask": "/items/<int:item_id>", "fastapi": "/items/{item_id}"}
BURST = 48  # requests sent at once to a server that has just started
WAIT = 45  # seconds: the most any wait below lasts (the machine is shared and can be slow)


# --- An OTLP/HTTP receiver -------------------------------------------------------------------


@dataclass
class Span:
    """A span as the receiver decoded it."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    attributes: dict[str, Any]


@dataclass
class Receiver:
    """Spans posted to http://127.0.0.1:<port>/v1/traces, decoded from OTLP's protobuf."""

    port: int
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        decoded = [
            Span(
                span.trace_id.hex(),
                span.span_id.hex(),
                span.parent_span_id.hex(),
                span.name,
                span.kind,
                {a.key: _value(a.value) for a in span.attributes},
            )
            for resource in message.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]
        with self.lock:
            self.spans.extend(decoded)

    def snapshot(self) -> list[Span]:
        with self.lock:
            return list(self.spans)


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@contextlib.contextmanager
def otlp_receiver() -> Iterator[Receiver]:
    """A receiver on a free port of 127.0.0.1, for the `with` block."""
    receiver = Receiver(free_port())
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            status = 200 if self.path == "/v1/traces" else 404
            if status == 200:
                receiver.add(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test reads the spans, not the requests

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- A Prometheus server ---------------------------------------------------------------------


@dataclass
class Prometheus:
    """Debian's Prometheus, scraping one target every half second."""

    process: subprocess.Popen[bytes]
    port: int

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The result of an instant query (a vector), [] when Prometheus cannot answer yet."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": promql}
        )
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                result: list[dict[str, Any]] = json.load(answer)["data"]["result"]
                return result
        except OSError:
            return []

    def value(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None


@contextlib.contextmanager
def prometheus(target: str, where: Path) -> Iterator[Prometheus]:
    """Prometheus on 127.0.0.1, its config and storage under `where`, scraping `target`
    (host:port) at /metrics; always stopped, by its PID, on the way out."""
    if not Path(PROMETHEUS).exists():
        pytest.skip("no Prometheus here (Debian's package `prometheus`; see .ci/run)")
    where.mkdir(parents=True, exist_ok=True)
    config = where / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\n"
        f"scrape_configs:\n  - job_name: app\n    static_configs:\n"
        f"      - targets: ['{target}']\n"
    )
    port = free_port()
    with (where / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={where / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Prometheus(process, port)
    try:
        assert wait_for(lambda: server.query("up") or process.poll() is not None, WAIT), (
            where / "prometheus.log"
        ).read_text()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- The test --------------------------------------------------------------------------------


@dataclass
class Sent:
    """What the test sent, by request ID."""

    reads: dict[str, int] = field(default_factory=dict)  # ID: item id read
    others: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [*self.reads, *self.others]


def send_requests(server: Server) -> Sent:
    sent = Sent()
    items = []
    for number in range(CREATES):
        rid = f"create-{number}"
        body = json.dumps({"name": f"item {number}"}).encode()
        created = request(server, "POST", "/items", body, {**JSON, "X-Request-ID": rid})
        assert created.status == 201, created.body
        assert created.headers["x-request-id"] == rid
        items.append(created.json()["id"])
        sent.others.append(rid)
    for number in range(READS):
        rid, item = f"read-{number}", items[number % len(items)]
        assert request(server, "GET", f"/items/{item}", headers={"X-Request-ID": rid}).status == 200
        sent.reads[rid] = item
    for number in range(GREETINGS):
        rid = f"hello-{number}"
        assert request(server, "GET", "/hello", headers={"X-Request-ID": rid}).status == 200
        sent.others.append(rid)
    for number in range(RANDOM):
        rid = f"random-{number}"
        missing = request(server, "GET", f"/{uuid.uuid4()}", headers={"X-Request-ID": rid})
        assert missing.status == 404
        assert missing.json()["request_id"] == rid
        sent.others.append(rid)
    return sent


def server_spans(spans: list[Span]) -> dict[str, Span]:
    """The server span of each request, by its request ID."""
    servers = [span for span in spans if span.kind == 2]  # SPAN_KIND_SERVER
    return {str(span.attributes.get("http.request.id")): span for span in servers}


def descends(span: Span, ancestor: Span, by_id: dict[str, Span]) -> bool:
    while span.parent_id and span.parent_id in by_id:
        span = by_id[span.parent_id]
        if span.span_id == ancestor.span_id:
            return True
    return False


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_metrics_traces_and_logs_of_a_two_worker_server(
    projects: Callable[[Variant], Project], framework: str, tmp_path: Path
) -> None:
    project = projects(MAIN[framework])
    url = ready_sqlite(project, tmp_path / "ops.db")
    with otlp_receiver() as receiver:
        server = start(
            project,
            tmp_path / "server",
            DATABASE_URL=url,
            LOG_FORMAT="json",
            ACCESS_LOG="1",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_BSP_SCHEDULE_DELAY="200",  # ms: spans reach the receiver while the test waits
        )
        try:
            # Sign-in's one POST /auth/token and the readiness probe start() polled are the
            # only other traffic.
            signed_in = bool(sign_in(project, server))
            with prometheus(f"127.0.0.1:{server.port}", tmp_path / "prometheus") as prom:
                sent = send_requests(server)
                counted = 'sum(http_requests_total{route!="/healthz"})'
                wait_for(lambda: prom.value(counted) == SENT + signed_in, WAIT)
                assert prom.value(counted) == SENT + signed_in, prom.query("http_requests_total")
                unmatched = 'sum(http_requests_total{route="<unmatched>",status="404"})'
                assert prom.value(unmatched) == RANDOM
                # 40 random paths, one series for them all: every series is a route's.
                series = {s["metric"]["route"] for s in prom.query("http_requests_total")}
                routes = {"/items", ITEM_ROUTE[framework], "/hello", "/healthz", "<unmatched>"}
                assert series == routes | ({"/auth/token"} if signed_in else set())
            spans = wait_for(lambda: _all_traced(receiver, sent), WAIT)
            assert spans, f"spans of {len(server_spans(receiver.snapshot()))} requests arrived"
        finally:
            assert stop(server) == 0
    check_traces(spans, sent)
    check_logs(server.stdout(), sent, framework)
    assert "Traceback" not in server.stdout() + server.stderr()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_fresh_server_answers_and_counts_a_burst_of_first_requests(
    projects: Callable[[Variant], Project], framework: str, tmp_path: Path
) -> None:
    """A worker's first requests arrive together (a deploy under traffic): every one is
    answered and counted once, whichever of the worker's threads makes its metrics."""
    project = projects(MAIN[framework])
    url = ready_sqlite(project, tmp_path / "burst.db")
    server = start(project, tmp_path / "server", DATABASE_URL=url)
    together = threading.Barrier(BURST)

    def greet(_: int) -> int:
        together.wait(WAIT)
        return request(server, "GET", "/hello", timeout=WAIT).status

    try:
        with ThreadPoolExecutor(BURST) as pool:
            statuses = list(pool.map(greet, range(BURST)))
        # Each worker writes its counts to the shared files at least once a second (metrics.py):
        # a scrape sees them all within that, and never one twice.
        wait_for(lambda: counted_requests(server, "/hello") >= BURST, WAIT)
        counted = counted_requests(server, "/hello")
    finally:
        assert stop(server) == 0
    assert statuses == [200] * BURST, server.stderr()[-3000:]
    assert counted == BURST
    assert "Traceback" not in server.stdout() + server.stderr()


def _all_traced(receiver: Receiver, sent: Sent) -> list[Span] | None:
    spans = receiver.snapshot()
    return spans if set(sent.ids) <= set(server_spans(spans)) else None


def check_traces(spans: list[Span], sent: Sent) -> None:
    by_request = server_spans(spans)
    by_id = {span.span_id: span for span in spans}
    # One trace per request: each request's server span starts a trace of its own.
    traces = [by_request[rid].trace_id for rid in sent.ids]
    assert len(set(traces)) == len(sent.ids)
    for rid in sent.reads:
        server_span = by_request[rid]
        queries = [
            span
            for span in spans
            if span.trace_id == server_span.trace_id and span.kind == 3  # SPAN_KIND_CLIENT
        ]
        assert queries, f"no database span in the trace of {rid}"
        assert all(descends(query, server_span, by_id) for query in queries)
        # The read's own query (a connection opened on the way has spans of its own too).
        assert any(query.name.startswith("SELECT") for query in queries), queries


def check_logs(stdout: str, sent: Sent, framework: str) -> None:
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]  # all JSON
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    access = {line["request_id"]: line for line in lines if line["logger"].endswith(".access")}
    for rid in sent.ids:
        assert rid in access, f"no access line for {rid}"
    for rid in sent.reads:
        line = access[rid]
        assert (line["method"], line["route"], line["status"]) == (
            "GET",
            ITEM_ROUTE[framework],
            200,
        )
        assert line["duration_ms"] >= 0
        assert line["client"] == "127.0.0.1"
