"""`GET /healthz`: is the server up, and can it read and write its database?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from convoscope.api.deps import Svc
from convoscope.api.errors import responses

router = APIRouter(tags=["operations"])


@router.get("/healthz", responses=responses(503), summary="Health check")
def healthz(svc: Svc) -> JSONResponse:
    """Liveness and database health: a read and a committed write, `ok` (503 when either
    fails, e.g. a full disk or a file turned read-only); `busy` with the read alone while a
    write holds the database (a long import), at once rather than after it. With it, how far
    the derived tables trail the acknowledged events (`derivation_lag_seconds`: 0 when
    nothing waits; reads never see that lag, they derive what they need first)."""
    try:
        status = svc.store.probe()
    except Exception as exc:  # any failure of the database is the answer, not a crash
        return JSONResponse({"status": "failing", "detail": type(exc).__name__}, 503)
    lag = round(svc.store.derivation_lag(), 3)
    return JSONResponse({"status": status, "derivation_lag_seconds": lag})
