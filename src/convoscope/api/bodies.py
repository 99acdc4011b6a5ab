"""Reading request bodies within limits, and parsing them without surprises.

Bodies are read as a stream and refused past their limit without reading the rest; a client
that goes away mid-upload is a 400 (logged once, without a traceback). JSON is parsed with
the standard library, whose recursion limit and integer-digit limit raise errors that are
mapped here to 400s naming the problem instead of 500s. NDJSON is split on LF (and CRLF)
only: `str.splitlines` would also split inside strings at U+2028, U+0085 and friends.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.requests import ClientDisconnect

from convoscope.api.errors import ApiError

MAX_EVENTS = 10_000
MAX_BODY_BYTES = 16 * 1024 * 1024


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refusing more than `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body over {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"body over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "the client disconnected before sending the whole body") from None
    return b"".join(chunks)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer over the interpreter's digit limit
        raise ApiError(400, f"body is not valid JSON: {exc}") from None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"body is not UTF-8: {exc}") from None


def parse_object(body: bytes) -> dict[str, Any]:
    payload = _loads(_text(body))
    if not isinstance(payload, dict):
        raise ApiError(422, "body must be a JSON object")
    return payload


def parse_events(body: bytes, content_type: str) -> list[Any]:
    """A JSON array, or NDJSON with Content-Type application/x-ndjson."""
    text = _text(body)
    if content_type.split(";")[0].strip().lower() == "application/x-ndjson":
        records = [_loads(line) for line in text.split("\n") if line.strip()]
    else:
        records = _loads(text)
    if not isinstance(records, list):
        raise ApiError(422, "body must be a JSON array of events (or NDJSON)")
    if len(records) > MAX_EVENTS:
        raise ApiError(413, f"{len(records)} events; at most {MAX_EVENTS} per request")
    return records
