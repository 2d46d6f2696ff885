"""``CurrentThreadExecutor``: run work items on a thread that is blocked waiting.

A bridge (``AsyncToSync`` call) blocks its sync thread *T* until the coroutine it
runs is done.  While blocked, *T* serves the work items that thread-sensitive
``sync_to_async`` calls send back to it.  Executors of nested bridges on the same
thread form a chain through ``old_executor``: once an inner bridge has returned, its
executor is *finished* and new items go to the nearest unfinished one.

Guarantees: ``_enqueue`` never puts an item on a finished executor (the check and the
put happen under the executor's lock, and ``_finished`` is set under the same lock).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Final, TypeVar

from asgiref import _threads

__all__ = ["OWN_THREAD_MESSAGE", "CurrentThreadExecutor"]

_T = TypeVar("_T")


def _done() -> None:
    """Sentinel put on the queue when the awaited work is done (never called)."""


_DONE: Final[Callable[[], object]] = _done

_ALREADY_QUIT: Final = "CurrentThreadExecutor already quit or is broken"

#: asgiref's text for work sent to an executor from its own thread; the bridges reuse it
#: for a thread-sensitive call made on the thread that serves its bridge
#: (:ref:`ts-bridge-own-thread`).
OWN_THREAD_MESSAGE: Final = "You cannot submit onto CurrentThreadExecutor from its own thread"


class _WorkItem:
    """One ``submit()`` call: the function and the future that receives its outcome."""

    __slots__ = ("args", "fn", "future", "kwargs")

    def __init__(
        self,
        future: Future[Any],
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.future = future
        self.fn = fn
        self.args = args
        self.kwargs = kwargs

    def __call__(self) -> None:
        """Run the function, unless its future was cancelled first.

        Runs in: the executor's own (blocked) thread.
        """
        __traceback_hide__ = True
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


class CurrentThreadExecutor(Executor):
    """An executor that runs work items on the thread that created it.

    The creating thread calls :meth:`run_until_future` and is blocked there, running
    the items other threads :meth:`submit`, until the future it waits for is done.

    Args:
        old_executor: The executor of an enclosing bridge on the same thread, or
            ``None``.  Items submitted after this executor finished go there.

    Thread rules: ``_finished`` is guarded by ``_lock``; the queue is thread-safe.
    """

    def __init__(self, old_executor: CurrentThreadExecutor | None) -> None:
        self._owner = threading.get_ident()
        self._old_executor = old_executor
        self._generation = _threads.generation()
        self._queue: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._finished = False  # guarded by _lock

    def run_until_future(self, future: Future[Any]) -> None:
        """Run submitted work items on this thread until ``future`` is done.

        Returns once ``future`` is done and every item queued before that has run;
        from then on the executor is finished.

        Runs in: the thread that created the executor.

        Args:
            future: The future to wait for.

        Raises:
            RuntimeError: When called from another thread.
        """
        if threading.get_ident() != self._owner:
            raise RuntimeError(
                "You cannot run CurrentThreadExecutor from a different thread; "
                f"{self!r} belongs to thread {self._owner}"
            )
        future.add_done_callback(lambda _: self.signal_done())
        self.serve()

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Queue ``fn(*args, **kwargs)`` to run on the executor's thread.

        Args:
            fn: The callable.
            *args: Positional arguments for ``fn``.
            **kwargs: Keyword arguments for ``fn``.

        Returns:
            A future with ``fn``'s outcome (any exception, ``BaseException`` included).

        Raises:
            RuntimeError: When called from the executor's own thread, or when this
                executor and every executor in its ``old_executor`` chain finished.
        """
        if threading.get_ident() == self._owner:
            raise RuntimeError(f"{OWN_THREAD_MESSAGE}; call the function directly instead")
        future: Future[_T] = Future()
        if not self.enqueue(_WorkItem(future, fn, args, kwargs)):
            raise RuntimeError(
                f"{_ALREADY_QUIT}; {self!r} and the executors it falls back to have finished"
            )
        return future

    # Private API used by the bridges (asgiref._async_to_sync / asgiref._sync_to_async).

    def enqueue(self, item: Callable[[], object]) -> bool:
        """Queue ``item`` here or on the nearest unfinished executor of the chain.

        Returns:
            ``False`` when every executor of the chain finished (nothing was queued),
            or when the executors belong to a process before ``os.fork()``.

        Runs in: any thread other than the owner.
        """
        executor: CurrentThreadExecutor | None = self
        if self._generation != _threads.generation():  # pragma: no cover - forked child only
            return False
        while executor is not None:
            with executor._lock:
                if not executor._finished:
                    executor._queue.put(item)
                    return True
            executor = executor._old_executor
        return False

    def owned_by_current_thread(self) -> bool:
        """Return whether the calling thread is the executor's own thread."""
        return threading.get_ident() == self._owner

    def signal_done(self) -> None:
        """Tell :meth:`serve` that the awaited work is done.  Runs in: any thread."""
        self._queue.put(_DONE)

    def serve(self) -> None:
        """Run queued items until :meth:`signal_done`, then drain and finish.

        Runs in: the owner thread, which is blocked here.
        """
        __traceback_hide__ = True
        get = self._queue.get
        while (item := get()) is not _DONE:
            item()
        with self._lock:
            self._finished = True
        empty = self._queue.empty
        while not empty():  # only this thread takes items: empty() is reliable here
            get()()  # _DONE is queued once, so only work items are left

    @property
    def old_executor(self) -> CurrentThreadExecutor | None:
        """The enclosing bridge's executor on the same thread, if any."""
        return self._old_executor
