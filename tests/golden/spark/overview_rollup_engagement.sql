WITH per_slot AS (
  SELECT
    slot,
    SUM(engaged) AS engaged,
    SUM(conversations) - SUM(engaged) AS non_engaged
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
)
SELECT
  b.idx AS idx,
  SUM(s.engaged) AS engaged,
  SUM(s.non_engaged) AS non_engaged
FROM per_slot AS s
JOIN buckets AS b
  ON s.slot >= b.start_at AND s.slot < b.end_at
GROUP BY
  b.idx
