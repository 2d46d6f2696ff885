"""Sphinx configuration for the asgiref documentation (built with ``sphinx-build -n -W``)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import asgiref  # noqa: E402

project = "asgiref"
author = "The asgiref clean-room team"
copyright = "2026, the asgiref clean-room team"
release = asgiref.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = ["Runs in", "Cancellation", "Guarantees", "This code assumes"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_inherit_docstrings = False

nitpicky = True
# No network here for intersphinx: references into the standard library and third-party
# packages cannot be resolved, so they are ignored by pattern; references to our own
# objects are still checked.
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(asyncio|contextvars|concurrent|typing|typing_extensions|collections|threading"
        r"|logging|types|weakref|functools|os|io|socket|inspect|enum|_thread|queue"
        r"|collections\.abc|django|channels|werkzeug|pathlib|_asyncio|_contextvars|_thread)(\..*)?",
    ),
    (
        r"py:.*",
        r"(Any|Callable|Coroutine|Awaitable|Iterable|Iterator|Mapping|Sequence|Generator"
        r"|AsyncGenerator|TypeVar|ParamSpec|Generic|Protocol|TypedDict|Literal|Union|Optional"
        r"|NotRequired|Self|Final|ClassVar|Never|NoReturn|TracebackType|P|R|T|T_co|_P|_R|_T"
        r"|P\.args|P\.kwargs|Executor|Future|Context|ContextVar|AbstractEventLoop|Task|Queue"
        r"|BaseException|Exception|WSGIApplication|StartResponse|WSGIEnvironment"
        r"|ExcInfo|OptExcInfo|Buffer|ReadableBuffer|SupportsRead|IO|BinaryIO|TextIO)",
    ),
    (
        r"py:class",
        r"(object|bytes|str|int|float|bool|dict|list|tuple|set|type|None|NoneType"
        r"|bytearray|memoryview|callable|optional)",
    ),
    (r"py:obj", r".*"),
    # Private type variables of our implementation modules (``_P``, ``_R``, ``_F``, ...).
    (r"py:class", r"~?(asgiref\._\w+\.)?_[A-Z]\w*"),
    # The wrapper class validate() returns; documented as "an ASGI 3 application".
    (r"py:class", r"asgiref\._validation\._wrapper\.ValidatedApplication"),
]

html_theme = "alabaster"
html_static_path: list[str] = []
exclude_patterns = ["_build", "differences/*.rst"]
