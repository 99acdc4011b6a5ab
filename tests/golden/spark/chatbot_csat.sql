SELECT
  s.ts >= :start AS in_period,
  s.score,
  COUNT(*) AS n
FROM surveys AS s
WHERE
  s.workspace = :ws
  AND NOT s.conversation_id IS NULL
  AND s.about = 'chatbot'
  AND s.ts >= :previous_start
  AND s.ts < :end
  AND (
    s.ts >= :start OR s.ts < :previous_end
  )
  AND (
    NOT :by_channel OR ARRAY_CONTAINS(:channels, s.channel)
  )
  AND (
    NOT :by_department
    OR s.conversation_id IN (
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
    OR s.conversation_id IN (
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
  in_period,
  s.score
