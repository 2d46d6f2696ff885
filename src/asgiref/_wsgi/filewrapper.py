"""``wsgi.file_wrapper`` (PEP 3333 optional extension) and its ``pathsend`` shortcut."""

from __future__ import annotations

import os
import stat
from typing import IO, Any

__all__ = ["FileWrapper", "pathsend_path"]


class FileWrapper:
    """The ``environ["wsgi.file_wrapper"]`` callable: wrap a file-like object for sending.

    The result is an iterable of blocks read with ``filelike.read(block_size)``; its
    ``close()`` closes the file.  When the ASGI server offers the
    ``http.response.pathsend`` extension and the file is a regular file on disk, the
    adapter sends its path instead of reading it (see ``docs/wsgi.rst``).

    Args:
        filelike: An object with ``read(size)``; ``close()`` is used if present.
        block_size: Size of the blocks read when the file is streamed.
    """

    def __init__(self, filelike: IO[bytes] | Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> FileWrapper:
        return self

    def __next__(self) -> bytes:
        data: bytes = self.filelike.read(self.block_size)
        if data:
            return data
        raise StopIteration

    def close(self) -> None:
        """Close the wrapped file, if it has a ``close()`` method."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


def pathsend_path(wrapper: FileWrapper) -> tuple[str, int] | None:
    """Return ``(absolute path, remaining size)`` if the wrapped file can go by path.

    That is the case for a regular file, opened by name, whose descriptor still
    refers to the file at that path and which is positioned at its start.

    Runs in: the WSGI worker thread (it makes ``stat`` calls).
    """
    filelike = wrapper.filelike
    name = getattr(filelike, "name", None)
    if not isinstance(name, str):
        return None
    try:
        info = os.fstat(filelike.fileno())
        if not stat.S_ISREG(info.st_mode) or filelike.tell() != 0:
            return None
        path = os.path.abspath(name)
        on_disk = os.stat(path)
    except (AttributeError, OSError, ValueError):
        return None
    if (on_disk.st_dev, on_disk.st_ino) != (info.st_dev, info.st_ino):
        return None
    return path, info.st_size
