WITH closed AS (
  SELECT
    *
  FROM conversations AS c
  WHERE
    workspace = :ws
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
    AND (
      NOT :by_teammate OR ARRAYS_OVERLAP(c.teammates, :teammates)
    )
), involved AS (
  SELECT
    department,
    COUNT(DISTINCT teammate_id) AS teammates
  FROM (
    SELECT
      department,
      EXPLODE(teammates) AS teammate_id
    FROM closed
  )
  GROUP BY
    department
)
SELECT
  c.department AS department,
  COUNT(*) AS conversations,
  COALESCE(ANY_VALUE(i.teammates) IGNORE NULLS, 0) AS teammates,
  SUM(c.resolution_us) AS resolution_us,
  COUNT(c.resolution_us) AS resolved
FROM closed AS c
LEFT JOIN involved AS i
  ON i.department IS NOT DISTINCT FROM c.department
GROUP BY
  c.department
ORDER BY
  conversations DESC,
  c.department NULLS LAST
