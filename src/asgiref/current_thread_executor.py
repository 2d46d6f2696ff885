"""An executor that runs work on the thread blocked waiting for it.

Used by ``async_to_sync``: while the calling sync thread waits for the coroutine, it
runs the thread-sensitive sync work the coroutine sends back to it.
"""

from asgiref._current_thread_executor import CurrentThreadExecutor

__all__ = ["CurrentThreadExecutor"]
