SELECT
  COALESCE(SUM(conversations), 0) AS total,
  COALESCE(SUM(engaged), 0) AS engaged,
  (
    SELECT
      COUNT(DISTINCT customer_id)
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
  ) AS customers,
  SUM(duration_all) AS duration_all,
  SUM(duration_teammate) AS duration_teammate,
  SUM(duration_chatbot) AS duration_chatbot,
  COALESCE(SUM(all_teammate), 0) AS all_teammate,
  COALESCE(SUM(all_chatbot), 0) AS all_chatbot,
  COALESCE(SUM(engaged_teammate), 0) AS engaged_teammate,
  COALESCE(SUM(engaged_chatbot), 0) AS engaged_chatbot
FROM (
  SELECT
    conversations,
    engaged,
    engaged_duration_us AS duration_all,
    engaged_teammate_duration_us AS duration_teammate,
    engaged_chatbot_duration_us AS duration_chatbot,
    teammate_supported AS all_teammate,
    chatbot_supported AS all_chatbot,
    engaged_teammate,
    engaged_chatbot
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
    AND slot < :slot_end
  UNION ALL
  SELECT
    1,
    CAST(engaged AS BIGINT),
    CASE WHEN engaged THEN duration_us ELSE 0 END,
    CASE WHEN engaged AND support_type = 'teammate' THEN duration_us ELSE 0 END,
    CASE WHEN engaged AND support_type = 'chatbot' THEN duration_us ELSE 0 END,
    CAST(support_type = 'teammate' AS BIGINT),
    CAST(support_type = 'chatbot' AS BIGINT),
    CAST(engaged AND support_type = 'teammate' AS BIGINT),
    CAST(engaged AND support_type = 'chatbot' AS BIGINT)
  FROM conversations AS c
  WHERE
    workspace = :ws
    AND started_at >= :slot_end
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
)
