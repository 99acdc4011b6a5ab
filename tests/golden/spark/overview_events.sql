SELECT
  b.idx AS idx,
  COUNT(*) FILTER(WHERE
    e.sender = 'teammate') AS teammate,
  COUNT(*) FILTER(WHERE
    e.sender = 'chatbot') AS chatbot,
  COUNT(*) FILTER(WHERE
    e.sender = 'customer') AS customer,
  COUNT(*) FILTER(WHERE
    e.type = 'transfer_request') AS transfers
FROM conversation_events AS e
JOIN buckets AS b
  ON e.ts >= b.start_at AND e.ts < b.end_at
WHERE
  e.workspace = :ws
  AND (
    NOT :by_channel OR ARRAY_CONTAINS(:channels, e.channel)
  )
  AND (
    NOT :by_department
    AND NOT :by_teammate
    OR e.conversation_id IN (
      SELECT
        c.conversation_id
      FROM conversations AS c
      WHERE
        NOT (
          NOT :by_department AND NOT :by_teammate
        )
        AND c.workspace = :ws
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
        AND (
          NOT :by_teammate OR ARRAYS_OVERLAP(c.teammates, :teammates)
        )
    )
  )
GROUP BY
  b.idx
