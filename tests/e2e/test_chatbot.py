"""End to end: the StatelessServer chat bot against a real ngIRCd on 127.0.0.1.

The users here are raw IRC clients written against the protocol (asyncio streams),
independent of the bot's own IRC code.  Ordering is made deterministic by waiting
for each reply, never by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from examples.chatbot import ChatBot, RateLimiter, chat_app
from examples.chatbot.demo import main as demo_main
from examples.chatbot.demo import run_conversation
from examples.chatbot.ngircd import NgircdServer, find_ngircd, running_ngircd

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

REPLY_TIMEOUT = 20.0


def require_ngircd() -> None:
    """Skip when ngircd is missing; fail instead when ``ASGIREF_E2E_REQUIRED`` is set (CI)."""
    if find_ngircd() is None:
        if os.environ.get("ASGIREF_E2E_REQUIRED"):
            pytest.fail("ngircd is required (ASGIREF_E2E_REQUIRED is set) but not installed")
        pytest.skip("ngircd is not installed (apt-get install ngircd)")


@pytest.fixture
def ircd() -> Iterator[NgircdServer]:
    """A fresh ngIRCd on a free loopback port (skipped when ngircd is not installed)."""
    require_ngircd()
    with running_ngircd() as server:
        yield server


class RawUser:
    """A minimal IRC user: registers, sends PRIVMSG, reads the replies addressed to it."""

    def __init__(self, nick: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.nick = nick
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, server: NgircdServer, nick: str) -> RawUser:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        user = cls(nick, reader, writer)
        await user.write(f"NICK {nick}", f"USER {nick} 0 * :test user {nick}")
        await user.wait_for(" 001 ")
        return user

    async def write(self, *lines: str) -> None:
        self.writer.write("".join(line + "\r\n" for line in lines).encode())
        await self.writer.drain()

    async def read_line(self) -> str:
        """Return the next line that is not a PING (which is answered)."""
        while True:
            raw = await asyncio.wait_for(self.reader.readline(), REPLY_TIMEOUT)
            if not raw:
                raise ConnectionError(f"{self.nick}: server closed the connection")
            line = raw.decode().rstrip("\r\n")
            if line.startswith("PING "):
                await self.write("PONG " + line[5:])
                continue
            return line

    async def wait_for(self, fragment: str) -> str:
        while fragment not in (line := await self.read_line()):
            pass
        return line

    async def say(self, target: str, text: str) -> None:
        await self.write(f"PRIVMSG {target} :{text}")

    async def reply(self, sender: str = "asgibot") -> str:
        """Return the text of the next PRIVMSG from ``sender``."""
        while True:
            line = await self.read_line()
            prefix, _, rest = line.partition(" ")
            if prefix.startswith(f":{sender}!") and rest.startswith(f"PRIVMSG {self.nick} :"):
                return rest.split(" :", 1)[1]

    async def ask(self, text: str) -> str:
        await self.say("asgibot", text)
        return await self.reply()

    async def close(self) -> None:
        if self.writer.is_closing():
            return
        with contextlib.suppress(ConnectionError):
            await self.write("QUIT :done")
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def running_bot(
    server: NgircdServer, max_applications: int = 1000, channels: tuple[str, ...] = ()
) -> AsyncIterator[ChatBot]:
    """Run the chat bot in this loop (``arun()`` as a task) and stop it cleanly afterwards."""
    bot = ChatBot(
        chat_app,
        max_applications,
        host=server.host,
        port=server.port,
        nick="asgibot",
        channels=channels,
        limiter=RateLimiter(burst=10, interval=0.2),
    )
    task = asyncio.create_task(bot.arun())
    ready = asyncio.create_task(bot.ready.wait())
    await asyncio.wait({task, ready}, timeout=REPLY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if not bot.ready.is_set():
        ready.cancel()
        task.cancel()
        await asyncio.gather(task, ready, return_exceptions=True)
        raise RuntimeError(f"chat bot did not log in: {task}")
    try:
        yield bot
    finally:
        await bot.stop()
        await asyncio.wait_for(task, REPLY_TIMEOUT)
        assert bot.application_instances == {}


@contextlib.asynccontextmanager
async def users(server: NgircdServer, *nicks: str) -> AsyncIterator[list[RawUser]]:
    connected = [await RawUser.connect(server, nick) for nick in nicks]
    try:
        yield connected
    finally:
        for user in connected:
            await user.close()


def expected(nick: str, text: str, count: int) -> str:
    return f"{nick}: you said '{text}' (message #{count})"


@pytest.mark.asyncio
async def test_each_user_talking_at_once_gets_their_own_instance_and_counter(
    ircd: NgircdServer,
) -> None:
    async with running_bot(ircd) as bot, users(ircd, "alice", "bob", "carol", "dave") as people:

        async def conversation(user: RawUser) -> list[str]:
            lines = [f"line {n} from {user.nick}" for n in (1, 2, 3)]
            await user.write(*(f"PRIVMSG asgibot :{line}" for line in lines))
            return [await user.reply() for _ in lines]

        replies = await asyncio.gather(*(conversation(user) for user in people))

        for user, answers in zip(people, replies, strict=True):
            assert answers == [
                expected(user.nick, f"line {n} from {user.nick}", n) for n in (1, 2, 3)
            ]
        assert set(bot.application_instances) == {"alice", "bob", "carol", "dave"}
        for nick, details in bot.application_instances.items():
            assert details["scope"]["type"] == "irc"
            assert details["scope"]["user"] == nick
            assert details["scope"]["prefix"].startswith(f"{nick}!")
            assert not details["future"].done()


@pytest.mark.asyncio
async def test_max_applications_evicts_the_least_recently_active_user(
    ircd: NgircdServer,
) -> None:
    async with (
        running_bot(ircd, max_applications=2) as bot,
        users(ircd, "alice", "bob", "carol") as (alice, bob, carol),
    ):
        assert await alice.ask("one") == expected("alice", "one", 1)
        assert await bob.ask("one") == expected("bob", "one", 1)
        assert await alice.ask("two") == expected("alice", "two", 2)
        bob_instance = bot.application_instances["bob"]["future"]
        # alice was created first but talked last: bob is the least recently active.
        assert await carol.ask("one") == expected("carol", "one", 1)
        assert set(bot.application_instances) == {"alice", "carol"}
        assert bob_instance.cancelled()
        assert await alice.ask("three") == expected("alice", "three", 3)
        # bob comes back with a fresh instance (counter restarts); carol is now the LRU.
        assert await bob.ask("two") == expected("bob", "two", 1)
        assert set(bot.application_instances) == {"alice", "bob"}
        assert await carol.ask("two") == expected("carol", "two", 1)
        assert set(bot.application_instances) == {"bob", "carol"}


@pytest.mark.asyncio
async def test_quitting_user_ends_their_instance_normally(ircd: NgircdServer) -> None:
    # IRC tells the bot about a QUIT only when it shares a channel with the user.
    async with (
        running_bot(ircd, channels=("#asgi",)) as bot,
        users(ircd, "erin", "frank") as (erin, frank),
    ):
        await erin.write("JOIN #asgi")
        await erin.wait_for(" 366 ")  # end of NAMES: erin is in the channel
        assert await erin.ask("hello") == expected("erin", "hello", 1)
        assert await frank.ask("hello") == expected("frank", "hello", 1)
        erin_instance = bot.application_instances["erin"]["future"]
        await erin.close()
        await asyncio.wait_for(erin_instance, REPLY_TIMEOUT)
        assert not erin_instance.cancelled()
        assert await frank.ask("still there?") == expected("frank", "still there?", 2)


@pytest.mark.asyncio
async def test_bot_answers_lines_addressed_to_it_in_a_joined_channel(ircd: NgircdServer) -> None:
    async with running_bot(ircd, channels=("#asgi",)) as bot, users(ircd, "gina") as (gina,):
        await gina.write("JOIN #asgi")
        names = await gina.wait_for(" 353 ")
        assert "asgibot" in names
        await gina.say("#asgi", "just chatting")  # not addressed to the bot: ignored
        await gina.say("#asgi", "asgibot: hello there")
        assert await gina.reply() == expected("gina", "hello there", 1)
        assert set(bot.application_instances) == {"gina"}


REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.asyncio
async def test_documented_command_runs_the_bot_until_ctrl_c(ircd: NgircdServer) -> None:
    """``python -m examples.chatbot --host ... --port ... --nick ...`` (the README command)."""
    # A child inherits an ignored SIGINT (pytest run as a background job of a shell without
    # job control) and Python keeps it ignored: give the bot the disposition a terminal would.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = await _start_bot(ircd)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert process.stderr is not None
    try:
        while b"logged in to" not in (
            line := await asyncio.wait_for(process.stderr.readline(), REPLY_TIMEOUT)
        ):
            assert line, "the bot exited before logging in"
        async with users(ircd, "hank") as (hank,):
            await hank.say("clibot", "are you there?")
            assert await hank.reply("clibot") == expected("hank", "are you there?", 1)
        process.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(process.stderr.read(), REPLY_TIMEOUT)
        assert await process.wait() == 0
        assert b"Exiting due to Ctrl-C/interrupt" in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _start_bot(ircd: NgircdServer) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "examples.chatbot",
        "--host",
        ircd.host,
        "--port",
        str(ircd.port),
        "--nick",
        "clibot",
        "--max-applications",
        "5",
        cwd=REPO_ROOT,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )


def test_demo_mode_prints_the_conversation_and_cleans_up() -> None:
    """``python -m examples.chatbot --demo`` starts its own ngIRCd and stops it."""
    require_ngircd()
    result = subprocess.run(
        [sys.executable, "-m", "examples.chatbot", "--demo"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ngIRCd listening on 127.0.0.1:")
    assert lines[1:] == [
        "<alice> hello",
        "<asgibot> alice: you said 'hello' (message #1)",
        "<bob> hi bot",
        "<asgibot> bob: you said 'hi bot' (message #1)",
        "<alice> how are you?",
        "<asgibot> alice: you said 'how are you?' (message #2)",
        "<bob> what is ASGI?",
        "<asgibot> bob: you said 'what is ASGI?' (message #2)",
        "<alice> bye",
        "<asgibot> alice: you said 'bye' (message #3)",
        "demo finished; ngIRCd stopped",
    ]


@pytest.mark.asyncio
async def test_run_conversation_returns_the_transcript(ircd: NgircdServer) -> None:
    printed: list[str] = []
    script = [("ivy", "one"), ("jack", "one"), ("ivy", "two")]
    transcript = await run_conversation(ircd.host, ircd.port, script, output=printed.append)
    assert (
        transcript
        == printed
        == [
            "<ivy> one",
            "<asgibot> ivy: you said 'one' (message #1)",
            "<jack> one",
            "<asgibot> jack: you said 'one' (message #1)",
            "<ivy> two",
            "<asgibot> ivy: you said 'two' (message #2)",
        ]
    )


def test_demo_main_runs_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    require_ngircd()
    assert demo_main() == 0
    out = capsys.readouterr().out
    assert "<asgibot> alice: you said 'bye' (message #3)" in out
    assert out.endswith("demo finished; ngIRCd stopped\n")
