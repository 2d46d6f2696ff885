"""A self-contained demo: local ngIRCd, the bot, and two scripted users.

``python -m examples.chatbot --demo`` starts ngIRCd on a free loopback port, runs the
bot in this process, lets ``alice`` and ``bob`` talk to it in turn (each gets their
own counter), prints the conversation and shuts everything down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from .app import chat_app
from .bot import ChatBot
from .irc import IrcConnection, RateLimiter, nick_from_prefix
from .ngircd import running_ngircd

__all__ = ["DEFAULT_SCRIPT", "main", "run_conversation"]

#: Who says what, in order.
DEFAULT_SCRIPT: tuple[tuple[str, str], ...] = (
    ("alice", "hello"),
    ("bob", "hi bot"),
    ("alice", "how are you?"),
    ("bob", "what is ASGI?"),
    ("alice", "bye"),
)

_REPLY_TIMEOUT = 10.0


async def run_conversation(
    host: str,
    port: int,
    script: Sequence[tuple[str, str]] = DEFAULT_SCRIPT,
    *,
    bot_nick: str = "asgibot",
    output: Callable[[str], object] = print,
) -> list[str]:
    """Run the bot against ``host:port`` and play ``script``, one line at a time.

    Each user line waits for the bot's answer before the next line is sent.

    Args:
        host: the IRC server.
        port: its port.
        script: ``(nick, text)`` pairs.
        bot_nick: the nick the bot asks for.
        output: called with each transcript line as it happens.

    Returns:
        The transcript, ``"<nick> text"`` per line.
    """
    bot = ChatBot(chat_app, host=host, port=port, nick=bot_nick)
    bot_task = asyncio.create_task(bot.arun())
    await asyncio.wait_for(bot.ready.wait(), _REPLY_TIMEOUT)
    users: dict[str, IrcConnection] = {}
    transcript: list[str] = []
    try:
        for nick, text in script:
            if nick not in users:
                users[nick] = await _connect(host, port, nick)
            user = users[nick]
            await user.privmsg(bot.current_nick, text)
            transcript.append(f"<{user.nick}> {text}")
            output(transcript[-1])
            reply = await asyncio.wait_for(_next_privmsg(user), _REPLY_TIMEOUT)
            transcript.append(f"<{bot.current_nick}> {reply}")
            output(transcript[-1])
    finally:
        for user in users.values():
            await user.quit()
            await user.close()
        await bot.stop()
        await asyncio.wait_for(bot_task, _REPLY_TIMEOUT)
    return transcript


async def _connect(host: str, port: int, nick: str) -> IrcConnection:
    connection = await IrcConnection.open(host, port, RateLimiter(burst=10, interval=0.1))
    await connection.register(nick, f"demo user {nick}")
    return connection


async def _next_privmsg(user: IrcConnection) -> str:
    """Return the text of the next ``PRIVMSG`` ``user`` receives."""
    while (message := await user.read_message()) is not None:
        if message.command == "PRIVMSG" and nick_from_prefix(message.prefix):
            return message.params[-1]
    raise ConnectionError(f"{user.nick}'s connection closed before the bot answered")


def main() -> int:
    """Start ngIRCd, run the conversation, print it; return the process exit status."""
    with running_ngircd() as server:
        print(f"ngIRCd listening on {server.host}:{server.port}")
        asyncio.run(run_conversation(server.host, server.port))
    print("demo finished; ngIRCd stopped")
    return 0
