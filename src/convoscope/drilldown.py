"""The conversations behind a chart, for drill-down: `GET /v1/conversations` and its CSV.

Not a page: a list of derived rows under a page's period and filters (`scope`), plus the
drill-down filters of one chart element (engaged, support type, department), newest first,
the count and the page of rows from one snapshot. Timestamps are UTC ISO 8601 with `Z`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from convoscope import conversations as cut
from convoscope import scope
from convoscope.engines import Tables
from convoscope.query import Query
from convoscope.store import bound, only_row


@dataclass(frozen=True)
class ConversationFilter:
    """The rows behind a chart: the query's period and channels, plus drill-down filters.

    `department=""` selects conversations closed without a department; any department filter
    keeps closed conversations only. `anchor` picks the timestamp that places a conversation in
    the period (`closed_at` matches the department chart).
    """

    query: Query
    engaged: bool | None = None
    support_type: Literal["teammate", "chatbot"] | None = None
    department: str | None = None
    anchor: Literal["started_at", "closed_at"] = "started_at"

    def name_parts(self) -> list[str]:
        """These filters as parts of a file name (`exports.filename`)."""
        parts = []
        if self.engaged is not None:
            parts.append("engaged" if self.engaged else "not-engaged")
        if self.support_type is not None:
            parts.append(f"support-{self.support_type}")
        if self.department is not None:
            parts.append(f"department-{self.department or 'none'}")
        if self.anchor != "started_at":
            parts.append(f"by-{self.anchor}")
        return parts


# The drill-down rows (`/v1/conversations` JSON and CSV): one definition, in output order.
CONVERSATION_COLUMNS = (
    "conversation_id",
    "channel",
    "customer_id",
    "started_at",
    "ended_at",
    "duration_seconds",
    "engaged",
    "escalated_at",
    "transfer_requests",
    "support_type",
    "closed_at",
    "department",
    "closed_by",
    "first_response_at",
    "resolution_seconds",
    "customer_messages",
    "chatbot_messages",
    "teammate_messages",
)
_COMPUTED = {
    "duration_seconds": "duration_us / 1e6",
    "resolution_seconds": "resolution_us / 1e6",
}
_ROW_COLUMNS = ", ".join(f"{_COMPUTED.get(c, c)} AS {c}" for c in CONVERSATION_COLUMNS)


def conversations(
    tables: Tables, filt: ConversationFilter, *, limit: int | None, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page of rows newest first); timestamps as UTC ISO 8601 with Z."""
    anchor = "closed_at" if filt.anchor == "closed_at" else "started_at"
    where = f"""
        FROM conversations AS c
        WHERE workspace = $ws AND {anchor} >= $start AND {anchor} < $end
          AND {scope.conversation("c")}
          AND ($engaged IS NULL OR engaged = $engaged)
          AND ($support IS NULL OR support_type = $support)
          AND (NOT $drill_by_department OR (closed_at IS NOT NULL
               AND department IS NOT DISTINCT FROM $drill_department))
    """
    query = filt.query
    params = {
        **scope.params(query),
        "start": query.period.start,
        "end": query.period.end,
        "engaged": filt.engaged,
        "support": filt.support_type,
        # not `by_department`/`departments`: those are the departments filter's (see scope)
        "drill_by_department": filt.department is not None,
        "drill_department": filt.department or None,
    }
    cut.settle(tables)  # read-your-writes
    con = tables.con
    # parameters, not text: statements stay few (`bound` keeps each one's parameter names)
    page = "" if limit is None else "LIMIT $limit OFFSET $offset"
    params |= {"limit": limit, "offset": offset}
    con.begin()  # the count and the page from one snapshot, even while events arrive
    try:
        (total,) = only_row(con, f"SELECT count(*) {where}", params)
        sql = f"SELECT {_ROW_COLUMNS} {where} ORDER BY {anchor} DESC, conversation_id {page}"
        cur = con.execute(sql, bound(con, sql, params))
        rows = [
            {
                n: _utc_text(v) if isinstance(v, datetime) else v
                for n, v in zip(CONVERSATION_COLUMNS, row, strict=True)
            }
            for row in cur.fetchall()
        ]
    finally:
        con.rollback()
    return total, rows


def _utc_text(ts: datetime) -> str:
    return ts.isoformat() + "Z"
