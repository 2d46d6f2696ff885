"""A bounded HTTP/1.1 keep-alive load generator for 127.0.0.1; runs as a subprocess.

Usage: ``python -m benchmarks._loadgen PORT [--path /] [--connections 16] [--warmup 0.5]
[--seconds 3] [--max-requests 500000]``. Each connection sends ``GET`` requests one after
another on one keep-alive socket (reconnecting when the server closes it) until the time is
up or the request budget is spent. Only responses completed after the warm-up count.
Prints one JSON object: ``{"ok": 2xx, "non2xx": n, "errors": n, "seconds": s, "rps": r,
"statuses": {...}}``; ``rps`` counts 2xx responses only.

Only loopback is ever contacted: the host is fixed to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["HOST", "Tally", "main", "read_response"]

HOST = "127.0.0.1"
_RESPONSE_TIMEOUT = 10.0


@dataclass
class Tally:
    """Counts shared by all connections (one event loop: no lock needed)."""

    measure_from: float
    stop_at: float
    budget: int
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    sent: int = 0

    def record(self, now: float, status: int | None) -> None:
        """Count a finished response (``None``: the exchange failed) if in the window."""
        if now < self.measure_from:
            return
        if status is None:
            self.errors += 1
        else:
            self.statuses[status] += 1


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; return ``(status, server_will_close)``."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
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
    if chunked:
        await _read_chunked(reader)
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, close


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return
        await reader.readexactly(size + 2)


async def _connection(port: int, path: str, tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    writer: asyncio.StreamWriter | None = None
    while loop.time() < tally.stop_at and tally.sent < tally.budget:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            tally.sent += 1
            writer.write(request)
            status, close = await asyncio.wait_for(read_response(reader), _RESPONSE_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                TimeoutError):  # fmt: skip
            tally.record(loop.time(), None)
            status, close = 0, True
            await asyncio.sleep(0.01)  # back off: a dead server must not make this spin
        else:
            tally.record(loop.time(), status)
        if close and writer is not None:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def run(port: int, path: str, connections: int, warmup: float, seconds: float,
              budget: int) -> dict[str, object]:  # fmt: skip
    """Drive the load and return the result object."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tally = Tally(start + warmup, start + warmup + seconds, budget)
    await asyncio.gather(*(_connection(port, path, tally) for _ in range(connections)))
    elapsed = min(loop.time(), tally.stop_at) - tally.measure_from
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
    result = asyncio.run(
        run(args.port, args.path, args.connections, args.warmup, args.seconds, args.max_requests)
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
