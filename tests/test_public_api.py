"""The public surface: each public module declares ``__all__``; every name exists, documented."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from types import ModuleType

import pytest
from packaging.version import Version

DOCS = Path(__file__).resolve().parent.parent / "docs"

#: The exact ``__all__`` of every public module: asgiref 3.13's public names.
PUBLIC_MODULES: dict[str, set[str]] = {
    "asgiref": {"__version__"},
    "asgiref.sync": {
        "sync_to_async",
        "async_to_sync",
        "SyncToAsync",
        "AsyncToSync",
        "ThreadSensitiveContext",
        "AsyncSingleThreadContext",
        "iscoroutinefunction",
        "markcoroutinefunction",
    },
    "asgiref.current_thread_executor": {"CurrentThreadExecutor"},
    "asgiref.local": {"Local"},
    "asgiref.server": {"StatelessServer"},
    "asgiref.wsgi": {"WsgiToAsgi", "WsgiToAsgiInstance", "AsgiToWsgi"},  # + issue 14
    "asgiref.testing": {
        "ApplicationCommunicator",
        # Additions (issue 13): the lifespan driver for tests and its errors.
        "LifespanManager",
        "LifespanError",
        "LifespanNotSupported",
        "LifespanStartupFailed",
        "LifespanShutdownFailed",
        "LifespanTimeout",
    },
    # Addition (issue 13): the ASGI validator.
    "asgiref.validation": {
        "validate",
        "ASGIValidationError",
        "ASGIValidationWarning",
        "RULES",
        "Rule",
        "Side",
    },
    "asgiref.compatibility": {
        "is_double_callable",
        "double_to_single_callable",
        "guarantee_single_callable",
    },
    "asgiref.timeout": {"timeout"},
}

TYPING_NAMES = {
    "ASGIVersions", "HTTPScope", "WebSocketScope", "LifespanScope", "WWWScope", "Scope",
    "HTTPRequestEvent", "HTTPResponseStartEvent", "HTTPResponseBodyEvent",
    "HTTPResponseTrailersEvent", "HTTPResponsePathsendEvent", "HTTPServerPushEvent",
    "HTTPDisconnectEvent", "WebSocketConnectEvent", "WebSocketAcceptEvent",
    "WebSocketReceiveEvent", "WebSocketSendEvent", "WebSocketResponseStartEvent",
    "WebSocketResponseBodyEvent", "WebSocketDisconnectEvent", "WebSocketCloseEvent",
    "LifespanStartupEvent", "LifespanShutdownEvent", "LifespanStartupCompleteEvent",
    "LifespanStartupFailedEvent", "LifespanShutdownCompleteEvent", "LifespanShutdownFailedEvent",
    "ASGIReceiveEvent", "ASGISendEvent", "ASGIReceiveCallable", "ASGISendCallable",
    "ASGI2Protocol", "ASGI2Application", "ASGI3Application", "ASGIApplication",
}  # fmt: skip
PUBLIC_MODULES["asgiref.typing"] = TYPING_NAMES


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.mark.parametrize("module_name", sorted(PUBLIC_MODULES))
def test_all_is_exactly_the_contract_names(module_name: str) -> None:
    module = _module(module_name)
    assert set(module.__all__) == PUBLIC_MODULES[module_name]
    assert len(module.__all__) == len(set(module.__all__)), "duplicates in __all__"


@pytest.mark.parametrize("module_name", sorted(PUBLIC_MODULES))
def test_every_exported_name_exists_and_has_a_docstring(module_name: str) -> None:
    module = _module(module_name)
    assert inspect.getdoc(module), f"{module_name} has no module docstring"
    undocumented = [
        name for name in module.__all__ if not _is_documented(module, name, getattr(module, name))
    ]
    assert not undocumented, f"{module_name}: no docstring for {undocumented}"


def _is_documented(module: ModuleType, name: str, obj: object) -> bool:
    """Classes and functions need their own docstring; other objects (type aliases,
    ``__version__``) must be described in the module's docs page or docstring."""
    if inspect.isclass(obj):
        own = obj.__dict__.get("__doc__")
        return isinstance(own, str) and bool(own.strip())
    if callable(obj) and not _is_typing_alias(obj):
        return bool(inspect.getdoc(obj))
    page = DOCS / f"{module.__name__.removeprefix('asgiref.')}.rst"
    text = (page.read_text() if page.exists() else "") + (module.__doc__ or "")
    return name in text


def _is_typing_alias(obj: object) -> bool:
    return type(obj).__module__ == "typing" or isinstance(obj, types.GenericAlias)


def test_sync_also_reexports_executor_and_local() -> None:
    sync = _module("asgiref.sync")
    executor_module = _module("asgiref.current_thread_executor")
    assert sync.CurrentThreadExecutor is executor_module.CurrentThreadExecutor
    assert sync.Local is _module("asgiref.local").Local


def test_debug_event_is_importable_but_not_exported() -> None:
    typing_module = _module("asgiref.typing")
    assert "HTTPResponseDebugEvent" not in typing_module.__all__
    assert typing_module.HTTPResponseDebugEvent.__annotations__


def test_server_module_logger_is_named_after_the_module() -> None:
    server = _module("asgiref.server")
    assert server.logger.name == "asgiref.server"


def test_version_is_the_distribution_version_in_the_3_x_line() -> None:
    version = _module("asgiref").__version__
    assert importlib.metadata.version("asgiref") == version
    assert Version("3.13.0") <= Version(version) < Version("4")


def test_importing_every_module_starts_no_thread_and_no_loop() -> None:
    code = textwrap.dedent(
        f"""
        import asyncio, importlib, threading
        for name in {sorted(PUBLIC_MODULES)!r}:
            importlib.import_module(name)
        assert threading.active_count() == 1, threading.enumerate()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise AssertionError("a loop is running")
        policy_loop = asyncio.get_event_loop_policy()._local._loop
        assert policy_loop is None, policy_loop
        print("clean")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
