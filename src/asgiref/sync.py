"""Bridges between sync and async code: ``sync_to_async`` and ``async_to_sync``.

See :doc:`/sync` for the API and :doc:`/where-code-runs` for which thread runs what.
Importing this module starts no thread and creates no event loop.  ``CurrentThreadExecutor``
and ``Local`` are importable from here too, as in asgiref (not in ``__all__``).
"""

from asgiref._async_to_sync import AsyncToSync, async_to_sync
from asgiref._coroutines import iscoroutinefunction, markcoroutinefunction
from asgiref._current_thread_executor import CurrentThreadExecutor as CurrentThreadExecutor
from asgiref._sync_contexts import AsyncSingleThreadContext, ThreadSensitiveContext
from asgiref._sync_to_async import SyncToAsync, sync_to_async
from asgiref.local import Local as Local

__all__ = [
    "AsyncSingleThreadContext",
    "AsyncToSync",
    "SyncToAsync",
    "ThreadSensitiveContext",
    "async_to_sync",
    "iscoroutinefunction",
    "markcoroutinefunction",
    "sync_to_async",
]
