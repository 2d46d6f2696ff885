"""A small IRC client protocol layer over asyncio streams (RFC 1459 / RFC 2812).

Only what a bot needs: parsing and formatting lines, registration (``NICK``/``USER``),
``PING``/``PONG``, ``JOIN``, ``PRIVMSG`` splitting and a flood-safe sender.  Everything
here runs in the event loop thread of the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from collections.abc import Awaitable, Callable, Sequence

__all__ = [
    "MAX_LINE_BYTES",
    "NICK_RETRIES",
    "IrcConnection",
    "IrcMessage",
    "RateLimiter",
    "format_line",
    "irc_lower",
    "nick_from_prefix",
    "parse_line",
    "split_text",
]

#: The longest line the IRC protocol allows, including the trailing CRLF.
MAX_LINE_BYTES = 512
#: How many times :meth:`IrcConnection.register` appends ``_`` to a refused nick.
NICK_RETRIES = 3

# Room for the ":nick!user@host " prefix the server adds when it relays our line.
_RELAY_PREFIX_RESERVE = 100

_RFC1459_UPPER = "[]\\~"
_RFC1459_LOWER = "{}|^"


@dataclasses.dataclass(frozen=True)
class IrcMessage:
    """One parsed IRC protocol line.

    Attributes:
        command: the command or three-digit numeric, upper-cased (``"PRIVMSG"``, ``"001"``).
        params: the parameters, the trailing one included without its ``:``.
        prefix: the source (``"nick!user@host"`` or a server name), or ``""``.
    """

    command: str
    params: tuple[str, ...] = ()
    prefix: str = ""


def parse_line(line: str) -> IrcMessage | None:
    """Parse one IRC line (without its line ending).

    IRCv3 message tags (``@a=b;c ...``) are accepted and ignored.

    Args:
        line: the decoded line; a trailing ``"\\r"`` is tolerated.

    Returns:
        The message, or ``None`` for an empty or malformed line.
    """
    line = line.rstrip("\r\n")
    if line.startswith("@"):
        _, _, line = line.partition(" ")
    prefix = ""
    if line.startswith(":"):
        prefix, _, line = line[1:].partition(" ")
    line = line.lstrip(" ")
    head, sep, trailing = line.partition(" :")
    words = head.split()
    if not words:
        return None
    params = words[1:]
    if sep:
        params.append(trailing)
    return IrcMessage(command=words[0].upper(), params=tuple(params), prefix=prefix)


def format_line(command: str, *params: str) -> str:
    """Build one protocol line (without CRLF); the last parameter becomes trailing.

    Args:
        command: the command, e.g. ``"PRIVMSG"``.
        params: its parameters; only the last one may contain spaces or start with ``:``.

    Returns:
        The line.

    Raises:
        ValueError: a parameter contains CR, LF or NUL (which would inject a second
            command), or a middle parameter contains a space or starts with ``:``.
    """
    for param in params:
        if any(char in param for char in "\r\n\0"):
            raise ValueError(f"IRC parameter must not contain CR, LF or NUL: {param!r}")
    for param in params[:-1]:
        if not param or " " in param or param.startswith(":"):
            raise ValueError(f"IRC middle parameter is not a single word: {param!r}")
    if not params:
        return command
    *middle, last = params
    return " ".join([command, *middle, ":" + last])


def nick_from_prefix(prefix: str) -> str:
    """Return the nick part of a ``nick!user@host`` prefix (a server name stays as is)."""
    return prefix.split("!", 1)[0].split("@", 1)[0]


def irc_lower(name: str, casemapping: str = "rfc1459") -> str:
    """Lower-case a nick or channel name the way the server compares them.

    Args:
        name: the nick or channel.
        casemapping: the server's ``CASEMAPPING`` (``"ascii"``, ``"rfc1459"`` or
            ``"strict-rfc1459"``); unknown values are treated as ``"rfc1459"``.

    Returns:
        The folded name.
    """
    folded = name.translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    )
    if casemapping == "ascii":
        return folded
    upper, lower = _RFC1459_UPPER, _RFC1459_LOWER
    if casemapping == "strict-rfc1459":
        upper, lower = upper[:-1], lower[:-1]
    return folded.translate(str.maketrans(upper, lower))


def split_text(text: str, max_bytes: int) -> list[str]:
    """Split ``text`` into IRC-safe chunks of at most ``max_bytes`` UTF-8 bytes.

    Line breaks always split (a CR or LF inside a ``PRIVMSG`` would start a new
    command); long lines are broken at the last space that fits, or mid-word
    between characters when there is none.  Empty lines are dropped.

    Args:
        text: the text to send.
        max_bytes: the byte budget of one chunk (at least 4, one UTF-8 character).

    Returns:
        The chunks, in order.
    """
    chunks: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "").split("\n"):
        rest = line
        while len(rest.encode()) > max_bytes:
            cut = _longest_prefix(rest, max_bytes)
            space = rest.rfind(" ", 0, cut + 1)
            if space > 0:
                cut = space
            chunks.append(rest[:cut])
            rest = rest[cut:].lstrip(" ")
        if rest:
            chunks.append(rest)
    return chunks


def _longest_prefix(text: str, max_bytes: int) -> int:
    """Return the largest ``n`` with ``len(text[:n].encode()) <= max_bytes``.

    ``text`` must be longer than ``max_bytes`` when encoded.
    """
    sizes = itertools.accumulate(len(char.encode()) for char in text)
    return next(index for index, size in enumerate(sizes) if size > max_bytes)


class RateLimiter:
    """Token bucket: ``burst`` lines at once, then one line every ``interval`` seconds.

    IRC servers throttle or disconnect ("Excess Flood") clients that send too fast;
    this keeps the bot under the server's limits.

    Runs in: the event loop thread; not thread-safe.
    """

    def __init__(
        self,
        burst: int = 5,
        interval: float = 0.5,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """Create a full bucket.

        Args:
            burst: how many lines may be sent back to back (at least 1).
            interval: seconds per line once the burst is used up.
            clock: monotonic seconds; the running loop's ``time()`` by default.
            sleep: how to wait; :func:`asyncio.sleep` by default.
        """
        self.burst = max(burst, 1)
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._stamp: float | None = None

    async def acquire(self) -> None:
        """Wait until one line may be sent, and take its token."""
        now = self._now()
        if self._stamp is not None and self.interval > 0:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) / self.interval)
        self._stamp = now
        if self._tokens < 1:
            await self._sleep((1 - self._tokens) * self.interval)
            self._stamp = self._now()
            self._tokens = 1.0
        self._tokens -= 1

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()


class IrcConnection:
    """A registered client connection to an IRC server.

    Sends go through one lock (so lines never interleave) and a :class:`RateLimiter`
    (so the server never sees a flood); ``PONG`` replies skip the limiter.

    Runs in: the event loop thread that opened it.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        limiter: RateLimiter | None = None,
    ) -> None:
        """Wrap an open stream pair; see :meth:`open` to connect."""
        self.reader = reader
        self.writer = writer
        self.limiter = limiter or RateLimiter()
        self.nick = ""
        self.casemapping = "rfc1459"
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, host: str, port: int, limiter: RateLimiter | None = None) -> IrcConnection:
        """Open a TCP connection to ``host:port``.

        Raises:
            OSError: the connection failed.
        """
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, limiter)

    async def send(self, command: str, *params: str, urgent: bool = False) -> None:
        """Send one line, rate limited unless ``urgent``.

        Raises:
            ValueError: see :func:`format_line`, or the line is longer than 510 bytes.
            ConnectionError: the connection is closed.
        """
        data = format_line(command, *params).encode() + b"\r\n"
        if len(data) > MAX_LINE_BYTES:
            raise ValueError(f"IRC line longer than {MAX_LINE_BYTES} bytes: {data[:60]!r}...")
        async with self._write_lock:
            if not urgent:
                await self.limiter.acquire()
            self.writer.write(data)
            await self.writer.drain()

    async def privmsg(self, target: str, text: str) -> None:
        """Send ``text`` to ``target`` (a nick or channel), split into as many lines as needed."""
        budget = MAX_LINE_BYTES - 2 - len(f"PRIVMSG {target} :".encode()) - _RELAY_PREFIX_RESERVE
        for chunk in split_text(text, budget):
            await self.send("PRIVMSG", target, chunk)

    async def register(self, nick: str, realname: str, password: str | None = None) -> None:
        """Log in: ``PASS``/``NICK``/``USER``, answering ``PING`` and nick collisions.

        Returns when the server sent ``001`` (RPL_WELCOME); ``self.nick`` is then the
        nick the server accepted (``_`` is appended while the nick is taken, at most
        :data:`NICK_RETRIES` times).

        Raises:
            ConnectionError: the server closed the connection, refused the login, or
                refused every nick tried.
        """
        if password:
            await self.send("PASS", password, urgent=True)
        await self.send("NICK", nick, urgent=True)
        await self.send("USER", nick, "0", "*", realname, urgent=True)
        first_nick = nick
        while True:
            message = await self.read_message()
            if message is None:
                raise ConnectionError("IRC server closed the connection during registration")
            if message.command == "001":
                self.nick = message.params[0] if message.params else nick
                return
            if message.command in ("432", "433", "436"):
                if len(nick) - len(first_nick) >= NICK_RETRIES:
                    raise ConnectionError(f"IRC server refused the nicks {first_nick!r}..{nick!r}")
                nick += "_"
                await self.send("NICK", nick, urgent=True)
            elif message.command == "ERROR":
                raise ConnectionError(f"IRC server refused the login: {message.params!r}")

    async def read_message(self) -> IrcMessage | None:
        """Return the next message, answering ``PING`` and noting ``CASEMAPPING`` on the way.

        Blank, malformed and overlong lines (beyond the stream's limit, 64 KiB by
        default) are skipped.

        Returns:
            The next message (``PING`` included), or ``None`` at end of stream.
        """
        while (raw := await self._read_line()) is not None:
            message = parse_line(raw.decode("utf-8", errors="replace"))
            if message is not None:
                await self._observe(message)
                return message
        return None

    async def _read_line(self) -> bytes | None:
        """Return the next complete line, or ``None`` at end of stream (or reset)."""
        discarding = False
        while True:
            try:
                line = await self.reader.readuntil(b"\n")
            except asyncio.LimitOverrunError as exc:  # drop it, then drop up to its end
                await self.reader.readexactly(exc.consumed)
                discarding = True
                continue
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            if not discarding:
                return line
            discarding = False

    async def _observe(self, message: IrcMessage) -> None:
        """Handle the connection-level messages: ``PING`` and ``005 CASEMAPPING``."""
        if message.command == "PING":
            await self.send("PONG", *message.params[-1:], urgent=True)
        elif message.command == "005":
            for token in message.params[1:]:
                if token.startswith("CASEMAPPING="):
                    self.casemapping = token.partition("=")[2]

    async def join(self, channels: Sequence[str]) -> None:
        """Join each channel in ``channels``."""
        for channel in channels:
            await self.send("JOIN", channel)

    async def quit(self, reason: str = "Bye") -> None:
        """Send ``QUIT``; the server then closes the connection."""
        await self.send("QUIT", reason, urgent=True)

    async def close(self) -> None:
        """Close the stream and wait until it is closed."""
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
