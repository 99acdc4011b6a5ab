SELECT
  COUNT(*) AS total,
  COUNT(*) FILTER(WHERE
    engaged) AS engaged,
  COUNT(DISTINCT customer_id) AS customers,
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
