"""The benchmark runner's own logic: statistics, tables, targets, and workloads run in-process.

Nothing here creates a venv, starts a server or times anything against a bound.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) omits the root
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import _baseline, _loadgen, _report, _runner, _venv, _worker  # noqa: E402
from benchmarks._loadgen import Tally, parse_response  # noqa: E402
from benchmarks._registry import (  # noqa: E402
    BASELINE,
    OURS,
    REFERENCE,
    WORKLOADS,
    Role,
    with_baseline,
    workload,
)
from benchmarks._stats import (  # noqa: E402
    Series,
    fmt_bytes,
    fmt_rate,
    fmt_ratio,
    fmt_spread,
    fmt_time,
    ratio,
    render_table,
)
from benchmarks._targets import (  # noqa: E402
    NOT_SLOWER,
    NOT_SLOWER_THAN_BEFORE,
    TARGETS,
    Target,
    Versus,
    evaluate,
    summary,
)
from benchmarks._venv import Probe  # noqa: E402
from benchmarks.workloads import Body, factory  # noqa: E402

MIB = 1024 * 1024


def _series(*values: float, peak: int | None = None) -> Series:
    series = Series()
    for value in values:
        series.add(value, peak)
    return series


def test_series_median_spread_and_peak() -> None:
    series = _series(10.0, 30.0, 20.0, 40.0, 1000.0, peak=100)
    assert series.median == 30.0
    assert series.spread == pytest.approx((40.0 - 20.0) / 30.0)  # one outlier barely counts
    assert series.peak == 100
    assert series.status == "ok"
    assert series.detail == ""


def test_series_without_values_has_no_figures() -> None:
    series = Series()
    assert series.median is None
    assert series.spread is None
    assert series.peak is None


def test_series_reports_first_failure_and_sums_counters() -> None:
    series = _series(5.0)
    series.fail("timeout", "no result")
    series.fail("error", "later")
    series.count("non2xx", 2)
    series.count("non2xx", 3)
    assert series.status == "timeout"
    assert series.detail == "no result"
    assert series.counters == {"non2xx": 5}
    assert series.spread is None  # one value only


def test_ratio_handles_missing_and_zero() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (None, "—"),
        (13.27, "13.3 ns"),
        (1.5, "1.50 ns"),
        (1_320.0, "1.32 µs"),
        (59_800.0, "59.8 µs"),
        (238_000.0, "238 µs"),
        (3_500_000.0, "3.50 ms"),
        (2.5e9, "2.50 s"),
    ],
)
def test_fmt_time_picks_unit_and_three_digits(ns: float | None, text: str) -> None:
    assert fmt_time(ns) == text


def test_other_formatters() -> None:
    assert fmt_bytes(None) == "—"
    assert fmt_bytes(512) == "512 B"
    assert fmt_bytes(1536) == "1.5 KiB"
    assert fmt_bytes(3 * MIB) == "3.0 MiB"
    assert fmt_ratio(None) == "—"
    assert fmt_ratio(0.456) == "0.46x"
    assert fmt_ratio(0.2009, 3) == "0.201x"
    assert fmt_rate(None) == "—"
    assert fmt_rate(2021.4) == "2,021 req/s"
    assert fmt_spread(None) == "—"
    assert fmt_spread(0.2) == "±10%"


def test_render_table_aligns_text_left_and_figures_right() -> None:
    table = render_table(["name", "impl", "value"], [["a", "ours", "1"], ["", "ref", "100"]])
    lines = table.splitlines()
    assert lines[0] == "name  impl  value"
    assert lines[1] == "----  ----  -----"
    assert lines[2] == "a     ours      1"
    assert lines[3] == "      ref     100"


def _target(text: str) -> Target:
    return next(target for target in TARGETS if target.text.startswith(text))


def test_targets_compare_with_floor_reference_and_workload() -> None:
    results = {
        "s2a_hop_ts": {"ours": _series(40.0), "floor: run_in_executor": _series(50.0)},
        "a2s_noloop": {"ours": _series(100.0), "asgiref 3.13.0": _series(200.0)},
        "tsc_request": {"ours": _series(90.0)},
    }
    assert evaluate(_target("sync_to_async hop"), results) == ("PASS", "ours/floor = 0.800x")
    assert evaluate(_target("async_to_sync from sync"), results) == (
        "FAIL",
        "ours/asgiref = 0.500x",
    )
    assert evaluate(_target("ThreadSensitiveContext"), results) == (
        "FAIL",
        "ours/ours s2a_hop_ts = 2.250x",
    )


def test_targets_report_not_implemented_and_not_measured() -> None:
    missing = Series()
    missing.fail("n.i.", "ModuleNotFoundError: No module named 'asgiref.wsgi'")
    results = {"wsgi_hello": {"ours": missing}, "local_get_sync": {"ours": _series(1.0)}}
    assert evaluate(_target("WSGI hello, sequential"), results)[0] == "n.i."
    assert evaluate(_target("Local get, sync"), results) == ("n.m.", "asgiref 3.13.0 not measured")
    assert evaluate(_target("WSGI 1 MiB"), results) == ("n.m.", "not measured")
    assert summary(TARGETS[:1], {}) == {"n.m.": 1}


def test_targets_on_memory_rates_and_non_2xx() -> None:
    ours = _series(2600.0, peak=2 * MIB)
    ours.count("non2xx", 0)
    ours.count("errors", 1)
    results = {
        "wsgi_upload_64mib": {"ours": _series(1.0, peak=9 * MIB)},
        "e2e_wsgi_hello": {"ours": ours, "a2wsgi": _series(2000.0)},
    }
    assert evaluate(_target("WSGI 64 MiB"), results) == ("FAIL", "peak 9.0 MiB")
    assert evaluate(_target("e2e WSGI hello >="), results) == ("PASS", "ours/a2wsgi = 1.300x")
    assert evaluate(_target("e2e WSGI hello: zero"), results) == ("FAIL", "1 non-2xx/failed")
    no_peak = {"wsgi_upload_64mib": {"ours": _series(1.0)}}
    assert evaluate(_target("WSGI 64 MiB"), no_peak) == ("n.m.", "no memory figure")


def test_every_target_names_a_known_workload() -> None:
    for target in TARGETS:
        spec = workload(target.workload)
        if target.versus is Versus.WORKLOAD:
            workload(target.other)
        assert spec.impls[0] is OURS


def test_report_renders_groups_footnotes_and_targets() -> None:
    broken = Series()
    broken.fail("n.i.", "ModuleNotFoundError: No module named 'asgiref.local'")
    server = _series(2000.0, 2100.0, peak=30 * MIB)
    server.count("non2xx", 0)
    results = {
        "s2a_hop_ts": {
            OURS.label: _series(40_000.0, 42_000.0),
            REFERENCE.label: _series(60_000.0),
            "floor: run_in_executor": _series(50_000.0),
        },
        "local_get_sync": {OURS.label: broken, REFERENCE.label: _series(1300.0)},
        "e2e_wsgi_hello": {OURS.label: server, "a2wsgi": _series(1500.0)},
    }
    specs = [workload("s2a_hop_ts"), workload("local_get_sync"), workload("e2e_wsgi_hello")]
    info = {
        "date": "now",
        "machine": "m",
        "python": "3.x",
        "ours": "o",
        "reference": "r",
        "a2wsgi": "1",
        "uvicorn": "u",
        "Django": "d",
        "rounds": 3,
        "target_ms": 60.0,
        "e2e_rounds": 1,
        "e2e_seconds": 1.5,
        "pinned_cpu": 0,
        "loadgen_cpu": 1,
        "seconds": 1.0,
    }
    text = _report.render(specs, results, info)
    assert "41.0 µs" in text  # median of 40 and 42
    assert "0.68x" in text  # ours/ref = 41 / 60
    assert "n.i." in text
    assert "* ours: n.i. on local_get_sync: ModuleNotFoundError" in text
    assert "2,050 req/s" in text
    assert "PASS  sync_to_async hop (thread-sensitive)" in text
    assert "== never slower than asgiref 3.13.0" in text
    assert "ours/before" not in text  # no --baseline: no before column, no before verdicts
    assert "not slower than before" not in text
    assert text.endswith(
        "\ntargets: 3 PASS, 1 n.i.\nnever slower than asgiref 3.13.0: 1 PASS, 1 n.i., 1 n.m."
    )


def test_report_leaves_out_empty_target_sections() -> None:
    info = dict.fromkeys(
        ["date", "machine", "python", "ours", "reference", "a2wsgi", "uvicorn", "Django",
         "e2e_rounds", "e2e_seconds", "pinned_cpu", "loadgen_cpu", "seconds", "rounds"], 1
    )  # fmt: skip
    text = _report.render([workload("e2e_django_hello")], {}, {**info, "target_ms": 1.0})
    assert "targets (issues" not in text
    assert "never slower" in text


def test_report_writes_json(tmp_path: Path) -> None:
    results = {"a2s_noloop": {OURS.label: _series(1.0), REFERENCE.label: _series(4.0)}}
    out = tmp_path / "bench.json"
    _report.write_json(out, [workload("a2s_noloop")], results, {"date": "now"})
    text = out.read_text()
    assert '"verdict": "PASS"' in text
    assert '"metric": "ns/op"' in text


def test_select_matches_names_and_groups() -> None:
    assert _runner.select([]) == list(WORKLOADS)
    assert [spec.name for spec in _runner.select(["s2a*"])] == [
        "s2a_hop_ts",
        "s2a_hop",
        "s2a_construct",
        "s2a_construct_method",
    ]
    assert all(spec.group == "local" for spec in _runner.select(["local"]))
    assert _runner.select(["nothing"]) == []


def test_parse_args_quick_defaults_and_no_pinning() -> None:
    options = _runner.parse_args(["--quick", "--only", "local, wsgi", "--pin-cpu", "none"])
    assert (options.rounds, options.e2e_rounds) == (3, 1)
    assert options.patterns == ("local", "wsgi")
    assert options.pin is None
    assert options.loadgen_cpu is None
    assert _runner.parse_args(["--rounds", "2"]).rounds == 2


def test_rounds_rotate_the_order_of_implementations() -> None:
    impls = workload("s2a_hop_ts").impls
    assert _runner._rotated(impls, 0) == list(impls)
    assert _runner._rotated(impls, 1) == [*impls[1:], impls[0]]
    assert _runner._rotated(impls, len(impls)) == list(impls)


def test_a_sync_and_an_async_workload_run_in_process() -> None:
    for name, impl in [("local_get_sync", "floor_tl"), ("s2a_hop", "floor")]:
        result = _worker.measure(factory(name, impl)(), workload(name), target_ns=1_000_000)
        assert result["value"] > 0
        assert result["ops"] >= workload(name).min_ops * workload(name).ops_per_call
        assert result["peak"] is not None


def test_wsgi_floor_serves_the_scripted_requests() -> None:
    for name, impl in [("wsgi_hello", "floor"), ("wsgi_body_10mib", "floor"),
                       ("wsgi_stream_1mib", "floor_chunk")]:  # fmt: skip
        body = factory(name, impl)()
        assert body.run_async is not None
        asyncio.run(body.run_async(1))


def test_worker_reports_import_errors_of_ours_as_not_implemented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing() -> Body:
        raise ImportError("No module named 'asgiref.nothing'")

    monkeypatch.setattr(_worker, "factory", lambda name, impl: missing)
    assert _worker._run("s2a_hop", "ours", 1_000, False)["status"] == "n.i."
    assert _worker._run("s2a_hop", "base", 1_000, False)["status"] == "n.i."
    assert _worker._run("s2a_hop", "ref", 1_000, False)["status"] == "error"


def test_worker_reports_failing_bodies_as_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(n: int) -> None:
        raise RuntimeError("bad response")

    monkeypatch.setattr(_worker, "factory", lambda name, impl: lambda: Body(run_sync=fails))
    result = _worker._run("local_get_sync", "ours", 1_000, False)
    assert result == {"status": "error", "detail": "RuntimeError: bad response"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", (200, False)),
        (b"HTTP/1.1 500 Oops\r\nconnection: close\r\ncontent-length: 0\r\n\r\n", (500, True)),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"5\r\nhello\r\n0\r\n\r\n", (200, False)),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", (200, False)),
        (b"HTTP/1.1 204 No Content\r\n\r\n", (204, False)),
        (b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n", (304, True)),
    ],
)  # fmt: skip
def test_load_generator_parses_a_response_fed_byte_by_byte(
    raw: bytes, expected: tuple[int, bool]
) -> None:
    pipelined = raw + b"HTTP/1.1 200 OK\r\n"  # the start of a next response is left alone
    for cut in range(len(raw)):
        assert parse_response(pipelined[:cut], eof=False) is None, cut
    assert parse_response(pipelined, eof=False) == (*expected, len(raw))


def test_load_generator_reads_a_body_without_length_to_the_end() -> None:
    raw = b"HTTP/1.0 200 OK\r\n\r\nall of it"
    assert parse_response(raw, eof=False) is None
    assert parse_response(raw, eof=True) == (200, True, len(raw))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    ],
)
def test_load_generator_counts_a_connection_closed_mid_response_as_failed(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r"incomplete|closed the connection"):
        parse_response(raw, eof=True)


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"X" * (_loadgen.MAX_HEAD + 1),
    ],
)
def test_load_generator_rejects_malformed_responses(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r"invalid literal|oversized"):
        parse_response(raw, eof=False)


class _Hello(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 hello on keep-alive; ``/close`` answers with ``Connection: close``."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        if self.path == "/close":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client closing its connections at the end of a run


@pytest.fixture
def hello_server() -> Iterator[int]:
    server = _QuietServer((_loadgen.HOST, 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.mark.parametrize("path", ["/", "/close"])
def test_load_generator_drives_a_real_server(hello_server: int, path: str) -> None:
    result = _loadgen.run(hello_server, path, 4, warmup=0.05, seconds=0.3, budget=100_000)
    assert result["errors"] == 0
    assert result["non2xx"] == 0
    assert isinstance(result["ok"], int)
    assert result["ok"] > 0
    assert result["statuses"] == {"200": result["ok"]}


def test_load_generator_stops_at_the_request_budget(hello_server: int) -> None:
    result = _loadgen.run(hello_server, "/", 2, warmup=0.0, seconds=30.0, budget=50)
    assert isinstance(result["ok"], int)
    assert 0 < result["ok"] <= 50
    assert result["errors"] == 0


def test_load_generator_counts_refused_connections_as_failed() -> None:
    with socket.socket() as sock:  # a port nobody listens on once this is closed
        sock.bind((_loadgen.HOST, 0))
        port = sock.getsockname()[1]
    result = _loadgen.run(port, "/", 2, warmup=0.0, seconds=0.2, budget=1_000)
    assert result["ok"] == 0
    assert isinstance(result["errors"], int)
    assert result["errors"] > 0


def test_load_generator_counts_only_after_warmup() -> None:
    tally = Tally(measure_from=10.0, stop_at=20.0, budget=100)
    tally.record(5.0, 200)
    tally.record(11.0, 200)
    tally.record(12.0, 503)
    tally.record(13.0, None)
    tally.record(20.0, 200)  # at the end of the window: not counted
    assert dict(tally.statuses) == {200: 1, 503: 1}
    assert tally.errors == 1


def _probe(modules: dict[str, str], dists: dict[str, str | None], where: str) -> Probe:
    return Probe(
        python=sys.executable,
        version="3.x",
        asgiref_file=where,
        asgiref_version="3.13.1",
        modules=modules,
        dists=dists,
    )


def test_server_workloads_of_a_missing_module_are_not_implemented(tmp_path: Path) -> None:
    missing = "ModuleNotFoundError: No module named 'asgiref.wsgi'"
    ours = _probe({"asgiref.wsgi": missing}, {"uvicorn": "1", "Django": "5"}, "x")
    session = _runner.Session(_runner.parse_args(["--quick"]), ours, None, tmp_path)
    spec = workload("e2e_wsgi_hello")
    assert _runner._record_server(session, spec, OURS) == "n.i."
    assert session.results["e2e_wsgi_hello"][OURS.label].detail == f"asgiref.wsgi: {missing}"
    assert (spec.name, OURS.label) in session.skip
    assert _runner._record_server(session, spec, REFERENCE) == "error"  # no reference here


def test_server_workloads_need_uvicorn_and_django(tmp_path: Path) -> None:
    ours = _probe(
        {"asgiref.sync": "ok", "asgiref.local": "ok"}, {"uvicorn": "1", "Django": None}, "x"
    )
    session = _runner.Session(_runner.parse_args([]), ours, None, tmp_path)
    assert _runner._record_server(session, workload("e2e_django_hello"), OURS) == "error"
    assert "Django is not installed" in session.results["e2e_django_hello"][OURS.label].detail


def test_runner_refuses_an_asgiref_from_outside_this_repository() -> None:
    inside = str(REPO_ROOT / "src" / "asgiref" / "__init__.py")
    _runner._check_ours(_probe({}, {}, inside))
    with pytest.raises(SystemExit, match="not from"):
        _runner._check_ours(_probe({}, {}, "/elsewhere/asgiref/__init__.py"))


# --- construction workloads (issue 12, item 7) -------------------------------------------


@pytest.mark.parametrize("name", ["s2a_construct", "s2a_construct_method", "a2s_construct"])
def test_construction_workloads_build_wrappers_of_ours_and_the_reference(name: str) -> None:
    spec = workload(name)
    assert [impl.key for impl in spec.impls] == ["ours", "ref"]
    result = _worker.measure(factory(name, "ours")(), spec, target_ns=1_000_000)
    assert result["value"] > 0
    assert result["ops"] >= spec.min_ops


def test_construction_targets_come_from_issue_12_with_their_bounds() -> None:
    s2a = _target("sync_to_async(f) construction")
    a2s = _target("async_to_sync(af) construction")
    assert (s2a.workload, s2a.limit, s2a.source) == ("s2a_construct", 0.8, "issue 12")
    assert (a2s.workload, a2s.limit, a2s.source) == ("a2s_construct", 1.0, "issue 12")
    assert not any(target.workload == "s2a_construct_method" for target in TARGETS)

    def verdict(target: Target, ours: float) -> str:
        results = {target.workload: {OURS.label: _series(ours), REFERENCE.label: _series(100.0)}}
        return evaluate(target, results)[0]

    assert verdict(s2a, 80.0) == "PASS"  # <= 0.8x
    assert verdict(s2a, 81.0) == "FAIL"
    assert verdict(a2s, 99.0) == "PASS"
    assert verdict(a2s, 100.0) == "FAIL"  # strictly below asgiref


def test_construction_workloads_are_also_checked_against_asgiref() -> None:
    checked = {target.workload for target in NOT_SLOWER}
    assert {"s2a_construct", "s2a_construct_method", "a2s_construct"} <= checked


# --- --baseline: this package at another revision, measured as "before" ------------------


def test_with_baseline_adds_before_right_after_ours_once() -> None:
    spec = with_baseline(workload("s2a_hop_ts"))
    assert spec.impls[:3] == (OURS, BASELINE, REFERENCE)
    assert len(spec.impls) == len(workload("s2a_hop_ts").impls) + 1
    assert with_baseline(spec) == spec
    assert BASELINE.role is Role.BASELINE
    assert spec.floor == workload("s2a_hop_ts").floor


def test_the_baseline_runs_the_bodies_of_ours() -> None:
    for spec in WORKLOADS:
        if spec.kind.value == "micro":
            assert factory(spec.name, BASELINE.key) is factory(spec.name, OURS.key)


def test_worker_refuses_an_asgiref_imported_from_elsewhere(tmp_path: Path) -> None:
    ok = _worker._run("a2s_construct", "ours", 1_000_000, False, REPO_ROOT / "src")
    assert ok["status"] == "ok"
    wrong = _worker._run("a2s_construct", "base", 1_000_000, False, tmp_path)
    assert wrong["status"] == "error"
    assert wrong["detail"].endswith(f"not from {tmp_path}")
    assert "asgiref imported from " + str(REPO_ROOT / "src") in wrong["detail"]


def test_worker_import_check_passes_when_asgiref_was_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "asgiref")
    assert _worker.imported_from(tmp_path) is None


def test_worker_command_line_checks_where_asgiref_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["a2s_construct", "base", "--target-ms", "1", "--no-mem", "--asgiref-under"]
    assert _worker.main([*argv, str(tmp_path)]) == 0
    assert '"status": "error"' in capsys.readouterr().out
    assert _worker.main([*argv, str(REPO_ROOT / "src")]) == 0
    assert '"status": "ok"' in capsys.readouterr().out


def _before_target(name: str) -> Target:
    return next(target for target in NOT_SLOWER_THAN_BEFORE if target.workload == name)


def test_not_slower_than_before_allows_five_percent() -> None:
    def verdict(name: str, ours: float, before: float) -> tuple[str, str]:
        results = {name: {OURS.label: _series(ours), BASELINE.label: _series(before)}}
        return evaluate(_before_target(name), results)

    assert verdict("s2a_hop", 105.0, 100.0) == ("PASS", "ours/before = 1.050x")
    assert verdict("s2a_hop", 106.0, 100.0)[0] == "FAIL"
    # Requests per second: higher is better, so ours may be at most 5 % below before.
    assert verdict("e2e_django_hello", 96.0, 100.0) == ("PASS", "ours/before = 0.960x")
    assert verdict("e2e_django_hello", 95.0, 100.0)[0] == "FAIL"
    missing = {"s2a_hop": {OURS.label: _series(1.0)}}
    assert evaluate(_before_target("s2a_hop"), missing) == ("n.m.", "before not measured")


def test_every_workload_has_a_not_slower_than_before_check() -> None:
    assert [target.workload for target in NOT_SLOWER_THAN_BEFORE] == [s.name for s in WORKLOADS]
    assert all(target.source == "issues 11, 12" for target in NOT_SLOWER_THAN_BEFORE)


def _info(**extra: object) -> dict[str, object]:
    keys = ["date", "machine", "python", "ours", "reference", "a2wsgi", "uvicorn", "Django",
            "e2e_rounds", "e2e_seconds", "pinned_cpu", "loadgen_cpu", "seconds",
            "rounds"]  # fmt: skip
    return {**dict.fromkeys(keys, 1), "target_ms": 1.0, **extra}


def _before_results() -> dict[str, dict[str, Series]]:
    rates = _series(2000.0)
    rates.count("non2xx", 0)
    return {
        "a2s_noloop": {
            OURS.label: _series(102.0),
            BASELINE.label: _series(100.0),
            REFERENCE.label: _series(300.0),
        },
        "s2a_construct": {OURS.label: _series(120.0), BASELINE.label: _series(100.0)},
        "e2e_django_hello": {OURS.label: rates, BASELINE.label: _series(1000.0)},
    }


def test_report_with_a_baseline_shows_ours_before_and_its_verdicts() -> None:
    specs = [with_baseline(workload(name)) for name in _before_results()]
    info = _info(baseline="asgiref 3.13.1 at main = 0123456789ab (python)")
    text = _report.render(specs, _before_results(), info)
    assert "\nbefore: asgiref 3.13.1 at main = 0123456789ab (python)\n" in text
    micro_header = next(line for line in text.splitlines() if line.startswith("workload"))
    assert "ours/ref  ours/before  ours/floor" in micro_header
    assert "1.02x" in text  # a2s_noloop ours/before
    assert "2.00x" in text  # e2e ours/before (requests per second)
    assert "== not slower than before (--baseline: ours/before <= 1.05x) ==" in text
    assert "FAIL  sync_to_async(f) construction, no call: <= 1.05x before time" in text
    assert "PASS  Django ASGI hello (sync view): req/s >= before / 1.05" in text
    assert text.endswith("\nnot slower than before: 1 FAIL, 2 PASS")


def test_json_with_a_baseline_has_before_figures_and_verdicts(tmp_path: Path) -> None:
    specs = [with_baseline(workload(name)) for name in _before_results()]
    out = tmp_path / "bench.json"
    _report.write_json(out, specs, _before_results(), {"baseline_commit": "0123"})
    data = json.loads(out.read_text())
    assert data["meta"]["baseline_commit"] == "0123"
    before = data["workloads"]["a2s_noloop"]["implementations"]["before"]
    assert (before["role"], before["median"]) == ("baseline", 100.0)
    lists = {entry["list"] for entry in data["targets"]}
    assert lists == {"targets", "never slower than asgiref 3.13.0", "not slower than before"}


def _baseline_of(tmp_path: Path, modules: dict[str, str] | None = None) -> _baseline.Baseline:
    info = _probe(modules or {}, {"uvicorn": "1", "Django": "5"}, str(tmp_path / "x"))
    return _baseline.Baseline("main", "0123456789abcdef", tmp_path, info)


def test_parse_args_takes_a_baseline_revision() -> None:
    assert _runner.parse_args(["--baseline", "main"]).baseline == "main"
    assert _runner.parse_args([]).baseline is None
    assert _runner._baseline(_runner.parse_args([])) is None


def test_runner_stops_on_a_baseline_that_is_not_a_commit() -> None:
    with pytest.raises(SystemExit, match=r"no-such-revision-here: .*not a commit"):
        _runner._baseline(_runner.parse_args(["--baseline", "no-such-revision-here"]))


def test_session_runs_the_baseline_under_its_venv_and_checks_its_asgiref(
    tmp_path: Path,
) -> None:
    ours = _probe({}, {}, "x")
    session = _runner.Session(
        _runner.parse_args(["--quick"]), ours, None, tmp_path, baseline=_baseline_of(tmp_path)
    )
    spec = with_baseline(workload("s2a_hop"))
    before = _runner.worker_command(session, spec, BASELINE)
    assert before is not None
    assert before[0] == sys.executable  # the baseline probe's interpreter
    assert before[-2:] == ["--asgiref-under", str(tmp_path)]
    mine = _runner.worker_command(session, spec, OURS)
    assert mine is not None
    assert mine[-2:] == ["--asgiref-under", str(REPO_ROOT / "src")]
    floor = _runner.worker_command(session, spec, spec.impls[-1])
    assert floor is not None
    assert "--asgiref-under" not in floor
    assert _runner.worker_command(session, spec, REFERENCE) is None  # no reference here
    assert session.asgiref_home(REFERENCE) is None


def test_without_a_baseline_venv_before_is_an_error_not_a_figure(tmp_path: Path) -> None:
    ours = _probe(
        {"asgiref.sync": "ok", "asgiref.local": "ok"}, {"uvicorn": "1", "Django": "5"}, "x"
    )
    session = _runner.Session(_runner.parse_args(["--quick"]), ours, None, tmp_path)
    spec = with_baseline(workload("s2a_hop"))
    assert _runner._run_worker(session, spec, BASELINE) == {
        "status": "error",
        "detail": "no interpreter for before",
    }
    assert session.python(BASELINE) is None
    assert session.probe_of(BASELINE) is None
    server = with_baseline(workload("e2e_django_hello"))
    assert _runner._record_server(session, server, BASELINE) == "error"


def test_server_workloads_of_a_module_missing_at_the_baseline_are_not_implemented(
    tmp_path: Path,
) -> None:
    missing = "ModuleNotFoundError: No module named 'asgiref.wsgi'"
    ours = _probe({"asgiref.wsgi": "ok"}, {"uvicorn": "1", "Django": "5"}, "x")
    base = _baseline_of(tmp_path, {"asgiref.wsgi": missing})
    session = _runner.Session(_runner.parse_args([]), ours, None, tmp_path, baseline=base)
    spec = with_baseline(workload("e2e_wsgi_hello"))
    assert _runner._record_server(session, spec, BASELINE) == "n.i."
    assert session.results[spec.name][BASELINE.label].detail == f"asgiref.wsgi: {missing}"
    assert (spec.name, BASELINE.label) in session.skip


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_baseline_revisions_resolve_to_full_commit_ids() -> None:
    assert _baseline.resolve("HEAD") == _git("rev-parse", "HEAD").strip()
    for bad in ["", "--all", "no-such-revision-here", "HEAD:src"]:
        with pytest.raises(ValueError, match="not a commit"):
            _baseline.resolve(bad)


def test_baseline_source_is_the_committed_tree(tmp_path: Path) -> None:
    source = _baseline.export(_baseline.resolve("HEAD"), tmp_path)
    exported = (source / "src" / "asgiref" / "__init__.py").read_text()
    assert exported == _git("show", "HEAD:src/asgiref/__init__.py")
    assert (source / "pyproject.toml").is_file()


def _package(root: Path) -> Path:
    (root / "sub" / "__pycache__").mkdir(parents=True)
    (root / "__init__.py").write_text("one")
    (root / "sub" / "mod.py").write_text("two")
    (root / "sub" / "__pycache__" / "mod.pyc").write_text("ignored")
    return root


def test_baseline_install_must_match_the_revision_file_by_file(tmp_path: Path) -> None:
    source = _package(tmp_path / "source")
    installed = tmp_path / "installed"
    shutil.copytree(source, installed, ignore=shutil.ignore_patterns("__pycache__"))
    _baseline.same_files(source, installed)
    (installed / "sub" / "mod.py").write_text("from PyPI")
    changed = re.escape(str(Path("sub", "mod.py")))
    with pytest.raises(RuntimeError, match=rf"{changed} differs .*from PyPI"):
        _baseline.same_files(source, installed)
    (installed / "sub" / "mod.py").unlink()
    with pytest.raises(RuntimeError, match=rf"{changed} differs"):
        _baseline.same_files(source, installed)
    with pytest.raises(RuntimeError, match="no package directory nothing/"):
        _baseline.same_files(tmp_path / "nothing", installed)


def test_baseline_asgiref_must_come_from_its_venv(tmp_path: Path) -> None:
    inside = _probe({}, {}, str(tmp_path / "lib" / "asgiref" / "__init__.py"))
    assert _baseline.outside(inside, tmp_path) is None
    elsewhere = _probe({}, {}, str(REPO_ROOT / "src" / "asgiref" / "__init__.py"))
    assert "not from the baseline venv" in str(_baseline.outside(elsewhere, tmp_path))
    nothing = _probe({}, {}, "")
    assert "imports asgiref from None" in str(_baseline.outside(nothing, tmp_path))


class _FakeTools:
    """Stands in for ``python -m venv`` and pip: records commands, "installs" by copying."""

    def __init__(self, tamper: bool) -> None:
        self.commands: list[list[str]] = []
        self.tamper = tamper
        self.site = Path("lib") / "site-packages"

    def run(self, command: list[str], timeout: float, cwd: Path | None = None) -> str:
        self.commands.append(command)
        Path(command[-1]).mkdir(parents=True)  # python -m venv DIR
        return ""

    def pip(self, venv: Path, args: list[str]) -> None:
        self.commands.append(["pip", *args])
        target = venv / self.site / "asgiref"
        shutil.copytree(Path(args[0]) / "src" / "asgiref", target)
        if self.tamper:
            (target / "__init__.py").write_text("asgiref from PyPI")

    def probe(self, python: str | Path) -> Probe:
        root = Path(python).parent.parent
        return _probe({}, {}, str(root / self.site / "asgiref" / "__init__.py"))


def _fake_tools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tamper: bool = False
) -> _FakeTools:
    tools = _FakeTools(tamper)
    monkeypatch.setattr(_venv, "run_checked", tools.run)
    monkeypatch.setattr(_baseline, "VENVS", tmp_path / "venvs")
    monkeypatch.setattr(_baseline, "pip_install", tools.pip)
    monkeypatch.setattr(_baseline, "probe", tools.probe)
    return tools


def test_baseline_venv_is_built_once_per_commit_and_interpreter(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tools = _fake_tools(monkeypatch, tmp_path)
    commit = _baseline.resolve("HEAD")
    built = _baseline.baseline("HEAD", log=False)
    assert built.commit == commit
    assert built.root == tmp_path / "venvs" / f"base-{_venv.interpreter_tag()}-{commit[:12]}"
    assert built.probe.asgiref_file == str(built.root / tools.site / "asgiref" / "__init__.py")
    pip = next(command for command in tools.commands if command[0] == "pip")
    assert pip[2:] == _venv.server_requirements()  # uvicorn, h11, Django as for ours
    marker = (built.root / "bench-requirements.txt").read_text()
    assert marker.splitlines()[0] == f"commit {commit}"
    before = len(tools.commands)
    again = _baseline.baseline(commit, log=False)  # cached: nothing run
    assert (again.rev, again.commit, again.root) == (commit, commit, built.root)
    assert len(tools.commands) == before
    assert sorted(p.name for p in (tmp_path / "venvs").iterdir()) == [built.root.name]


def test_a_baseline_venv_with_another_asgiref_is_refused_and_not_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_tools(monkeypatch, tmp_path, tamper=True)
    with pytest.raises(RuntimeError, match=r"__init__\.py differs"):
        _baseline.baseline("HEAD", log=False)
    assert list((tmp_path / "venvs").iterdir()) == []  # no half-built venv left behind


def test_a_cached_baseline_venv_importing_another_asgiref_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tools = _fake_tools(monkeypatch, tmp_path)
    _baseline.baseline("HEAD", log=False)
    monkeypatch.setattr(_baseline, "probe", lambda python: _probe({}, {}, tools.site.as_posix()))
    with pytest.raises(RuntimeError, match="not from the baseline venv"):
        _baseline.baseline("HEAD", log=False)


def test_validation_overhead_target_is_an_absolute_bound_over_the_unwrapped_app() -> None:
    target = _target("validation on")
    floor = "floor: the app unwrapped"

    def verdict(ours: float, unwrapped: float) -> tuple[str, str]:
        return evaluate(
            target, {"validation_http": {"ours": _series(ours), floor: _series(unwrapped)}}
        )

    assert verdict(5_300.0, 300.0) == ("PASS", "ours - floor = 5.00 µs")
    assert verdict(10_400.0, 300.0)[0] == "FAIL"
    only_ours = {"validation_http": {"ours": _series(5_000.0)}}
    assert evaluate(target, only_ours) == ("n.m.", "floor not measured")


def test_validation_bodies_answer_every_request() -> None:
    for impl in ("ours", "floor"):
        body = factory("validation_http", impl)()
        assert body.run_async is not None
        asyncio.run(body.run_async(3))
