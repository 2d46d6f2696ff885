"""An IRC chat bot built on :class:`asgiref.server.StatelessServer`.

Run it against a server with ``python -m examples.chatbot --host 127.0.0.1 --port 6667
--nick asgibot``, or try it without one with ``python -m examples.chatbot --demo``.
"""

from __future__ import annotations

from .app import IrcMessageEvent, IrcQuitEvent, IrcScope, chat_app
from .bot import ChatBot
from .irc import IrcConnection, IrcMessage, RateLimiter

__all__ = [
    "ChatBot",
    "IrcConnection",
    "IrcMessage",
    "IrcMessageEvent",
    "IrcQuitEvent",
    "IrcScope",
    "RateLimiter",
    "chat_app",
]
