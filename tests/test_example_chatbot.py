"""The chat-bot example's pieces, without ngIRCd: protocol helpers and a scripted server.

The scripted IRC server listens on 127.0.0.1 (port 0) and records every line the
client sends; the test pushes server lines and waits for the client's lines, so the
order of events is fixed by the test, not by timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from examples.chatbot import ChatBot, IrcConnection, IrcMessage, RateLimiter, chat_app
from examples.chatbot import ngircd as ngircd_module
from examples.chatbot.__main__ import parse_args
from examples.chatbot.app import IrcReceive, IrcScope, IrcSend
from examples.chatbot.irc import (
    format_line,
    irc_lower,
    nick_from_prefix,
    parse_line,
    split_text,
)

TIMEOUT = 10.0


# Protocol helpers


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PING :irc.example", IrcMessage("PING", ("irc.example",))),
        (
            ":nick!user@host PRIVMSG bot :hello: there :)\r",
            IrcMessage("PRIVMSG", ("bot", "hello: there :)"), "nick!user@host"),
        ),
        ("@time=2020 :srv 001 bot :Welcome", IrcMessage("001", ("bot", "Welcome"), "srv")),
        ("join #a", IrcMessage("JOIN", ("#a",))),
        (
            ":srv  005 bot A=1 B :are supported",
            IrcMessage("005", ("bot", "A=1", "B", "are supported"), "srv"),
        ),
        ("PRIVMSG bot :", IrcMessage("PRIVMSG", ("bot", ""))),
        ("", None),
        (":prefix-only", None),
        ("   ", None),
    ],
)
def test_parse_line_splits_prefix_command_and_params(
    line: str, expected: IrcMessage | None
) -> None:
    assert parse_line(line) == expected


def test_format_line_makes_the_last_parameter_trailing() -> None:
    assert format_line("QUIT") == "QUIT"
    assert format_line("PRIVMSG", "bob", "hi there") == "PRIVMSG bob :hi there"
    assert format_line("NICK", "bot") == "NICK :bot"


@pytest.mark.parametrize(
    "params",
    [("bob", "two\r\nQUIT :injected"), ("bob", "nul\0"), ("a b", "x"), (":a", "x"), ("", "x")],
)
def test_format_line_refuses_injection_and_bad_middle_params(params: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="IRC"):
        format_line("PRIVMSG", *params)


def test_nick_from_prefix() -> None:
    assert nick_from_prefix("alice!a@host") == "alice"
    assert nick_from_prefix("alice@host") == "alice"
    assert nick_from_prefix("irc.example.org") == "irc.example.org"


def test_irc_lower_follows_the_casemapping() -> None:
    assert irc_lower("Nick[]\\~") == "nick{}|^"
    assert irc_lower("Nick[]\\~", "ascii") == "nick[]\\~"
    assert irc_lower("Nick[]\\~", "strict-rfc1459") == "nick{}|~"
    assert irc_lower("ÄB", "rfc1459") == "Äb"  # only ASCII letters fold


def test_split_text_breaks_lines_words_and_characters() -> None:
    assert split_text("short", 10) == ["short"]
    assert split_text("one\r\ntwo\rthree\n\nfour\0", 10) == ["one", "two", "three", "four"]
    assert split_text("aaa bbb ccc ddd", 8) == ["aaa bbb", "ccc ddd"]
    assert split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]
    # Never cut a UTF-8 character: "é" is two bytes.
    assert split_text("éééé", 5) == ["éé", "éé"]
    assert all(len(chunk.encode()) <= 50 for chunk in split_text("word " * 100, 50))


@pytest.mark.asyncio
async def test_rate_limiter_allows_a_burst_then_one_line_per_interval() -> None:
    now = [100.0]
    waits: list[float] = []

    async def fake_sleep(delay: float) -> None:
        waits.append(delay)
        now[0] += delay

    limiter = RateLimiter(burst=2, interval=0.5, clock=lambda: now[0], sleep=fake_sleep)
    for _ in range(4):
        await limiter.acquire()
    assert waits == [0.5, 0.5]
    now[0] += 10  # idle: the bucket refills, but only up to the burst
    for _ in range(3):
        await limiter.acquire()
    assert waits == [0.5, 0.5, 0.5]


@pytest.mark.asyncio
async def test_rate_limiter_uses_the_loop_clock_by_default() -> None:
    limiter = RateLimiter(burst=1, interval=0)
    await limiter.acquire()
    await limiter.acquire()  # interval 0: never refills by time, but sleep(0) is harmless
    assert limiter.burst == 1


# A scripted IRC server


class ScriptedServer:
    """Accepts one client on 127.0.0.1; records its lines; sends what the test says."""

    def __init__(self) -> None:
        self.lines: asyncio.Queue[str] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connected.set()
        while line := await reader.readline():
            await self.lines.put(line.decode().rstrip("\r\n"))

    async def expect(self, line: str) -> None:
        assert await asyncio.wait_for(self.lines.get(), TIMEOUT) == line

    async def push(self, *lines: str | bytes) -> None:
        await asyncio.wait_for(self.connected.wait(), TIMEOUT)
        assert self.writer is not None
        for line in lines:
            self.writer.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")
        await self.writer.drain()

    async def hang_up(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    async def close(self) -> None:
        await self.hang_up()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@contextlib.asynccontextmanager
async def scripted_server() -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def fast_limiter() -> RateLimiter:
    return RateLimiter(burst=1000, interval=0)


@pytest.mark.asyncio
async def test_register_retries_a_taken_nick_and_answers_ping() -> None:
    async with scripted_server() as server:
        connection = await IrcConnection.open("127.0.0.1", server.port, fast_limiter())
        login = asyncio.create_task(connection.register("bot", "Real Name", password="secret"))
        await server.expect("PASS :secret")
        await server.expect("NICK :bot")
        await server.expect("USER bot 0 * :Real Name")
        await server.push("PING :token")
        await server.expect("PONG :token")
        await server.push(":srv 433 * bot :Nickname is already in use")
        await server.expect("NICK :bot_")
        await server.push(":srv 001 bot_ :Welcome")
        await asyncio.wait_for(login, TIMEOUT)
        assert connection.nick == "bot_"
        await connection.close()


@pytest.mark.asyncio
async def test_register_gives_up_on_a_nick_the_server_keeps_refusing() -> None:
    async with scripted_server() as server:
        connection = await IrcConnection.open("127.0.0.1", server.port, fast_limiter())
        login = asyncio.create_task(connection.register("b@d", "Real Name"))
        await server.expect("NICK :b@d")
        await server.expect("USER b@d 0 * :Real Name")
        for retry in ("b@d_", "b@d__", "b@d___"):
            await server.push(":srv 432 * x :Erroneous nickname")
            await server.expect(f"NICK :{retry}")
        await server.push(":srv 432 * x :Erroneous nickname")
        with pytest.raises(ConnectionError, match=r"refused the nicks 'b@d'\.\.'b@d___'"):
            await asyncio.wait_for(login, TIMEOUT)
        await connection.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("reply", ["ERROR :Closing link", None])
async def test_register_fails_when_the_server_refuses_or_hangs_up(reply: str | None) -> None:
    async with scripted_server() as server:
        connection = await IrcConnection.open("127.0.0.1", server.port, fast_limiter())
        login = asyncio.create_task(connection.register("bot", "Real Name"))
        await server.expect("NICK :bot")
        await server.expect("USER bot 0 * :Real Name")
        if reply is None:
            await server.hang_up()
        else:
            await server.push(reply)
        with pytest.raises(ConnectionError, match="IRC server"):
            await asyncio.wait_for(login, TIMEOUT)
        await connection.close()


@pytest.mark.asyncio
async def test_read_message_skips_overlong_blank_and_malformed_lines() -> None:
    async with scripted_server() as server:
        connection = await IrcConnection.open("127.0.0.1", server.port, fast_limiter())
        await server.push(b"x" * 200_000 + b"\r\n", b"\r\n", b":only-a-prefix\r\n")
        await server.push(":srv 005 bot CASEMAPPING=ascii NICKLEN=30 :are supported")
        message = await asyncio.wait_for(connection.read_message(), TIMEOUT)
        assert message is not None
        assert message.command == "005"
        assert connection.casemapping == "ascii"
        await server.hang_up()
        assert await asyncio.wait_for(connection.read_message(), TIMEOUT) is None
        await connection.close()


@pytest.mark.asyncio
async def test_privmsg_splits_long_text_and_send_refuses_overlong_lines() -> None:
    async with scripted_server() as server:
        connection = await IrcConnection.open("127.0.0.1", server.port, fast_limiter())
        await connection.privmsg("bob", "first line\nsecond " + "y" * 500)
        await server.expect("PRIVMSG bob :first line")
        await server.expect("PRIVMSG bob :second")
        long_chunk = await asyncio.wait_for(server.lines.get(), TIMEOUT)
        assert long_chunk.startswith("PRIVMSG bob :yyy")
        assert len(long_chunk) + 2 + 100 <= 512
        await server.expect("PRIVMSG bob :" + "y" * (500 - (len(long_chunk) - 13)))
        with pytest.raises(ValueError, match="longer than 512"):
            await connection.send("PRIVMSG", "bob", "z" * 600)
        await connection.quit("done")
        await server.expect("QUIT :done")
        await connection.close()


# The bot against the scripted server


@contextlib.asynccontextmanager
async def logged_in_bot(
    server: ScriptedServer, channels: tuple[str, ...] = ("#Chan",), max_applications: int = 10
) -> AsyncIterator[tuple[ChatBot, asyncio.Task[None]]]:
    bot = ChatBot(
        chat_app,
        max_applications,
        host="127.0.0.1",
        port=server.port,
        nick="bot",
        channels=channels,
        limiter=fast_limiter(),
    )
    task = asyncio.create_task(bot.arun())
    await server.expect("NICK :bot")
    await server.expect("USER bot 0 * :asgiref StatelessServer chat bot")
    await server.push(":srv 001 bot :Welcome", ":srv 005 bot CASEMAPPING=rfc1459 :ok")
    for channel in channels:
        await server.expect(f"JOIN :{channel}")
    try:
        yield bot, task
    finally:
        if not task.done():
            await bot.stop()
            await server.expect("QUIT :Bye")
            await server.hang_up()
        await asyncio.wait_for(task, TIMEOUT)
        assert bot.application_instances == {}


@pytest.mark.asyncio
async def test_bot_is_ready_once_every_join_is_answered() -> None:
    async with (
        scripted_server() as server,
        logged_in_bot(server, channels=("#A", "#b")) as (bot, _),
    ):
        assert not bot.ready.is_set()
        await server.push(":srv 473 bot #a :Cannot join channel (+i)")
        await server.push(":srv 404 bot #nothing :unrelated numeric", ":BOT!u@h JOIN :#B")
        await asyncio.wait_for(bot.ready.wait(), TIMEOUT)


@pytest.mark.asyncio
async def test_bot_answers_only_lines_meant_for_it() -> None:
    async with scripted_server() as server, logged_in_bot(server) as (bot, _):
        await server.push(":bot!u@h JOIN #chan")
        await asyncio.wait_for(bot.ready.wait(), TIMEOUT)
        await server.push(
            ":alice!a@h PRIVMSG bot :\x01VERSION\x01",  # CTCP
            ":alice!a@h PRIVMSG #chan :hello everyone",  # not addressed
            ":alice!a@h PRIVMSG #chan :bot:",  # addressed, but empty
            ":alice!a@h PRIVMSG #chan :bob: hi",  # addressed to someone else
            ":alice!a@h PRIVMSG #other :bot: hi",  # a channel the bot did not join
            ":bot!u@h PRIVMSG bot :talking to myself",  # the bot's own line
            ":irc.server NOTICE bot :not a PRIVMSG",
            ":alice!a@h PRIVMSG #chan :bot, first",
        )
        await server.expect("PRIVMSG alice :alice: you said 'first' (message #1)")
        # Nicks compare case-insensitively: same user, same instance, same scope.
        await server.push(":ALICE!a@h PRIVMSG BOT :second")
        await server.expect("PRIVMSG alice :alice: you said 'second' (message #2)")
        assert set(bot.application_instances) == {"alice"}


@pytest.mark.asyncio
async def test_bot_follows_its_own_nick_change_and_ends_instances_of_users_who_leave() -> None:
    async with scripted_server() as server, logged_in_bot(server, channels=()) as (bot, _):
        await server.push(":alice!a@h PRIVMSG bot :hi", ":carol!c@h PRIVMSG bot :hi")
        await server.expect("PRIVMSG alice :alice: you said 'hi' (message #1)")
        await server.expect("PRIVMSG carol :carol: you said 'hi' (message #1)")
        alice = bot.application_instances["alice"]["future"]
        carol = bot.application_instances["carol"]["future"]
        await server.push(":bot!u@h NICK :newbot", ":alice!a@h NICK alice2", ":carol!c@h QUIT :bye")
        await server.push(":zed!z@h QUIT :never talked", ":dave!d@h PRIVMSG newbot :hello")
        await server.expect("PRIVMSG dave :dave: you said 'hello' (message #1)")
        await asyncio.wait_for(asyncio.gather(alice, carol), TIMEOUT)
        assert bot.current_nick == "newbot"
        assert not alice.cancelled()
        assert not carol.cancelled()


@pytest.mark.asyncio
async def test_bot_evicts_the_least_recently_active_user_beyond_max_applications() -> None:
    async with (
        scripted_server() as server,
        logged_in_bot(server, channels=(), max_applications=2) as (bot, _),
    ):
        for nick in ("a", "b", "a", "c"):
            await server.push(f":{nick}!x@h PRIVMSG bot :hi")
            await server.lines.get()
        assert set(bot.application_instances) == {"a", "c"}


@pytest.mark.asyncio
async def test_bot_returns_when_the_server_hangs_up() -> None:
    async with scripted_server() as server, logged_in_bot(server, channels=()) as (bot, task):
        await server.push(":alice!a@h PRIVMSG bot :hi")
        await server.expect("PRIVMSG alice :alice: you said 'hi' (message #1)")
        instance = bot.application_instances["alice"]["future"]
        await server.hang_up()
        await asyncio.wait_for(task, TIMEOUT)
        assert instance.cancelled()


@pytest.mark.asyncio
async def test_application_send_refuses_other_message_types() -> None:
    bot = ChatBot(chat_app)
    await bot.stop()  # not connected: nothing to do
    scope: IrcScope = {
        "type": "irc",
        "asgi": {"version": "3.0"},
        "user": "alice",
        "prefix": "alice!a@h",
        "bot": "bot",
        "server": ("127.0.0.1", 6667),
    }
    with pytest.raises(ValueError, match=r"expected type 'irc\.message'"):
        await bot.application_send(scope, {"type": "irc.bogus"})


class DoubleCallableApp:
    """An ASGI 2 style application: the bot accepts it too."""

    def __init__(self, scope: IrcScope) -> None:
        self.scope = scope

    async def __call__(self, receive: IrcReceive, send: IrcSend) -> None:
        event = await receive()
        if event["type"] == "irc.message":
            await send({"type": "irc.message", "text": f"asgi2 {event['text']}"})


@pytest.mark.asyncio
async def test_bot_runs_an_asgi2_double_callable() -> None:
    async with scripted_server() as server:
        bot = ChatBot(DoubleCallableApp, host="127.0.0.1", port=server.port, limiter=fast_limiter())
        task = asyncio.create_task(bot.arun())
        await server.expect("NICK :asgibot")
        await server.lines.get()
        await server.push(":srv 001 asgibot :Welcome", ":alice!a@h PRIVMSG asgibot :yo")
        await server.expect("PRIVMSG alice :asgi2 yo")
        await server.hang_up()
        await asyncio.wait_for(task, TIMEOUT)


# Command line and the ngIRCd runner


def test_parse_args_defaults_and_options() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.nick, args.demo) == ("127.0.0.1", 6667, "asgibot", False)
    args = parse_args(["--join", "#a", "--join", "#b", "--max-applications", "3", "--demo"])
    assert (args.join, args.max_applications, args.demo) == (["#a", "#b"], 3, True)


def test_write_config_is_loopback_only_and_handles_both_root_and_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    conf = ngircd_module.write_config(tmp_path, 16667).read_text()
    assert "Listen = 127.0.0.1\n" in conf
    assert "Ports = 16667\n" in conf
    assert "PAM = no\n" in conf
    assert "Ident = no\n" in conf
    assert "ServerUID" not in conf


def test_find_ngircd_falls_back_to_sbin_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "ngircd"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(ngircd_module, "_CANDIDATES", (str(tmp_path / "missing"), str(fake)))
    assert ngircd_module.find_ngircd() == str(fake)
    monkeypatch.setattr(ngircd_module, "_CANDIDATES", ())
    assert ngircd_module.find_ngircd() is None
    with (
        pytest.raises(FileNotFoundError, match="apt-get install ngircd"),
        ngircd_module.running_ngircd(),
    ):
        pass


def test_free_port_is_bindable() -> None:
    port = ngircd_module.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def require_ngircd() -> None:
    """Skip when ngircd is missing; fail instead when ``ASGIREF_E2E_REQUIRED`` is set (CI)."""
    if ngircd_module.find_ngircd() is None:
        if os.environ.get("ASGIREF_E2E_REQUIRED"):
            pytest.fail("ngircd is required (ASGIREF_E2E_REQUIRED is set) but not installed")
        pytest.skip("ngircd is not installed (apt-get install ngircd)")


@pytest.mark.e2e
def test_running_ngircd_reports_a_server_that_cannot_listen() -> None:
    require_ngircd()
    with socket.socket() as taken:  # bound, not listening: ngIRCd cannot bind, probes fail
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with (
            pytest.raises(RuntimeError, match="ngircd exited with code"),
            ngircd_module.running_ngircd(port),
        ):
            pass


@pytest.mark.e2e
def test_running_ngircd_gives_up_after_its_timeout() -> None:
    require_ngircd()
    with (
        pytest.raises(RuntimeError, match="did not listen"),
        ngircd_module.running_ngircd(timeout=0),
    ):
        pass
