"""CSV downloads: every export a page declares, and the drill-down conversations.

Each `Export` of `convoscope.pages` gets `GET /v1/reports/<name>.csv`, computed by
`pages.runner.export`. Cells and file names go through `convoscope.exports` (formula
neutralisation, RFC 6266 `Content-Disposition`), the one output boundary for files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from convoscope import drilldown, exports, pages
from convoscope.api.analytics import Filters
from convoscope.api.deps import AnalyticsParams, Svc
from convoscope.api.errors import param_error
from convoscope.pages import runner
from convoscope.pages.common import Export
from convoscope.query import QueryError

router = APIRouter(tags=["analytics"])
CSV = "text/csv; charset=utf-8"
_CSV_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def _download(item: Export) -> Callable[..., Response]:
    def download(query: AnalyticsParams, svc: Svc) -> Response:
        try:
            rows = runner.export(item, svc.tables, query)
        except QueryError as exc:  # a filter the page does not take
            raise param_error(exc.param, exc.message) from None
        return Response(
            exports.csv_text(item.columns, rows),
            media_type=CSV,
            headers={
                "Content-Disposition": exports.content_disposition(
                    exports.filename(item.name, query)
                )
            },
        )

    download.__name__ = f"{item.name}_csv"
    download.__doc__ = item.summary
    return download


for _item in pages.EXPORTS.values():
    router.add_api_route(
        f"/v1/reports/{_item.name}.csv",
        _download(_item),
        methods=["GET"],
        response_class=Response,
        responses=_CSV_DOC,
        summary=f"{_item.name.capitalize()} report (CSV)",
    )


@router.get(
    "/v1/conversations.csv",
    response_class=StreamingResponse,
    responses=_CSV_DOC,
    summary="Conversations (CSV)",
)
def conversations_csv(filters: Filters, svc: Svc) -> StreamingResponse:
    """The same conversations as `/v1/conversations`, all of them, one row each."""
    _, rows = drilldown.conversations(svc.tables, filters, limit=None, offset=0)
    values = ([row[c] for c in drilldown.CONVERSATION_COLUMNS] for row in rows)
    name = exports.filename("conversations", filters.query, *filters.name_parts())
    return StreamingResponse(
        exports.csv_lines(drilldown.CONVERSATION_COLUMNS, values),
        media_type=CSV,
        headers={"Content-Disposition": exports.content_disposition(name)},
    )
