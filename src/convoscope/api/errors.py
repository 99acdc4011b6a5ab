"""Errors as typed exceptions, mapped to JSON responses in one place.

Every error body is `{"detail": "...", "errors": [...]}` naming the parameter, or the event
and field, at fault. Validation messages are built from our own words and the offending
parameter's name, never by echoing the raw input back at length.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from convoscope.event_fields import ConflictError, EventError


class ApiError(Exception):
    """An error response: status, a message, and optional structured details."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def param_error(param: str, message: str) -> ApiError:
    return ApiError(422, f"{param}: {message}", errors=[{"param": param, "message": message}])


def event_error(exc: EventError | ConflictError) -> ApiError:
    """A rejected batch: 422 with one entry per bad event, or 409 naming conflicting ids."""
    if isinstance(exc, ConflictError):
        return ApiError(409, str(exc), event_ids=exc.event_ids)
    return ApiError(
        422,
        f"{exc.events} invalid event(s), nothing stored",
        errors=[
            {"index": e.index, "event_id": e.event_id, "field": e.field, "message": e.message}
            for e in exc.errors
        ],
    )


class ErrorBody(BaseModel):
    """Every error response: a sentence, and where it helps one entry per problem."""

    detail: str
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Per parameter ({param, message}) or per event "
        "({index, event_id, field, message}).",
    )
    event_ids: list[str] | None = Field(default=None, description="Conflicting event ids.")


_REASONS = {
    400: "Unreadable body",
    401: "No valid API key or session",
    403: "Not allowed for this role, or a missing CSRF header or cross-site request",
    404: "Not configured for this workspace",
    409: "An event_id re-used with other content; nothing stored",
    413: "More than 10,000 events or 16 MiB (64 KiB elsewhere)",
    422: "Invalid parameters or events; nothing stored",
    429: "Too many login attempts",
    503: "Busy or the database cannot be written; retry later",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route may return."""
    return {c: {"model": ErrorBody, "description": _REASONS[c]} for c in codes}


def _param_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc[1:]) or str(loc[0])


def install(app: FastAPI) -> None:
    """Map ApiError and FastAPI's parameter errors to our error body."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        extra = dict(exc.extra)
        headers = extra.pop("headers", None)
        return JSONResponse({"detail": exc.message, **extra}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"param": _param_name(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['param']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": detail, "errors": errors}, 422)
