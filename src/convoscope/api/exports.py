"""CSV downloads: the department report, the teammates table and the drill-down conversations.

Cells and file names go through `convoscope.exports` (formula neutralisation, RFC 6266
`Content-Disposition`), the one output boundary for files.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from convoscope import exports, overview, team
from convoscope.api.analytics import Filters
from convoscope.api.deps import AnalyticsParams, Svc

router = APIRouter(tags=["analytics"])
CSV = "text/csv; charset=utf-8"
_CSV_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


@router.get("/v1/reports/departments.csv", response_class=Response, responses=_CSV_DOC)
def departments_csv(query: AnalyticsParams, svc: Svc) -> Response:
    """The department report: one row per department closed in the period."""
    rows = exports.department_rows(overview.departments(svc.tables, query))
    name = exports.filename("departments", query)
    return Response(
        exports.csv_text(exports.DEPARTMENT_COLUMNS, rows),
        media_type=CSV,
        headers={"Content-Disposition": exports.content_disposition(name)},
    )


@router.get("/v1/reports/teammates.csv", response_class=Response, responses=_CSV_DOC)
def teammates_csv(query: AnalyticsParams, svc: Svc) -> Response:
    """The Team Performance teammates table: one row per teammate, every element."""
    rows = exports.teammate_rows(team.run(svc.tables, query).by_teammate)
    return Response(
        exports.csv_text(exports.TEAMMATE_COLUMNS, rows),
        media_type=CSV,
        headers={
            "Content-Disposition": exports.content_disposition(exports.filename("teammates", query))
        },
    )


@router.get("/v1/conversations.csv", response_class=StreamingResponse, responses=_CSV_DOC)
def conversations_csv(filters: Filters, svc: Svc) -> StreamingResponse:
    """The same conversations as `/v1/conversations`, all of them, one row each."""
    _, rows = overview.conversations(svc.tables, filters, limit=None, offset=0)
    values = ([row[c] for c in overview.CONVERSATION_COLUMNS] for row in rows)
    name = exports.filename("conversations", filters.query)
    return StreamingResponse(
        exports.csv_lines(overview.CONVERSATION_COLUMNS, values),
        media_type=CSV,
        headers={"Content-Disposition": exports.content_disposition(name)},
    )
