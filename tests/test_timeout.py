"""asgiref.timeout.timeout, the deprecated shim (``docs/timeout.rst``; D22)."""

from __future__ import annotations

import asyncio
import contextlib
import warnings

import pytest

from asgiref.timeout import timeout

DEPRECATED = r"^asgiref\.timeout\.timeout is deprecated\. Use asyncio\.timeout\(\) instead\."
EITHER = r"^(asgiref\.timeout\.timeout|The loop argument to timeout\(\)) is deprecated\."


def make(delay: float | None) -> timeout:
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        return timeout(delay)


@pytest.mark.asyncio
async def test_construction_warns_and_the_warning_points_at_the_caller() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        timeout(1)
    [warning] = caught
    assert warning.category is DeprecationWarning
    assert str(warning.message).startswith(
        "asgiref.timeout.timeout is deprecated. Use asyncio.timeout() instead."
    )
    assert warning.filename == __file__


def test_loop_argument_warns_twice_both_attributed_to_the_caller() -> None:
    loop = asyncio.new_event_loop()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            timeout(1, loop=loop)
    finally:
        loop.close()
    messages = [str(w.message) for w in caught]
    assert messages[0].startswith("asgiref.timeout.timeout is deprecated.")
    assert messages[1].startswith("The loop argument to timeout() is deprecated.")
    assert all(w.category is DeprecationWarning and w.filename == __file__ for w in caught)


def test_without_loop_a_running_loop_is_required() -> None:
    with pytest.warns(DeprecationWarning, match=DEPRECATED), pytest.raises(RuntimeError):
        timeout(1)


@pytest.mark.asyncio
async def test_async_with_raises_timeout_error_at_the_deadline() -> None:
    limit = make(0.05)
    with pytest.raises(TimeoutError):
        async with limit:
            await asyncio.Event().wait()
    assert limit.expired is True
    assert limit.remaining == 0.0


@pytest.mark.asyncio
async def test_plain_with_works_inside_a_coroutine() -> None:
    limit = make(0.05)
    with pytest.raises(TimeoutError), limit:
        await asyncio.Event().wait()
    assert limit.expired is True


@pytest.mark.asyncio
async def test_block_that_finishes_in_time_is_untouched() -> None:
    limit = make(30)
    async with limit as entered:
        assert entered is limit
        remaining = limit.remaining
        assert remaining is not None
        assert 0 < remaining <= 30
        await asyncio.sleep(0)
    assert limit.expired is False
    with limit:
        pass
    assert limit.expired is False


@pytest.mark.asyncio
async def test_remaining_is_none_before_entering_and_for_zero_timeouts() -> None:
    fresh = make(30)
    assert fresh.remaining is None
    assert fresh.expired is False
    limit = make(0)
    with limit:
        assert limit.remaining is None  # as in asgiref
    assert limit.expired is False  # left before the next loop iteration


@pytest.mark.asyncio
async def test_remaining_keeps_counting_down_after_the_block() -> None:
    limit = make(30)
    with limit:
        pass
    remaining = limit.remaining
    assert remaining is not None
    assert 0 < remaining <= 30


@pytest.mark.asyncio
async def test_zero_or_negative_timeout_cancels_at_the_next_iteration() -> None:
    for delay in (0, -1):
        limit = make(delay)
        reached: list[str] = []

        async def block(limit: timeout = limit, reached: list[str] = reached) -> None:
            async with limit:
                await asyncio.sleep(0)
                reached.append("after the first iteration")

        with pytest.raises(TimeoutError):
            await block()
        assert limit.expired is True
        assert reached == []


@pytest.mark.asyncio
async def test_none_is_a_no_op() -> None:
    limit = make(None)
    async with limit:
        await asyncio.sleep(0)
    assert limit.remaining is None
    assert limit.expired is False


def test_none_is_a_no_op_even_outside_a_task() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.warns(DeprecationWarning, match=EITHER):
            limit = timeout(None, loop=loop)
        with limit:
            pass
    finally:
        loop.close()


def test_outside_a_task_raises_runtime_error() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.warns(DeprecationWarning, match=EITHER):
            limit = timeout(1, loop=loop)
        with (
            pytest.raises(
                RuntimeError, match=r"^Timeout context manager should be used inside a task"
            ),
            limit,
        ):
            pass
    finally:
        loop.close()


@pytest.mark.asyncio
async def test_D22_timeout_uncancels_the_task() -> None:
    task = asyncio.current_task()
    assert task is not None
    before = task.cancelling()
    with pytest.raises(TimeoutError):
        async with make(0.01):
            await asyncio.Event().wait()
    assert task.cancelling() == before
    await asyncio.sleep(0)  # a leftover cancellation would be delivered here


@pytest.mark.asyncio
async def test_D22_nested_asyncio_timeout_still_works_after_the_shim_fired() -> None:
    with pytest.raises(TimeoutError):
        async with make(0.01):
            await asyncio.Event().wait()
    # asyncio.timeout only converts when no other cancellation is outstanding.
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await asyncio.Event().wait()


@pytest.mark.asyncio
async def test_D22_an_outside_cancellation_is_not_turned_into_timeout_error() -> None:
    started = asyncio.Event()

    async def victim() -> None:
        async with make(0.01):
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                # The deadline fired; now someone else cancels the task too.
                task = asyncio.current_task()
                assert task is not None
                task.cancel()
                raise

    task = asyncio.ensure_future(victim())
    await started.wait()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.asyncio
async def test_D22_block_that_swallows_the_cancellation_leaves_no_pending_cancel() -> None:
    task = asyncio.current_task()
    assert task is not None
    before = task.cancelling()
    limit = make(0.01)
    async with limit:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()
    assert limit.expired is True
    assert task.cancelling() == before


@pytest.mark.asyncio
async def test_other_exceptions_pass_through() -> None:
    limit = make(30)
    with pytest.raises(LookupError):
        async with limit:
            raise LookupError("inner")
    assert limit.expired is False
