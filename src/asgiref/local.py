"""Context-local and thread-local attribute storage: :class:`Local`.

See :doc:`/local` for what is visible where.
"""

from asgiref._local import Local

__all__ = ["Local"]
