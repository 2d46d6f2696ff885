"""Runnable examples for the asgiref clean-room package (``python -m examples.<name>``)."""
