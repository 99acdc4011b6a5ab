WITH bot AS (
  SELECT
    c.conversation_id,
    c.started_at >= :start AS in_period,
    c.started_at,
    c.bot_duration_us,
    c.first_flow,
    c.first_flow_sent_type,
    c.last_flow,
    c.transferred,
    CASE
      WHEN c.bot_outcome <> 'transferred'
      AND c.closed_at IS NULL
      AND DATEDIFF(MICROSECOND, c.ended_at, :now) <= :inactivity_us
      THEN 'in_progress'
      ELSE c.bot_outcome
    END AS outcome
  FROM conversations AS c
  WHERE
    c.workspace = :ws
    AND c.bot_involved
    AND c.started_at >= :previous_start
    AND c.started_at < :end
    AND (
      c.started_at >= :start OR c.started_at < :previous_end
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
), entered AS (
  /* named: ClickHouse keeps a joined column's table name in its name */
  SELECT
    f.flow AS flow,
    COALESCE(k.type, f.sent_type, 'other') AS type,
    f.completed AS completed,
    f.fallbacks AS fallbacks,
    f.last_step AS last_step,
    DATEDIFF(MICROSECOND, f.first_at, f.last_at) AS in_flow_us,
    CASE WHEN b.outcome = 'abandoned_in_flow' AND b.last_flow = f.flow THEN 1 ELSE 0 END AS dropped
  FROM bot AS b
  JOIN conversation_flows AS f
    ON f.workspace = :ws AND f.conversation_id = b.conversation_id
  LEFT JOIN flow_catalogue AS k
    ON k.flow = f.flow
  /* the flows of the period's conversations only (they are stored in start order) */
  WHERE
    b.outcome IN ('automated', 'abandoned_in_flow', 'transferred')
    AND f.started_at >= :start
    AND f.started_at < :end
)
SELECT
  flow,
  type,
  last_step,
  GROUPING(type) = 0 AS by_type,
  GROUPING(last_step) = 0 AS by_step,
  COUNT(*) AS entered,
  SUM(CASE WHEN completed THEN 1 ELSE 0 END) AS completed,
  SUM(fallbacks) AS fallbacks,
  SUM(dropped) AS dropped,
  PERCENTILE(in_flow_us, 0.5) AS median_us
FROM entered
GROUP BY
  GROUPING SETS (
    (
      flow
    ),
    (flow, type),
    (flow, last_step)
  )
