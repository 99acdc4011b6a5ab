"""The CLI's way in while this server holds the database: `POST /v1/operator/{operation}`.

DuckDB lets one process open a database file, so while `serve` or `demo` runs, `convoscope
report`, `export`, `workspace`, `user` and `key` ask the server to run the operation of
`convoscope.operations` for them. Only a caller on this machine holding the server's
operator token may: the server writes it, with its address, to a file beside the database
that only the file's owner reads (`cli.running`); it is compared in constant time, sent in a
header, never logged, and a new one is drawn at each start. Not part of the public API.
"""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse

from convoscope.api.deps import Svc, same_text
from convoscope.api.errors import ApiError
from convoscope.operations import OPERATIONS, TOKEN_HEADER, OperationError
from convoscope.query import QueryError

router = APIRouter(include_in_schema=False)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _local(request: Request) -> bool:
    """A caller on this machine: from a loopback address, or from the address the server
    listens on (a server bound to one interface sees its own address)."""
    host = request.client.host if request.client else ""
    server = request.scope.get("server") or ("",)
    try:
        return ipaddress.ip_address(host).is_loopback or host == server[0]
    except ValueError:
        return False


@router.post("/v1/operator/{operation}")
def operate(
    operation: str,
    request: Request,
    svc: Svc,
    token: Annotated[str, Header(alias=TOKEN_HEADER, max_length=200)] = "",
    args: Annotated[dict[str, Any] | None, Body()] = None,
) -> JSONResponse:
    """Run one operation with `args`: `{"result": ...}`, or `{"detail", "code", "param"}`
    with 422 when the operation refuses."""
    digest = svc.operator_digest
    if digest is None or not _local(request) or not same_text(token_digest(token), digest):
        raise ApiError(403, "operator calls come from this machine's convoscope command")
    run = OPERATIONS.get(operation)
    if run is None:
        raise ApiError(404, f"no operation {operation!r}")
    try:
        bound = inspect.signature(run).bind(svc.store, **(args or {}))
    except TypeError as exc:  # arguments another version of the command sent
        raise ApiError(422, f"{operation}: {exc}") from None
    try:
        result = run(*bound.args, **bound.kwargs)
    except OperationError as exc:
        return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=422)
    except QueryError as exc:
        return JSONResponse({"detail": exc.message, "code": 2, "param": exc.param}, status_code=422)
    return JSONResponse({"result": result})
