SELECT
  b.idx AS idx,
  COUNT(*) FILTER(WHERE
    c.engaged) AS engaged,
  COUNT(*) FILTER(WHERE
    NOT c.engaged) AS non_engaged
FROM conversations AS c
JOIN buckets AS b
  ON c.started_at >= b.start_at AND c.started_at < b.end_at
WHERE
  c.workspace = :ws
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
GROUP BY
  b.idx
