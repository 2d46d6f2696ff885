"""The ASGI side of the chat bot: the ``irc`` scope, its events, and the application.

The bot starts one instance of the application per user; the instance lives as
long as the user keeps talking (or until the bot evicts it), so plain local
variables in the coroutine are per-user state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypedDict

__all__ = [
    "IrcApplication",
    "IrcEvent",
    "IrcMessageEvent",
    "IrcQuitEvent",
    "IrcReceive",
    "IrcScope",
    "IrcSend",
    "IrcSendEvent",
    "chat_app",
]


class IrcScope(TypedDict):
    """The connection scope of one user talking to the bot.

    Keys:
        type: always ``"irc"``.
        asgi: ``{"version": "3.0"}``.
        user: the user's nick, as it was when the instance started.
        prefix: the user's full ``nick!user@host``.
        bot: the bot's own nick.
        server: ``(host, port)`` of the IRC server.
    """

    type: Literal["irc"]
    asgi: dict[str, str]
    user: str
    prefix: str
    bot: str
    server: tuple[str, int]


class IrcMessageEvent(TypedDict):
    """A line the user sent, in either direction (``receive()`` and ``send()``)."""

    type: Literal["irc.message"]
    text: str


class IrcQuitEvent(TypedDict):
    """The user left the server or changed nick; the instance should return."""

    type: Literal["irc.quit"]
    reason: str


#: What ``receive()`` returns.
IrcEvent = IrcMessageEvent | IrcQuitEvent
#: What the application may ``send()``.
IrcSendEvent = IrcMessageEvent
IrcReceive = Callable[[], Awaitable[IrcEvent]]
IrcSend = Callable[[IrcSendEvent], Awaitable[None]]
#: An application the bot can run: ASGI 3 (``app(scope, receive, send)``) or an
#: ASGI 2 double callable (``app(scope)`` returning ``instance(receive, send)``).
IrcApplication = (
    Callable[[IrcScope, IrcReceive, IrcSend], Awaitable[None]]
    | Callable[[IrcScope], Callable[[IrcReceive, IrcSend], Awaitable[None]]]
)


async def chat_app(scope: IrcScope, receive: IrcReceive, send: IrcSend) -> None:
    """Answer each line with an echo and a per-user message counter.

    Args:
        scope: the user's :class:`IrcScope`.
        receive: awaits the user's next :class:`IrcMessageEvent` (or :class:`IrcQuitEvent`).
        send: sends an :class:`IrcMessageEvent` back to the user.
    """
    count = 0
    while True:
        event = await receive()
        if event["type"] == "irc.quit":
            return
        count += 1
        reply = f"{scope['user']}: you said '{event['text']}' (message #{count})"
        await send({"type": "irc.message", "text": reply})
