SELECT
  e.ts >= :start AS in_period,
  COUNT(*) AS messages,
  SUM(CASE WHEN e.fallback THEN 1 ELSE 0 END) AS fallbacks
FROM conversation_events AS e
WHERE
  e.workspace = :ws
  AND e.sender = 'chatbot'
  AND e.bot_phase
  AND e.ts >= :previous_start
  AND e.ts < :end
  AND (
    e.ts >= :start OR e.ts < :previous_end
  )
  AND (
    NOT :by_channel OR ARRAY_CONTAINS(:channels, e.channel)
  )
  AND (
    NOT :by_department
    OR e.conversation_id IN (
      SELECT
        c.conversation_id
      FROM conversations AS c
      WHERE
        NOT (
          NOT :by_department
        )
        AND c.workspace = :ws
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
  )
  AND (
    NOT (
      :by_flow OR :by_flow_type
    )
    OR e.conversation_id IN (
      SELECT
        c.conversation_id
      FROM conversations AS c
      WHERE
        (
          :by_flow OR :by_flow_type
        )
        AND c.workspace = :ws
        AND (
          NOT :by_flow
          OR (
            :no_flow AND c.flows_entered = 0
          )
          OR c.conversation_id IN (
            SELECT
              f.conversation_id
            FROM conversation_flows AS f
            WHERE
              :by_flow AND f.workspace = :ws AND ARRAY_CONTAINS(:flows, f.flow)
          )
        )
        AND (
          NOT :by_flow_type
          OR (
            :no_flow_type AND c.flows_entered = 0
          )
          OR c.conversation_id IN (
            SELECT
              f.conversation_id
            FROM conversation_flows AS f
            LEFT JOIN flow_catalogue AS k
              ON k.flow = f.flow
            WHERE
              :by_flow_type
              AND f.workspace = :ws
              AND ARRAY_CONTAINS(:flow_types, COALESCE(k.type, f.sent_type, 'other'))
          )
        )
    )
  )
GROUP BY
  in_period
