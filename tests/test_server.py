"""asgiref.server.StatelessServer.

``docs/server.rst``; D6, D16, D27, D29.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asgiref.server
from asgiref.server import StatelessServer
from asgiref.sync import iscoroutinefunction

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]


class Server(StatelessServer):
    """Records what applications send and reported exceptions; ``script`` is the handle()."""

    application_checker_interval = 0.001

    def __init__(
        self,
        application: Any,
        max_applications: int = 1000,
        script: Callable[[Server], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(application, max_applications)
        self.script = script
        self.sent: list[tuple[Any, Any]] = []
        self.reported: list[tuple[BaseException, dict[str, Any]]] = []

    async def handle(self) -> None:
        assert self.script is not None
        await self.script(self)

    async def application_send(self, scope: Any, message: Any) -> None:
        self.sent.append((scope, message))

    async def application_exception(
        self, exception: BaseException, application_details: dict[str, Any]
    ) -> None:
        self.reported.append((exception, application_details))


async def echo_app(scope: Any, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        await send({"echo": message, "user": scope["user"]})


async def idle_app(scope: Any, receive: Receive, send: Send) -> None:
    await asyncio.Event().wait()


async def until_empty(server: StatelessServer) -> None:
    """Yield to the loop until the checker has removed every instance."""
    while server.application_instances:
        await asyncio.sleep(0)


def test_constructor_arguments_are_positional_and_kept() -> None:
    server = StatelessServer(echo_app, 7)
    assert server.application is echo_app
    assert server.max_applications == 7
    assert server.application_instances == {}
    assert StatelessServer(echo_app).max_applications == 1000
    assert StatelessServer.application_checker_interval == 0.1


def test_module_logger_is_the_asgiref_server_logger() -> None:
    assert asgiref.server.logger is logging.getLogger("asgiref.server")


@pytest.mark.asyncio
async def test_base_class_handle_and_application_send_are_abstract() -> None:
    server = StatelessServer(echo_app)
    with pytest.raises(NotImplementedError, match=r"^You must implement handle\(\)"):
        await server.handle()
    with pytest.raises(NotImplementedError, match=r"^You must implement application_send\(\)"):
        await server.application_send({}, {})


@pytest.mark.asyncio
async def test_messages_flow_through_the_queue_and_application_send() -> None:
    server = Server(echo_app)
    queue = server.get_or_create_application_instance("alice", {"user": "alice"})
    assert isinstance(queue, asyncio.Queue)
    await queue.put({"text": "hi"})
    queue.put_nowait({"text": "again"})
    while len(server.sent) < 2:
        await asyncio.sleep(0)
    assert server.sent == [
        ({"user": "alice"}, {"echo": {"text": "hi"}, "user": "alice"}),
        ({"user": "alice"}, {"echo": {"text": "again"}, "user": "alice"}),
    ]
    details = server.application_instances["alice"]
    assert set(details) == {"input_queue", "future", "scope", "last_used"}
    assert details["input_queue"] is queue
    assert details["scope"] == {"user": "alice"}
    server.delete_application_instance("alice")


@pytest.mark.asyncio
async def test_existing_scope_id_returns_the_same_queue_and_refreshes_last_used() -> None:
    server = Server(idle_app)
    first = server.get_or_create_application_instance("a", {"n": 1})
    details = server.application_instances["a"]
    details["last_used"] = 0.0
    second = server.get_or_create_application_instance("a", {"n": 2})
    assert second is first
    assert details["last_used"] > 0.0
    assert details["scope"] == {"n": 1}
    server.delete_application_instance("a")


@pytest.mark.asyncio
async def test_application_is_called_synchronously_with_keyword_arguments() -> None:
    calls: list[dict[str, Any]] = []

    def recording_app(**kwargs: Any) -> Awaitable[None]:
        calls.append(kwargs)
        return idle_app(kwargs["scope"], kwargs["receive"], kwargs["send"])

    recording_app._asgi_single_callable = True  # type: ignore[attr-defined]  # ad hoc marker
    server = Server(recording_app)
    queue = server.get_or_create_application_instance("x", {"type": "channel"})
    assert len(calls) == 1  # before the task has run at all
    assert set(calls[0]) == {"scope", "receive", "send"}
    assert calls[0]["scope"] == {"type": "channel"}
    assert calls[0]["receive"] == queue.get
    server.delete_application_instance("x")


@pytest.mark.asyncio
async def test_send_is_a_coroutine_function_that_awaits_application_send() -> None:
    sends: list[Send] = []

    async def app(scope: Any, receive: Receive, send: Send) -> None:
        sends.append(send)
        await send({"type": "hello"})

    server = Server(app)
    server.get_or_create_application_instance("a", {"user": "a"})
    await server.application_instances["a"]["future"]
    assert iscoroutinefunction(sends[0])
    assert server.sent == [({"user": "a"}, {"type": "hello"})]
    server.delete_application_instance("a")


@pytest.mark.asyncio
async def test_application_with_other_parameter_names_raises_type_error() -> None:
    async def positional_names(s: Any, r: Receive, w: Send) -> None:
        pass

    server = Server(positional_names)
    with pytest.raises(TypeError):
        server.get_or_create_application_instance("x", {})


@pytest.mark.asyncio
async def test_CORE_08_asgi2_double_callable_applications_work() -> None:
    class Legacy:
        def __init__(self, scope: Any) -> None:
            self.scope = scope

        async def __call__(self, receive: Receive, send: Send) -> None:
            await send({"legacy": await receive(), "scope": self.scope})

    server = Server(Legacy)
    queue = server.get_or_create_application_instance("x", {"type": "channel"})
    await queue.put({"type": "ping"})
    await server.application_instances["x"]["future"]
    assert server.sent == [
        ({"type": "channel"}, {"legacy": {"type": "ping"}, "scope": {"type": "channel"}})
    ]


@pytest.mark.asyncio
async def test_D6_max_applications_is_a_true_cap() -> None:
    server = Server(idle_app, max_applications=3)
    futures = []
    for user in "abcde":
        server.get_or_create_application_instance(user, {})
        futures.append(server.application_instances[user]["future"])
        assert len(server.application_instances) <= 3
    assert list(server.application_instances) == ["c", "d", "e"]
    await asyncio.wait(futures[:2])
    assert futures[0].cancelled()
    assert futures[1].cancelled()
    for user in "cde":
        server.delete_application_instance(user)


@pytest.mark.asyncio
async def test_D6_the_least_recently_used_instance_is_evicted_first() -> None:
    server = Server(idle_app, max_applications=3)
    for user in "abc":
        server.get_or_create_application_instance(user, {})
    server.get_or_create_application_instance("a", {})  # a is now the most recent
    server.get_or_create_application_instance("d", {})
    assert set(server.application_instances) == {"a", "c", "d"}
    server.get_or_create_application_instance("e", {})
    assert set(server.application_instances) == {"a", "d", "e"}
    for user in "ade":
        server.delete_application_instance(user)


class RecordingDetails(dict[str, Any]):
    """A details dict that records which instances eviction looked at."""

    reads: ClassVar[list[str]] = []

    def __getitem__(self, key: str) -> Any:
        RecordingDetails.reads.append(dict.__getitem__(self, "scope")["user"])
        return dict.__getitem__(self, key)


@pytest.mark.asyncio
async def test_D6_eviction_does_not_scan_every_instance() -> None:
    server = Server(idle_app, max_applications=50)
    for number in range(50):
        server.get_or_create_application_instance(number, {"user": str(number)})
    for scope_id, details in list(server.application_instances.items()):
        server.application_instances[scope_id] = RecordingDetails(details)
    RecordingDetails.reads = []
    server.get_or_create_application_instance("new", {"user": "new"})
    assert 0 not in server.application_instances
    assert set(RecordingDetails.reads) == {"0"}  # only the evicted instance was touched
    for scope_id in list(server.application_instances):
        server.delete_application_instance(scope_id)


@pytest.mark.asyncio
async def test_max_applications_below_one_keeps_a_single_instance() -> None:
    server = Server(idle_app, max_applications=0)
    server.get_or_create_application_instance("a", {})
    server.get_or_create_application_instance("b", {})
    assert list(server.application_instances) == ["b"]
    server.delete_application_instance("b")


@pytest.mark.asyncio
async def test_eviction_stops_if_an_override_deletes_nothing() -> None:
    class Stubborn(Server):
        def delete_oldest_application_instance(self) -> None:
            pass

    server = Stubborn(idle_app, max_applications=1)
    server.get_or_create_application_instance("a", {})
    server.get_or_create_application_instance("b", {})
    assert set(server.application_instances) == {"a", "b"}
    for user in "ab":
        server.delete_application_instance(user)


@pytest.mark.asyncio
async def test_delete_application_instance_removes_and_cancels() -> None:
    server = Server(idle_app)
    server.get_or_create_application_instance("a", {})
    future = server.application_instances["a"]["future"]
    server.delete_application_instance("a")
    assert "a" not in server.application_instances
    await asyncio.wait({future})
    assert future.cancelled()
    with pytest.raises(KeyError):
        server.delete_application_instance("a")


@pytest.mark.asyncio
async def test_delete_application_instance_of_a_finished_instance_does_not_cancel() -> None:
    async def quick_app(scope: Any, receive: Receive, send: Send) -> None:
        pass

    server = Server(quick_app)
    server.get_or_create_application_instance("a", {})
    future = server.application_instances["a"]["future"]
    await future
    server.delete_application_instance("a")
    assert not future.cancelled()


@pytest.mark.asyncio
async def test_delete_oldest_application_instance() -> None:
    server = Server(idle_app)
    server.delete_oldest_application_instance()  # nothing to delete: no error
    for user in "abc":
        server.get_or_create_application_instance(user, {})
    server.get_or_create_application_instance("a", {})
    server.delete_oldest_application_instance()
    assert list(server.application_instances) == ["a", "c"]
    for user in "ac":
        server.delete_application_instance(user)


@pytest.mark.asyncio
async def test_delete_oldest_skips_ids_removed_behind_its_back_and_finds_foreign_ones() -> None:
    server = Server(idle_app)
    server.get_or_create_application_instance("a", {})
    details = server.application_instances.pop("a")  # removed without the server knowing
    details["future"].cancel()
    loop = asyncio.get_running_loop()
    for name, last_used in (("late", 20.0), ("early", 10.0)):
        server.application_instances[name] = {
            "input_queue": asyncio.Queue(),
            "future": loop.create_future(),
            "scope": {},
            "last_used": last_used,
        }
    server.delete_oldest_application_instance()
    assert list(server.application_instances) == ["late"]
    server.delete_application_instance("late")


@pytest.mark.asyncio
async def test_CORE_17_crashed_instance_is_reported_and_dropped_finished_ones_removed() -> None:
    async def crashing_app(scope: Any, receive: Receive, send: Send) -> None:
        message = await receive()
        if message == "crash":
            raise ValueError("boom")

    async def script(server: Server) -> None:
        server.get_or_create_application_instance("crash", {"user": "c"}).put_nowait("crash")
        server.get_or_create_application_instance("fine", {"user": "f"}).put_nowait("fine")
        await until_empty(server)

    server = Server(crashing_app, script=script)
    await server.arun()
    assert len(server.reported) == 1
    exception, details = server.reported[0]
    assert isinstance(exception, ValueError)
    assert details["scope"] == {"user": "c"}


@pytest.mark.asyncio
async def test_D16_cancelled_instance_is_removed_silently_and_the_server_keeps_running() -> None:
    async def script(server: Server) -> None:
        server.get_or_create_application_instance("doomed", {})
        server.application_instances["doomed"]["future"].cancel()
        await until_empty(server)
        queue = server.get_or_create_application_instance("alive", {"user": "alive"})
        await queue.put("still serving")
        while not server.sent:
            await asyncio.sleep(0)
        server.delete_application_instance("alive")

    server = Server(echo_app, script=script)
    await server.arun()
    assert server.reported == []
    assert server.sent == [({"user": "alive"}, {"echo": "still serving", "user": "alive"})]


@pytest.mark.asyncio
async def test_D16_app_that_cancels_itself_does_not_stop_the_server() -> None:
    async def self_cancelling(scope: Any, receive: Receive, send: Send) -> None:
        raise asyncio.CancelledError

    async def script(server: Server) -> None:
        server.get_or_create_application_instance("a", {})
        await until_empty(server)

    server = Server(self_cancelling, script=script)
    await server.arun()
    assert server.reported == []


@pytest.mark.asyncio
async def test_D29_default_application_exception_logs_to_asgiref_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Default(Server):
        application_exception = StatelessServer.application_exception

    async def crashing_app(scope: Any, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    async def script(server: Server) -> None:
        server.get_or_create_application_instance("a", {})
        await until_empty(server)

    caplog.set_level(logging.ERROR, logger="asgiref.server")
    await Default(crashing_app, script=script).arun()
    [record] = [r for r in caplog.records if r.name == "asgiref.server"]
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith("Exception inside application: boom")
    assert "Traceback (most recent call last)" in caplog.text
    assert "crashing_app" in caplog.text


@pytest.mark.asyncio
async def test_D27_arun_stops_the_checker_when_handle_returns() -> None:
    checker_tasks: list[asyncio.Task[Any]] = []

    class Tracking(Server):
        async def application_checker(self) -> None:
            task = asyncio.current_task()
            assert task is not None
            checker_tasks.append(task)
            await super().application_checker()

    async def script(server: Server) -> None:
        server.get_or_create_application_instance("left-running", {})
        while not checker_tasks:
            await asyncio.sleep(0)

    server = Tracking(idle_app, script=script)
    await server.arun()
    assert checker_tasks[0].done()
    assert checker_tasks[0].cancelled()
    instance = server.application_instances["left-running"]["future"]
    assert not instance.done()  # running instances are left alone
    server.delete_application_instance("left-running")


@pytest.mark.asyncio
async def test_arun_propagates_an_error_from_handle_and_stops_the_checker() -> None:
    checker_tasks: list[asyncio.Task[Any]] = []

    class Tracking(Server):
        async def application_checker(self) -> None:
            task = asyncio.current_task()
            assert task is not None
            checker_tasks.append(task)
            await super().application_checker()

    async def script(server: Server) -> None:
        while not checker_tasks:
            await asyncio.sleep(0)
        raise LookupError("handle failed")

    with pytest.raises(LookupError, match="handle failed"):
        await Tracking(idle_app, script=script).arun()
    assert checker_tasks[0].cancelled()


@pytest.mark.asyncio
async def test_arun_propagates_an_error_from_the_checker_and_stops_handle() -> None:
    handle_cancelled = asyncio.Event()

    class Failing(Server):
        async def application_exception(
            self, exception: BaseException, application_details: dict[str, Any]
        ) -> None:
            raise RuntimeError("reporting failed") from exception

    async def crashing_app(scope: Any, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    async def script(server: Server) -> None:
        server.get_or_create_application_instance("a", {})
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            handle_cancelled.set()
            raise

    with pytest.raises(RuntimeError, match="reporting failed"):
        await Failing(crashing_app, script=script).arun()
    assert handle_cancelled.is_set()


@pytest.mark.asyncio
async def test_arun_keeps_serving_if_an_overridden_checker_returns() -> None:
    class NoChecker(Server):
        async def application_checker(self) -> None:
            return

    async def script(server: Server) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        server.sent.append(("handle", "finished"))

    server = NoChecker(idle_app, script=script)
    await server.arun()
    assert server.sent == [("handle", "finished")]


@pytest.mark.asyncio
async def test_cancelling_arun_cancels_handle_and_checker() -> None:
    started = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []

    async def script(server: Server) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        started.set()
        await asyncio.Event().wait()

    runner = asyncio.ensure_future(Server(idle_app, script=script).arun())
    await started.wait()
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert tasks[0].cancelled()


def test_run_works_in_a_thread_without_an_event_loop() -> None:
    outcome: list[object] = []

    async def script(server: Server) -> None:
        queue = server.get_or_create_application_instance("t", {"user": "t"})
        await queue.put("from a thread")
        while not server.sent:
            await asyncio.sleep(0)
        outcome.append(threading.current_thread().name)
        server.delete_application_instance("t")

    server = Server(echo_app, script=script)
    thread = threading.Thread(target=server.run, name="server-thread")
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert outcome == ["server-thread"]
    assert server.sent == [({"user": "t"}, {"echo": "from a thread", "user": "t"})]


def test_run_logs_and_returns_on_keyboard_interrupt(caplog: pytest.LogCaptureFixture) -> None:
    async def script(server: Server) -> None:
        raise KeyboardInterrupt

    caplog.set_level(logging.INFO, logger="asgiref.server")
    Server(idle_app, script=script).run()
    records = [r for r in caplog.records if r.name == "asgiref.server"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "Exiting due to Ctrl-C/interrupt")
    ]


# The child sets its own SIGINT disposition: a shell without job control starts a
# background job (``scripts/test &``) with SIGINT ignored, a child inherits that, and
# Python leaves an inherited ignored SIGINT ignored; the signal mask is inherited too.
# The child also dumps its thread stacks and exits if it is still running after 30 s, so
# a hang explains itself instead of only timing out.
_SIGINT_CHILD_PRELUDE = """
import asyncio, faulthandler, logging, os, signal, sys
from asgiref.server import StatelessServer

faulthandler.dump_traceback_later(30, exit=True)
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(message)s")
if hasattr(signal, "pthread_sigmask"):
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
"""


def _run_sigint_child(body: str) -> subprocess.CompletedProcess[str]:
    code = _SIGINT_CHILD_PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(SIGINT) is not a Ctrl-C there")
def test_run_exits_quietly_on_a_real_sigint() -> None:
    result = _run_sigint_child(
        """
        signal.signal(signal.SIGINT, signal.default_int_handler)

        class Server(StatelessServer):
            async def handle(self):
                os.kill(os.getpid(), signal.SIGINT)
                await asyncio.Event().wait()

        Server(None).run()
        print("returned")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "asgiref.server Exiting due to Ctrl-C/interrupt",
        "returned",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(SIGINT) is not a Ctrl-C there")
def test_run_leaves_an_ignored_sigint_ignored() -> None:
    result = _run_sigint_child(
        """
        signal.signal(signal.SIGINT, signal.SIG_IGN)

        class Server(StatelessServer):
            async def handle(self):
                os.kill(os.getpid(), signal.SIGINT)
                await asyncio.sleep(0.2)  # the signal, were it delivered, arrives here

        Server(None).run()
        print("returned", signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["returned True"]


def test_run_propagates_other_errors() -> None:
    async def script(server: Server) -> None:
        raise LookupError("no")

    with pytest.raises(LookupError):
        Server(idle_app, script=script).run()


def test_scope_ids_may_be_any_hashable() -> None:
    key: Hashable = ("channel", 1)

    async def script(server: Server) -> None:
        server.get_or_create_application_instance(key, {})
        assert key in server.application_instances
        server.delete_application_instance(key)

    Server(idle_app, script=script).run()


@pytest.mark.asyncio
async def test_checker_copes_with_instances_deleted_while_it_reports() -> None:
    class Deleting(Server):
        async def application_exception(
            self, exception: BaseException, application_details: dict[str, Any]
        ) -> None:
            await super().application_exception(exception, application_details)
            for other in ("a", "b"):  # delete the other crashed one before it is reached
                details = self.application_instances.get(other)
                if details is not None and details["future"].done():
                    self.delete_application_instance(other)

    async def crash_on_message(scope: Any, receive: Receive, send: Send) -> None:
        if await receive() == "crash":
            raise ValueError(scope["user"])

    async def script(server: Server) -> None:
        server.get_or_create_application_instance("running", {"user": "running"})
        first = server.get_or_create_application_instance("a", {"user": "a"})
        second = server.get_or_create_application_instance("b", {"user": "b"})
        first.put_nowait("crash")
        second.put_nowait("crash")
        while len(server.reported) < 2:
            await asyncio.sleep(0)
        assert list(server.application_instances) == ["running"]
        server.delete_application_instance("running")

    server = Deleting(crash_on_message, script=script)
    await server.arun()
    assert sorted(str(exception) for exception, _ in server.reported) == ["a", "b"]


@settings(max_examples=60, deadline=None)
@given(
    max_applications=st.integers(min_value=1, max_value=5),
    operations=st.lists(
        st.tuples(st.sampled_from(["use", "delete"]), st.integers(min_value=0, max_value=7)),
        max_size=40,
    ),
)
def test_D6_eviction_matches_an_lru_model(
    max_applications: int, operations: list[tuple[str, int]]
) -> None:
    async def scenario() -> None:
        server = Server(idle_app, max_applications=max_applications)
        model: OrderedDict[int, None] = OrderedDict()
        for operation, scope_id in operations:
            if operation == "use":
                if scope_id not in model and len(model) >= max_applications:
                    model.popitem(last=False)
                model[scope_id] = None
                model.move_to_end(scope_id)
                server.get_or_create_application_instance(scope_id, {})
            elif scope_id in model:
                del model[scope_id]
                server.delete_application_instance(scope_id)
            assert len(server.application_instances) <= max_applications
            assert set(server.application_instances) == set(model)
        futures = [details["future"] for details in server.application_instances.values()]
        for remaining_id in list(server.application_instances):
            server.delete_application_instance(remaining_id)
        if futures:
            await asyncio.wait(futures)

    asyncio.run(scenario())
