"""The chat bot: a :class:`~asgiref.server.StatelessServer` that is an IRC *client*.

It has no listening socket and no per-connection state of its own.  It keeps one
connection out to an IRC server; every user who sends it a private message (or
addresses it in a joined channel with ``botnick: text``) gets one application
instance, keyed by the user's nick, and the bot feeds the user's lines into that
instance's queue.  What the instance sends back goes out as a ``PRIVMSG`` to the
user.

When a user quits or changes nick, their instance receives ``{"type": "irc.quit"}``;
IRC only tells the bot about that for users who share a channel with it (``--join``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from asgiref.server import StatelessServer

from .app import IrcApplication, IrcEvent, IrcScope
from .irc import IrcConnection, IrcMessage, RateLimiter, irc_lower, nick_from_prefix

__all__ = ["ChatBot"]

logger = logging.getLogger("examples.chatbot")

# ERR_NOSUCHCHANNEL, ERR_TOOMANYCHANNELS, ERR_CHANNELISFULL, ERR_INVITEONLYCHAN,
# ERR_BANNEDFROMCHAN, ERR_BADCHANNELKEY: the JOIN was refused.
_JOIN_ERRORS = frozenset({"403", "405", "471", "473", "474", "475"})


class ChatBot(StatelessServer):
    """Connect to an IRC server and answer each user from their own application instance.

    Attributes:
        host: the IRC server's host.
        port: the IRC server's port.
        nick: the nick asked for; ``connection.nick`` is the one the server gave.
        channels: channels joined after login.
        connection: the live connection while :meth:`handle` runs.
        ready: set once the bot is logged in and the server has answered every ``JOIN``.

    Runs in: one event loop thread (:meth:`~asgiref.server.StatelessServer.run` or
    :meth:`~asgiref.server.StatelessServer.arun`).
    """

    def __init__(
        self,
        application: IrcApplication,
        max_applications: int = 1000,
        *,
        host: str = "127.0.0.1",
        port: int = 6667,
        nick: str = "asgibot",
        realname: str = "asgiref StatelessServer chat bot",
        password: str | None = None,
        channels: Sequence[str] = (),
        limiter: RateLimiter | None = None,
    ) -> None:
        """Configure the bot; nothing connects until :meth:`handle` runs.

        Args:
            application: the ASGI application (ASGI 3, or an ASGI 2 double callable).
            max_applications: how many users may have a live instance at once; the
                least recently active user's instance is evicted to make room.
            host: the IRC server's host.
            port: the IRC server's port.
            nick: the nick to ask for.
            realname: the ``USER`` real name.
            password: the server password (``PASS``), if the server wants one.
            channels: channels to join; there the bot answers lines addressed to it.
            limiter: the flood control for outgoing lines (default: 5 lines, then 2/s).
        """
        super().__init__(application, max_applications)
        self.host = host
        self.port = port
        self.nick = nick
        self.realname = realname
        self.password = password
        self.channels = tuple(channels)
        self.limiter = limiter or RateLimiter()
        self.connection: IrcConnection | None = None
        self.ready = asyncio.Event()
        self._pending_joins: set[str] = set()

    async def handle(self) -> None:
        """Log in, then dispatch every incoming line until the server closes the connection.

        On the way out every live application instance is cancelled and awaited.

        Raises:
            OSError: the server could not be reached.
            ConnectionError: the server refused the login.
        """
        connection = await IrcConnection.open(self.host, self.port, self.limiter)
        self.connection = connection
        try:
            await connection.register(self.nick, self.realname, self.password)
            logger.info("logged in to %s:%d as %s", self.host, self.port, connection.nick)
            self._pending_joins = {irc_lower(c, connection.casemapping) for c in self.channels}
            await connection.join(self.channels)
            self._check_ready()
            while (message := await connection.read_message()) is not None:
                self.dispatch(message)
        finally:
            await self._close_instances()
            await connection.close()

    async def stop(self, reason: str = "Bye") -> None:
        """Quit IRC; :meth:`handle` returns once the server has closed the connection."""
        if self.connection is not None:
            await self.connection.quit(reason)

    def dispatch(self, message: IrcMessage) -> None:
        """Route one incoming line to the instance of the user who sent it.

        Runs in: the event loop thread, synchronously (it only enqueues).
        """
        sender = nick_from_prefix(message.prefix)
        if message.command == "PRIVMSG" and len(message.params) == 2:
            text = self._text_for_bot(*message.params)
            if text is not None and sender and not self._is_me(sender):
                queue = self.get_or_create_application_instance(
                    self._scope_id(sender), self._scope(sender, message.prefix)
                )
                queue.put_nowait({"type": "irc.message", "text": text})
        elif message.command == "NICK" and self._is_me(sender) and self.connection:
            self.connection.nick = message.params[-1] if message.params else sender
        elif message.command == "JOIN" and self._is_me(sender) and message.params:
            self._joined(message.params[0])
        elif message.command in _JOIN_ERRORS and len(message.params) >= 2:
            logger.warning("cannot join %s: %s", message.params[1], message.params[-1])
            self._joined(message.params[1])
        elif message.command in ("QUIT", "NICK"):
            reason = "nick change" if message.command == "NICK" else "quit"
            self._tell(self._scope_id(sender), {"type": "irc.quit", "reason": reason})

    async def application_send(self, scope: IrcScope, message: Mapping[str, Any]) -> None:
        """Send an instance's ``irc.message`` to its user as ``PRIVMSG``.

        Raises:
            ValueError: the message type is not ``irc.message``; the instance that
                sent it sees the error from its ``send()``.
        """
        if message.get("type") != "irc.message":
            raise ValueError(f"chat bot cannot send {message!r}; expected type 'irc.message'")
        if self.connection is None:  # pragma: no cover - instances only exist while connected
            raise ConnectionError("chat bot is not connected")
        logger.info("-> %s: %s", scope["user"], message["text"])
        await self.connection.privmsg(scope["user"], message["text"])

    @property
    def current_nick(self) -> str:
        """The nick the server knows the bot by (the asked-for nick before login)."""
        return self.connection.nick if self.connection and self.connection.nick else self.nick

    def _text_for_bot(self, target: str, text: str) -> str | None:
        """Return the text meant for the bot, or ``None`` (CTCP, other people's lines)."""
        if text.startswith("\x01"):
            return None
        if self._is_me(target):
            return text
        casemapping = self.connection.casemapping if self.connection else "rfc1459"
        joined = {irc_lower(channel, casemapping) for channel in self.channels}
        if irc_lower(target, casemapping) not in joined:
            return None
        head, sep, rest = text.partition(" ")
        if sep and head[-1:] in (":", ",") and self._is_me(head[:-1]):
            return rest.strip() or None
        return None

    def _joined(self, channel: str) -> None:
        """Note that the server answered the ``JOIN`` of ``channel``."""
        self._pending_joins.discard(self._scope_id(channel))
        self._check_ready()

    def _check_ready(self) -> None:
        if not self._pending_joins:
            self.ready.set()

    def _is_me(self, nick: str) -> bool:
        return self._scope_id(nick) == self._scope_id(self.current_nick)

    def _scope_id(self, nick: str) -> str:
        casemapping = self.connection.casemapping if self.connection else "rfc1459"
        return irc_lower(nick, casemapping)

    def _scope(self, nick: str, prefix: str) -> IrcScope:
        return {
            "type": "irc",
            "asgi": {"version": "3.0"},
            "user": nick,
            "prefix": prefix,
            "bot": self.current_nick,
            "server": (self.host, self.port),
        }

    def _tell(self, scope_id: str, event: IrcEvent) -> None:
        """Put ``event`` into the queue of ``scope_id``'s instance, if it has one."""
        details = self.application_instances.get(scope_id)
        if details is not None:
            details["input_queue"].put_nowait(event)

    async def _close_instances(self) -> None:
        """Cancel every live application instance and wait until all have ended."""
        futures = [details["future"] for details in self.application_instances.values()]
        for scope_id in list(self.application_instances):
            self.delete_application_instance(scope_id)
        await asyncio.gather(*futures, return_exceptions=True)
