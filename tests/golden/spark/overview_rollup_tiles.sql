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
), sums AS (
  SELECT
    in_period,
    COALESCE(SUM(conversations), 0) AS total,
    COALESCE(SUM(engaged), 0) AS engaged,
    SUM(duration_all) AS duration_all,
    SUM(duration_teammate) AS duration_teammate,
    SUM(duration_chatbot) AS duration_chatbot,
    COALESCE(SUM(all_teammate), 0) AS all_teammate,
    COALESCE(SUM(all_chatbot), 0) AS all_chatbot,
    COALESCE(SUM(engaged_teammate), 0) AS engaged_teammate,
    COALESCE(SUM(engaged_chatbot), 0) AS engaged_chatbot
  FROM (
    SELECT
      slot >= :start AS in_period,
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
      AND slot >= :previous_start
      AND slot < :slot_end
      AND (
        slot >= :start OR slot < :previous_slot_end
      )
    UNION ALL
    SELECT
      started_at >= :start,
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
      AND started_at >= :previous_slot_end
      AND started_at < :end
      AND (
        started_at >= :slot_end OR started_at < :previous_end
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
  ) AS parts
  GROUP BY
    in_period
)
SELECT
  s.*,
  k.customers AS customers
FROM sums AS s
JOIN customers AS k
  ON k.in_period = s.in_period
