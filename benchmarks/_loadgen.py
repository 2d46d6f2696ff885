"""A bounded HTTP/1.1 keep-alive load generator for 127.0.0.1; runs as a subprocess.

Usage: ``python -m benchmarks._loadgen PORT [--path /] [--connections 16] [--warmup 0.5]
[--seconds 3] [--max-requests 500000]``. Each connection sends ``GET`` requests one after
another on one keep-alive socket (reconnecting when the server closes it) until the time is
up or the request budget is spent. Only responses completed inside the measured window
(after the warm-up, before the end) count. Prints one JSON object: ``{"ok": 2xx, "non2xx":
n, "errors": n, "seconds": s, "rps": r, "statuses": {...}}``; ``rps`` counts 2xx responses
only.

The client must not be what is measured. It is one thread with non-blocking sockets and a
``selectors`` loop, and it reacts to a complete response at once: a connection the server
closes is closed here before anything else is done, because a server with a lingering
close (gunicorn's sync worker, which waits for the client's FIN before it accepts the next
connection) has the client's reaction on the critical path of every request. The asyncio
streams client this replaces spent about 290 µs of CPU per such request, more than
gunicorn spent serving a plain WSGI hello (about 185 µs), and every server figure behind
gunicorn was mostly the client's.

Only loopback is ever contacted: the host is fixed to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import errno
import json
import selectors
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

__all__ = ["HOST", "Tally", "main", "parse_response", "run"]

HOST: Final = "127.0.0.1"
#: Seconds one response may take before the exchange counts as failed.
RESPONSE_TIMEOUT: Final = 10.0
#: Seconds a connection waits before reconnecting after a failed exchange.
BACKOFF: Final = 0.01
#: Largest response head accepted (a bigger one is a failed exchange).
MAX_HEAD: Final = 64 * 1024
_NO_BODY: Final = frozenset({204, 304})


@dataclass
class Tally:
    """Counts shared by all connections (one thread: no lock needed)."""

    measure_from: float
    stop_at: float
    budget: int
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    sent: int = 0

    def record(self, now: float, status: int | None) -> None:
        """Count a finished response (``None``: the exchange failed) if in the window."""
        if now < self.measure_from or now >= self.stop_at:
            return
        if status is None:
            self.errors += 1
        else:
            self.statuses[status] += 1


def parse_response(data: bytes | bytearray, eof: bool) -> tuple[int, bool, int] | None:
    """Parse the first HTTP/1.1 response in ``data``.

    Args:
        data: What the connection received since the previous response.
        eof: The server closed its side (a body without a length ends here).

    Returns:
        ``(status, server_will_close, end)`` with ``end`` the index after the response,
        or ``None`` while the response is incomplete.

    Raises:
        ValueError: The response is malformed, its head exceeds :data:`MAX_HEAD`, or the
            server closed the connection (``eof``) before the response was complete.
    """
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        if eof or len(data) > MAX_HEAD:
            raise ValueError(f"incomplete or oversized response head: {bytes(data[:80])!r}")
        return None
    lines = bytes(data[:head_end]).split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length: int | None = None
    chunked = close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            close = value == b"close"
    body = head_end + 4
    if chunked:
        end = _chunked_end(data, body)
    elif length is not None:
        end = body + length if len(data) >= body + length else None
    elif status in _NO_BODY or 100 <= status < 200:
        end = body
    else:  # no length: the body runs to the end of the connection
        return (status, True, len(data)) if eof else None
    if end is None and eof:
        raise ValueError(f"the server closed the connection inside a {status} response body")
    return None if end is None else (status, close, end)


def _chunked_end(data: bytes | bytearray, pos: int) -> int | None:
    """Return the index after a chunked body starting at ``pos``, or ``None`` if incomplete."""
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(data[pos:line_end]).split(b";")[0], 16)
        pos = line_end + 2
        if size == 0:  # trailers, then an empty line
            while True:
                line_end = data.find(b"\r\n", pos)
                if line_end < 0:
                    return None
                if line_end == pos:
                    return pos + 2
                pos = line_end + 2
        if len(data) < pos + size + 2:
            return None
        pos += size + 2


class _Connection:
    """One client connection: connect, send a GET, read its response, repeat."""

    __slots__ = ("buffer", "deadline", "retry_at", "sock")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.deadline = 0.0  # when the pending exchange fails
        self.retry_at = 0.0  # when a backed-off connection may reconnect


class _Client:
    """The selector loop driving every connection."""

    def __init__(self, port: int, path: str, tally: Tally) -> None:
        self.port = port
        self.request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
        self.tally = tally
        self.selector = selectors.DefaultSelector()
        self.resting: list[_Connection] = []  # backed off after a failure

    def may_send(self) -> bool:
        tally = self.tally
        return time.monotonic() < tally.stop_at and tally.sent < tally.budget

    def connect(self, conn: _Connection) -> None:
        """Open a new socket for ``conn`` and send its request when connected."""
        sock = conn.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.buffer.clear()
        conn.deadline = time.monotonic() + RESPONSE_TIMEOUT
        code = sock.connect_ex((HOST, self.port))
        if code in (errno.EINPROGRESS, errno.EWOULDBLOCK) and self._connected(sock):
            code = 0  # on loopback the handshake is usually done already
        if code == 0:
            self.selector.register(sock, selectors.EVENT_READ, conn)
            self.send(conn)
        elif code in (errno.EINPROGRESS, errno.EWOULDBLOCK):
            self.selector.register(sock, selectors.EVENT_WRITE, conn)
        else:
            sock.close()
            conn.sock = None
            self.fail(conn)

    @staticmethod
    def _connected(sock: socket.socket) -> bool:
        """Tell whether a non-blocking connect in progress has finished successfully."""
        try:
            sock.getpeername()
        except OSError:  # ENOTCONN: still connecting (or failed: SO_ERROR tells later)
            return False
        return True

    def send(self, conn: _Connection) -> None:
        assert conn.sock is not None
        self.tally.sent += 1
        conn.deadline = time.monotonic() + RESPONSE_TIMEOUT
        try:
            conn.sock.sendall(self.request)  # a few dozen bytes: never blocks
        except OSError:
            self.fail(conn)

    def drop(self, conn: _Connection) -> None:
        """Close ``conn``'s socket (the server's FIN is answered at once)."""
        sock, conn.sock = conn.sock, None
        if sock is not None:
            self.selector.unregister(sock)
            sock.close()

    def fail(self, conn: _Connection) -> None:
        self.tally.record(time.monotonic(), None)
        self.drop(conn)
        conn.retry_at = time.monotonic() + BACKOFF  # a dead server must not make this spin
        self.resting.append(conn)

    def on_writable(self, conn: _Connection) -> None:
        """The non-blocking connect finished (or failed)."""
        assert conn.sock is not None
        if conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            self.fail(conn)
            return
        self.selector.modify(conn.sock, selectors.EVENT_READ, conn)
        self.send(conn)

    def on_readable(self, conn: _Connection) -> None:
        assert conn.sock is not None
        try:
            data = conn.sock.recv(65536)
        except OSError:
            self.fail(conn)
            return
        conn.buffer += data
        try:
            parsed = parse_response(conn.buffer, eof=not data)
        except ValueError:
            self.fail(conn)
            return
        if parsed is None:
            return
        status, close, end = parsed
        closed = close or not data
        if closed:
            self.drop(conn)  # first: the server may be waiting for this FIN
        self.tally.record(time.monotonic(), status)
        del conn.buffer[:end]
        if not self.may_send():
            self.drop(conn)
        elif closed:
            self.connect(conn)
        else:
            self.send(conn)

    def expire(self, now: float) -> None:
        """Fail exchanges past their deadline; reconnect rested connections."""
        for key in list(self.selector.get_map().values()):
            conn: _Connection = key.data
            if now >= conn.deadline:
                self.fail(conn)
        waking = [conn for conn in self.resting if now >= conn.retry_at]
        self.resting = [conn for conn in self.resting if now < conn.retry_at]
        for conn in waking:
            if self.may_send():
                self.connect(conn)

    def run(self, connections: int) -> None:
        """Drive the connections until the time is up or the budget is spent."""
        for _ in range(connections):
            self.connect(_Connection())
        next_check = time.monotonic() + BACKOFF
        while self.selector.get_map() or (self.resting and self.may_send()):
            now = time.monotonic()
            if now >= self.tally.stop_at:
                break
            for key, events in self.selector.select(max(0.0, min(next_check - now, 0.1))):
                if events & selectors.EVENT_WRITE:
                    self.on_writable(key.data)
                elif key.data.sock is not None:
                    self.on_readable(key.data)
            if time.monotonic() >= next_check:
                self.expire(time.monotonic())
                next_check = time.monotonic() + BACKOFF
        for key in list(self.selector.get_map().values()):
            self.drop(key.data)
        self.selector.close()


def run(port: int, path: str, connections: int, warmup: float, seconds: float,
        budget: int) -> dict[str, object]:  # fmt: skip
    """Drive the load and return the result object."""
    start = time.monotonic()
    tally = Tally(start + warmup, start + warmup + seconds, budget)
    _Client(port, path, tally).run(connections)
    elapsed = min(time.monotonic(), tally.stop_at) - tally.measure_from
    ok = sum(count for status, count in tally.statuses.items() if 200 <= status < 300)
    non2xx = sum(tally.statuses.values()) - ok
    return {
        "ok": ok,
        "non2xx": non2xx,
        "errors": tally.errors,
        "seconds": elapsed,
        "rps": ok / elapsed if elapsed > 0 else 0.0,
        "statuses": {str(status): count for status, count in sorted(tally.statuses.items())},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints the JSON result."""
    parser = argparse.ArgumentParser(description="HTTP keep-alive load on 127.0.0.1")
    parser.add_argument("port", type=int)
    parser.add_argument("--path", default="/")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--max-requests", type=int, default=500_000)
    args = parser.parse_args(argv)
    result = run(args.port, args.path, args.connections, args.warmup, args.seconds,
                 args.max_requests)  # fmt: skip
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
