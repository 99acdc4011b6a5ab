WITH per_slot AS (
  SELECT
    slot,
    SUM(engaged) AS starts,
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
), per_bucket AS (
  SELECT
    b.idx,
    COALESCE(SUM(s.starts), 0) AS starts,
    COALESCE(SUM(s.ends), 0) AS ends
  FROM buckets AS b
  LEFT JOIN per_slot AS s
    ON s.slot >= b.start_at AND s.slot < b.end_at
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
  idx,
  (
    SELECT
      n
    FROM opened
  ) + (
    SUM(starts) OVER upto
  ) - (
    (
      SUM(ends) OVER upto
    ) - ends
  ) AS engaged_live
FROM per_bucket
WINDOW upto AS (ORDER BY idx NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
