"""The benchmark runner's own logic: statistics, tables, targets, and workloads run in-process.

Nothing here creates a venv, starts a server or times anything against a bound.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) omits the root
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import _report, _runner, _worker  # noqa: E402
from benchmarks._loadgen import Tally, read_response  # noqa: E402
from benchmarks._registry import OURS, REFERENCE, WORKLOADS, workload  # noqa: E402
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
from benchmarks._targets import TARGETS, Target, Versus, evaluate, summary  # noqa: E402
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
    assert [spec.name for spec in _runner.select(["s2a*"])] == ["s2a_hop_ts", "s2a_hop"]
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
    assert _worker._run("s2a_hop", "ref", 1_000, False)["status"] == "error"


def test_worker_reports_failing_bodies_as_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(n: int) -> None:
        raise RuntimeError("bad response")

    monkeypatch.setattr(_worker, "factory", lambda name, impl: lambda: Body(run_sync=fails))
    result = _worker._run("local_get_sync", "ours", 1_000, False)
    assert result == {"status": "error", "detail": "RuntimeError: bad response"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", (200, False)),
        (b"HTTP/1.1 500 Oops\r\nconnection: close\r\ncontent-length: 0\r\n\r\n", (500, True)),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"5\r\nhello\r\n0\r\n\r\n", (200, False)),
        (b"HTTP/1.1 204 No Content\r\n\r\n", (204, True)),
    ],
)  # fmt: skip
async def test_load_generator_reads_responses(raw: bytes, expected: tuple[int, bool]) -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(raw)
    reader.feed_eof()
    assert await read_response(reader) == expected


def test_load_generator_counts_only_after_warmup() -> None:
    tally = Tally(measure_from=10.0, stop_at=20.0, budget=100)
    tally.record(5.0, 200)
    tally.record(11.0, 200)
    tally.record(12.0, 503)
    tally.record(13.0, None)
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
