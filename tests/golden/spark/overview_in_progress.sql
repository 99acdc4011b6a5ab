SELECT
  b.idx AS idx,
  COUNT(*) AS engaged_live
FROM conversations AS c
JOIN buckets AS b
  ON c.started_at < b.end_at AND c.ended_at >= b.start_at
WHERE
  c.workspace = :ws
  AND c.engaged
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
  AND c.started_at < :end
  AND c.ended_at >= :start
GROUP BY
  b.idx
