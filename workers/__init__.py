"""Queue-driven execution: Celery tasks and an HTTP API wrapping the ``docvlm`` library.

Imports flow one way (``schemas`` <- ``docvlm`` <- ``workers``); ``docvlm`` never imports
Celery.
"""
