"""Command line: ``python -m examples.chatbot [--demo | --host H --port P --nick N ...]``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .app import chat_app
from .bot import ChatBot
from .demo import main as demo_main
from .irc import RateLimiter


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.chatbot",
        description="An IRC chat bot built on asgiref.server.StatelessServer.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start a local ngIRCd, let two scripted users talk, then stop",
    )
    parser.add_argument("--host", default="127.0.0.1", help="IRC server (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=6667, help="IRC port (default: 6667)")
    parser.add_argument("--nick", default="asgibot", help="the bot's nick (default: asgibot)")
    parser.add_argument("--password", default=None, help="server password (PASS), if any")
    parser.add_argument(
        "--join",
        action="append",
        default=[],
        metavar="CHANNEL",
        help="join CHANNEL and answer 'nick: text' there (repeatable)",
    )
    parser.add_argument(
        "--max-applications",
        type=int,
        default=1000,
        help="users with a live instance at once (default: 1000)",
    )
    parser.add_argument("--burst", type=int, default=5, help="lines sent back to back (default: 5)")
    parser.add_argument(
        "--interval",
        type=float,
        default=0.5,
        help="seconds per line after the burst (default: 0.5)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot (or the demo) until interrupted; return the exit status."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.demo else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
    )
    if args.demo:
        return demo_main()
    bot = ChatBot(
        chat_app,
        args.max_applications,
        host=args.host,
        port=args.port,
        nick=args.nick,
        password=args.password,
        channels=args.join,
        limiter=RateLimiter(args.burst, args.interval),
    )
    bot.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
