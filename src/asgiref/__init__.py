"""asgiref: ASGI helpers, the sync/async bridges, and adapters.

A clean-room implementation of the asgiref API (API level 3.13).  Importing this
package starts no thread and creates no event loop; submodules are imported on
demand (``import asgiref.sync``).
"""

__all__ = ["__version__"]

__version__ = "3.13.1"
