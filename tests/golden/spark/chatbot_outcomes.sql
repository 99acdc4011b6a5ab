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
), typed AS (
  SELECT
    b.*,
    CASE
      WHEN b.outcome IN ('automated', 'abandoned_in_flow', 'transferred')
      THEN 1
      ELSE 0
    END AS handled,
    CASE
      WHEN b.first_flow IS NULL
      THEN 'none'
      ELSE COALESCE(k.type, b.first_flow_sent_type, 'other')
    END AS first_type
  FROM bot AS b
  LEFT JOIN flow_catalogue AS k
    ON k.flow = b.first_flow
), placed AS (
  /* the buckets lie in the period: the previous period's conversations meet none */
  SELECT
    t.*,
    x.idx
  FROM typed AS t
  LEFT JOIN buckets AS x
    ON t.started_at >= x.start_at AND t.started_at < x.end_at
)
SELECT
  in_period,
  outcome,
  handled,
  idx,
  first_type,
  last_flow,
  transferred,
  GROUPING(outcome) = 0 AS by_outcome,
  GROUPING(handled) = 0 AS by_handled,
  GROUPING(idx) = 0 AS by_bucket,
  GROUPING(first_type) = 0 AS by_first_type,
  GROUPING(last_flow) = 0 AS by_last_flow,
  GROUPING(transferred) = 0 AS by_reason,
  COUNT(*) AS n,
  SUM(bot_duration_us) AS total,
  PERCENTILE(bot_duration_us, 0.5) AS median,
  PERCENTILE(bot_duration_us, 0.9) AS p90
FROM placed
GROUP BY
  GROUPING SETS (
    (in_period, handled),
    (in_period, outcome),
    (in_period, outcome, idx),
    (in_period, handled, first_type),
    (in_period, outcome, last_flow),
    (in_period, outcome, transferred)
  )
