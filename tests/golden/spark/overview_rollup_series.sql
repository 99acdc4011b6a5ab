WITH conversation_slot AS (
  SELECT
    slot,
    SUM(engaged) AS engaged,
    SUM(conversations) - SUM(engaged) AS non_engaged,
    SUM(engaged_ends) AS ends
  FROM conversation_slots AS r
  WHERE
    r.workspace = :ws
    AND (
      NOT :by_channel OR ARRAY_CONTAINS(:channels, r.channel)
    )
    AND (
      NOT :by_department
      OR (
        r.department IS NULL AND :no_department
      )
      OR COALESCE(ARRAY_CONTAINS(:departments, r.department), FALSE)
    )
    AND slot >= :start
    AND slot < :end
  GROUP BY
    slot
), event_slot AS (
  SELECT
    slot,
    SUM(teammate_messages) AS teammate,
    SUM(chatbot_messages) AS chatbot,
    SUM(customer_messages) AS customer,
    SUM(transfer_requests) AS transfers
  FROM event_slots AS r
  WHERE
    r.workspace = :ws
    AND (
      NOT :by_channel OR ARRAY_CONTAINS(:channels, r.channel)
    )
    AND (
      NOT :by_department
      OR (
        r.department IS NULL AND :no_department
      )
      OR COALESCE(ARRAY_CONTAINS(:departments, r.department), FALSE)
    )
    AND slot >= :start
    AND slot < :end
  GROUP BY
    slot
), conversation_bucket AS (
  SELECT
    b.idx,
    COALESCE(SUM(s.engaged), 0) AS engaged,
    COALESCE(SUM(s.non_engaged), 0) AS non_engaged,
    COALESCE(SUM(s.ends), 0) AS ends
  FROM buckets AS b
  LEFT JOIN conversation_slot AS s
    ON s.slot >= b.start_at AND s.slot < b.end_at
  GROUP BY
    b.idx
), event_bucket AS (
  SELECT
    b.idx,
    SUM(e.teammate) AS teammate,
    SUM(e.chatbot) AS chatbot,
    SUM(e.customer) AS customer,
    SUM(e.transfers) AS transfers
  FROM event_slot AS e
  JOIN buckets AS b
    ON e.slot >= b.start_at AND e.slot < b.end_at
  GROUP BY
    b.idx
), opened AS (
  SELECT
    COUNT(*) AS n
  FROM conversations AS c
  WHERE
    workspace = :ws
    AND engaged
    AND started_at < :start
    AND ended_at >= :start
    AND (
      NOT :by_channel OR ARRAY_CONTAINS(:channels, c.channel)
    )
    AND (
      NOT :by_department
      OR (
        c.department IS NULL AND :no_department
      )
      OR COALESCE(ARRAY_CONTAINS(:departments, c.department), FALSE)
    )
)
SELECT
  c.idx AS idx,
  c.engaged AS engaged,
  c.non_engaged AS non_engaged,
  (
    SELECT
      n
    FROM opened
  ) + (
    SUM(c.engaged) OVER upto
  ) - (
    (
      SUM(c.ends) OVER upto
    ) - c.ends
  ) AS engaged_live,
  COALESCE(e.teammate, 0) AS teammate,
  COALESCE(e.chatbot, 0) AS chatbot,
  COALESCE(e.customer, 0) AS customer,
  COALESCE(e.transfers, 0) AS transfers
FROM conversation_bucket AS c
LEFT JOIN event_bucket AS e
  ON e.idx = c.idx
WINDOW upto AS (ORDER BY c.idx NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
