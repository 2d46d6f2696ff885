"""``asgiref.validation``: the corpus of broken apps and servers, each caught with its rule
id, and the same kinds of well-formed traffic passing with zero violations."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from asgiref.validation import (
    RULES,
    ASGIValidationError,
    ASGIValidationWarning,
    Side,
    validate,
)
from validation_corpus import (
    BAD_APPS,
    BAD_SERVERS,
    GOOD_APPS,
    GOOD_SERVERS,
    RECV,
    AppCase,
    ServerCase,
    http_scope,
    run_case,
    script_app,
    sent_steps,
)


def _app_id(case: AppCase) -> str:
    return case.rule


class Collector:
    """An ``on_violation`` callable that keeps every violation."""

    def __init__(self) -> None:
        self.errors: list[ASGIValidationError] = []

    def __call__(self, error: ASGIValidationError) -> None:
        self.errors.append(error)

    @property
    def rules(self) -> list[str]:
        return [error.rule for error in self.errors]


def test_corpus_has_at_least_40_broken_apps_and_15_broken_servers() -> None:
    assert len(BAD_APPS) >= 40
    assert len(BAD_SERVERS) >= 15


def test_every_rule_is_caught_by_a_corpus_case_of_the_side_it_binds() -> None:
    app_rules = {case.rule for case in BAD_APPS}
    server_rules = {case.rule for case in BAD_SERVERS}
    assert app_rules | server_rules == set(RULES)
    assert {RULES[rule].side for rule in app_rules} == {Side.APP}
    assert {RULES[rule].side for rule in server_rules} == {Side.SERVER}


def test_rule_ids_are_stable_in_form_and_documented() -> None:
    for rule_id, rule in RULES.items():
        assert re.fullmatch(r"[A-Z]+(-[A-Z]+)?-\d{3}", rule_id), rule_id
        assert rule.id == rule_id
        assert rule.summary
        assert rule.spec.endswith(".")


@pytest.mark.parametrize("case", BAD_APPS, ids=_app_id)
@pytest.mark.asyncio
async def test_broken_app_raises_its_rule_out_of_send(case: AppCase) -> None:
    app = validate(script_app(case.script))
    with pytest.raises(ASGIValidationError) as info:
        await run_case(app, case.scope, case.inputs)
    assert info.value.rule == case.rule, str(info.value)


@pytest.mark.parametrize("case", BAD_APPS, ids=_app_id)
@pytest.mark.asyncio
async def test_broken_app_reported_to_a_callable_runs_to_its_end(case: AppCase) -> None:
    collector = Collector()
    app = validate(script_app(case.script), on_violation=collector)
    sent = await run_case(app, case.scope, case.inputs)
    assert collector.rules[0] == case.rule
    assert len(sent) == len(sent_steps(case.script))


@pytest.mark.parametrize("case", BAD_SERVERS, ids=lambda case: case.rule)
@pytest.mark.asyncio
async def test_broken_server_raises_its_rule(case: ServerCase) -> None:
    app = validate(script_app(case.script, serve_lifespan=case.lifespan is not None))
    with pytest.raises(ASGIValidationError) as info:
        await run_case(app, case.scope, case.inputs, case.lifespan)
    assert info.value.rule == case.rule, str(info.value)


async def _serve_collecting(case: ServerCase) -> Collector:
    """Run ``case``'s server side against its scripted app; return what was reported."""
    collector = Collector()
    app = script_app(case.script, serve_lifespan=case.lifespan is not None)
    await run_case(validate(app, on_violation=collector), case.scope, case.inputs, case.lifespan)
    return collector


@pytest.mark.parametrize("case", BAD_SERVERS, ids=lambda case: case.rule)
@pytest.mark.asyncio
async def test_broken_server_reported_to_a_callable(case: ServerCase) -> None:
    collector = await _serve_collecting(case)
    assert collector.rules[0] == case.rule


@pytest.mark.parametrize("case", GOOD_APPS)
@pytest.mark.asyncio
async def test_well_formed_app_passes_verbatim(case: AppCase) -> None:
    collector = Collector()
    app = validate(script_app(case.script), on_violation=collector)
    sent = await run_case(app, case.scope, case.inputs)
    assert collector.rules == []
    expected = sent_steps(case.script)
    assert len(sent) == len(expected)
    assert all(got is want for got, want in zip(sent, expected, strict=True))


@pytest.mark.parametrize("case", GOOD_SERVERS)
@pytest.mark.asyncio
async def test_well_formed_server_passes(case: ServerCase) -> None:
    collector = await _serve_collecting(case)
    assert collector.rules == []


@pytest.mark.asyncio
async def test_warn_mode_issues_a_warning_and_forwards_the_event() -> None:
    body = {"type": "http.response.body"}
    script = [RECV, body, {"type": "http.response.start", "status": 200}, body]
    app = validate(script_app(script), on_violation="warn")
    with pytest.warns(ASGIValidationWarning, match="HTTP-SEND-003") as record:
        sent = await run_case(app, http_scope(), [{"type": "http.request"}])
    assert sent[0] is body
    assert len(record) == 1
    warning = record[0].message
    assert isinstance(warning, ASGIValidationWarning)
    assert warning.rule == "HTTP-SEND-003"
    assert warning.error.detail == {"type": "http.response.body"}


@pytest.mark.parametrize(("value", "error"), [("ignore", ValueError), (3, TypeError)])
def test_unknown_on_violation_is_refused_naming_the_choices(
    value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"on_violation=.*pass 'raise', 'warn' or a callable"):
        validate(script_app([]), on_violation=value)


def test_error_text_names_the_rule_the_fix_and_the_culprit() -> None:
    error = ASGIValidationError("HTTP-SEND-013", "body must be bytes", "x" * 500)
    assert error.args == ("HTTP-SEND-013", "body must be bytes", "x" * 500)
    assert str(error).startswith("HTTP-SEND-013: body must be bytes (got 'xxx")
    assert len(str(error)) < 200


def test_validate_keeps_the_app_reachable() -> None:
    inner = script_app([])
    app = validate(inner)
    assert app.__wrapped__ is inner
    assert repr(app) == f"validate({inner!r})"


@pytest.mark.asyncio
async def test_asgi2_double_callable_is_accepted() -> None:
    class Legacy:
        def __init__(self, scope: Any) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            await receive()
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body"})

    sent = await run_case(validate(Legacy), http_scope(), [{"type": "http.request"}])
    assert [event["type"] for event in sent] == ["http.response.start", "http.response.body"]


@pytest.mark.asyncio
async def test_one_shot_header_iterables_are_forwarded_as_lists() -> None:
    start = {"type": "http.response.start", "status": 200, "headers": iter([(b"a", b"1")])}
    app = validate(script_app([RECV, start, {"type": "http.response.body"}]))
    sent = await run_case(app, http_scope(), [{"type": "http.request"}])
    assert sent[0]["headers"] == [(b"a", b"1")]
    seen: list[Any] = []

    async def record(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["headers"])
        await script_app(
            [RECV, {"type": "http.response.start", "status": 204}, {"type": "http.response.body"}]
        )(scope, receive, send)

    await run_case(validate(record), http_scope(headers=iter([(b"host", b"h")])), [])
    assert seen == [[(b"host", b"h")]]


@pytest.mark.asyncio
async def test_send_raising_oserror_means_the_client_left_so_an_unfinished_response_is_fine() -> (
    None
):
    class Gone(OSError):
        pass

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200})
        try:
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
        except Gone:
            return

    calls = 0

    async def send(message: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Gone

    async def receive() -> Any:
        return {"type": "http.request"}

    await validate(app)(http_scope(), receive, send)

    async def crashing(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200})

    calls = 1
    with pytest.raises(Gone):
        await validate(crashing)(http_scope(), receive, send)


@pytest.mark.asyncio
async def test_an_app_exception_propagates_without_a_violation() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("boom")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyError):
            await run_case(validate(app, on_violation="warn"), http_scope(), [])


def test_docs_rule_table_lists_every_rule_in_order() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "validation.rst").read_text()
    listed = re.findall(r"^   \* - ``([A-Z-]+\d{3})``$", page, flags=re.MULTILINE)
    assert listed == list(RULES)


def test_docs_rule_table_rows_agree_with_rules() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "validation.rst").read_text()
    rows = re.findall(
        r"^   \* - ``([A-Z-]+\d{3})``\n     - (\w+)\n     - (.+)\n     - (.+)$",
        page,
        flags=re.MULTILINE,
    )

    def unescape(text: str) -> str:
        return re.sub(r"\\([*`|])", r"\1", text)

    documented = [
        (rule, side, unescape(summary), unescape(spec)) for rule, side, summary, spec in rows
    ]
    assert documented == [
        (rule.id, rule.side.value, rule.summary, rule.spec) for rule in RULES.values()
    ]


@pytest.mark.asyncio
async def test_header_name_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from asgiref._validation import _values

    monkeypatch.setattr(_values, "_KNOWN_NAMES_LIMIT", 0)
    start = {"type": "http.response.start", "status": 200, "headers": [(b"x-never-cached", b"1")]}
    app = validate(script_app([RECV, start, {"type": "http.response.body"}]))
    await run_case(app, http_scope(), [{"type": "http.request"}])
    assert b"x-never-cached" not in _values._KNOWN_NAMES
