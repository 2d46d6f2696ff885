"""asgiref: ASGI helpers, the sync/async bridges, and adapters.

A clean-room implementation of the asgiref API (API level 3.13).  Importing this
package starts no thread and creates no event loop; submodules are imported on
demand (``import asgiref.sync``).

``__version__`` is the installed distribution's version (a PEP 440 string in the 3.x
line, so pins such as Django's ``asgiref>=3.9.1`` accept it); it is defined only here.
"""

__all__ = ["__version__"]

__version__ = "3.13.1"
