"""The FastAPI application: the routers of `convoscope.api`, the services they share, and
the HTTP boundary around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pyarrow as pa
from fastapi import FastAPI
from itsdangerous import TimestampSigner
from starlette.types import ASGIApp

from convoscope import __version__, accounts
from convoscope.api import (
    analytics,
    auth,
    errors,
    exports,
    health,
    ingest,
    operator,
    settings,
    webhooks,
)
from convoscope.api.boundary import Boundary, answer_unexpected
from convoscope.api.deps import Services
from convoscope.api.guard import LoginGuard
from convoscope.ingest import Deriver
from convoscope.lake import LakeTables
from convoscope.store import Store

ROUTERS = (
    health.router,
    ingest.router,
    webhooks.router,
    analytics.router,
    exports.router,
    settings.router,
    auth.router,
    operator.router,
)


class App(FastAPI):
    """FastAPI with `Boundary` outermost, outside Starlette's own error middleware."""

    def build_middleware_stack(self) -> ASGIApp:
        return Boundary(super().build_middleware_stack())


def create_app(
    store: Store,
    *,
    secure_cookies: bool = False,
    lake: LakeTables | None = None,
    operator_token: str | None = None,
) -> App:
    """The API over `store`, or read-only over a `lake`'s derived tables with the accounts
    in `store`. `secure_cookies` marks cookies Secure (behind HTTPS); `operator_token` lets
    the CLI on this machine work through the server (`api.operator`)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # pyarrow imports pandas, when installed, the first time it builds a table (0.4 s):
        # done before serving, so that the first batch after a restart is not the slow one
        pa.table({"warm": [0]})
        deriver = None if lake is not None else Deriver(store)
        if deriver is not None:
            deriver.start()
        yield
        if deriver is not None:
            deriver.stop()
        store.checkpoint()

    app = App(
        title="convoscope",
        version=__version__,
        summary="Conversation analytics for customer messaging.",
        lifespan=lifespan,
        responses=errors.responses(401, 403, 422),
        docs_url=None,  # served by `convoscope.web` with local assets
        redoc_url=None,
    )
    secret = accounts.server_secret(store)
    app.state.services = Services(
        store=store,
        tables=lake if lake is not None else store,
        lake=lake is not None,
        secret=secret,
        signer=TimestampSigner(secret, salt="session"),
        guard=LoginGuard(),
        secure_cookies=secure_cookies,
        operator_digest=operator.token_digest(operator_token) if operator_token else None,
    )
    errors.install(app)
    app.add_exception_handler(Exception, answer_unexpected)
    for router in ROUTERS:
        app.include_router(router)
    return app
