"""The HTTP service: one router per concern (ingest, webhooks, analytics, exports, settings,
auth, health) over shared dependencies (`deps`), behind one boundary (`boundary`)."""

from convoscope.api.app import App, create_app
from convoscope.api.errors import ApiError

__all__ = ["ApiError", "App", "create_app"]
