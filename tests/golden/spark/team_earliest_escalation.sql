SELECT
  MIN(escalated_at) AS earliest
FROM conversations AS c
WHERE
  workspace = :ws
  AND NOT escalated_at IS NULL
  AND closed_at >= :start
  AND closed_at < :end
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
