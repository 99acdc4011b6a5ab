WITH customers AS (
  SELECT
    TRUE AS in_period,
    COUNT(DISTINCT customer_id) AS customers
  FROM conversations AS c
  WHERE
    workspace = :ws
    AND started_at >= :start
    AND started_at < :end
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
  UNION ALL
  SELECT
    FALSE AS in_period,
    COUNT(DISTINCT customer_id) AS customers
  FROM conversations AS c
  WHERE
    workspace = :ws
    AND started_at >= :previous_start
    AND started_at < :previous_end
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
), sums AS (
  SELECT
    started_at >= :start AS in_period,
    COUNT(*) AS total,
    COUNT(*) FILTER(WHERE
      engaged) AS engaged,
    SUM(duration_us) FILTER(WHERE
      engaged) AS duration_all,
    SUM(duration_us) FILTER(WHERE
      engaged AND support_type = 'teammate') AS duration_teammate,
    SUM(duration_us) FILTER(WHERE
      engaged AND support_type = 'chatbot') AS duration_chatbot,
    COUNT(*) FILTER(WHERE
      support_type = 'teammate') AS all_teammate,
    COUNT(*) FILTER(WHERE
      support_type = 'chatbot') AS all_chatbot,
    COUNT(*) FILTER(WHERE
      engaged AND support_type = 'teammate') AS engaged_teammate,
    COUNT(*) FILTER(WHERE
      engaged AND support_type = 'chatbot') AS engaged_chatbot
  FROM conversations AS c
  WHERE
    workspace = :ws
    AND started_at >= :previous_start
    AND started_at < :end
    AND (
      started_at >= :start OR started_at < :previous_end
    )
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
    started_at >= :start
)
SELECT
  s.*,
  k.customers AS customers
FROM sums AS s
JOIN customers AS k
  ON k.in_period = s.in_period
