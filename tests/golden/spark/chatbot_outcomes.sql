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
)
/* the time with the chatbot of the handled conversations: the one grouping with percentiles */
SELECT
  in_period,
  CAST(NULL AS STRING) AS outcome,
  handled,
  CAST(NULL AS INT) AS idx,
  CAST(NULL AS STRING) AS first_type,
  CAST(NULL AS STRING) AS last_flow,
  CAST(NULL AS BOOLEAN) AS transferred,
  FALSE AS by_outcome,
  TRUE AS by_handled,
  FALSE AS by_bucket,
  FALSE AS by_first_type,
  FALSE AS by_last_flow,
  FALSE AS by_reason,
  COUNT(*) AS n,
  SUM(bot_duration_us) AS total,
  PERCENTILE(bot_duration_us, 0.5) AS median,
  PERCENTILE(bot_duration_us, 0.9) AS p90
FROM typed
WHERE
  handled = 1
GROUP BY
  in_period,
  handled
UNION ALL
SELECT
  in_period,
  outcome,
  handled,
  NULL,
  first_type,
  last_flow,
  transferred,
  GROUPING(outcome) = 0,
  GROUPING(handled) = 0,
  FALSE,
  GROUPING(first_type) = 0,
  GROUPING(last_flow) = 0,
  GROUPING(transferred) = 0,
  COUNT(*),
  NULL,
  NULL,
  NULL
FROM typed
GROUP BY
  GROUPING SETS (
    (in_period, outcome),
    (in_period, handled, first_type),
    (in_period, outcome, last_flow),
    (in_period, outcome, transferred)
  )
UNION ALL
/* the period's outcomes per bucket, counted per slot first (`slot_of`) */
SELECT
  TRUE,
  s.outcome,
  NULL,
  x.idx,
  NULL,
  NULL,
  NULL,
  TRUE,
  FALSE,
  TRUE,
  FALSE,
  FALSE,
  FALSE,
  SUM(s.n),
  NULL,
  NULL,
  NULL
FROM (
  SELECT
    t.outcome,
    CASE
      WHEN :on_slots
      THEN CAST(TIMESTAMP_SECONDS(FLOOR(UNIX_SECONDS(CAST(t.started_at AS TIMESTAMP_LTZ)) / 900) * 900) AS TIMESTAMP_NTZ)
      ELSE t.started_at
    END AS slot,
    COUNT(*) AS n
  FROM typed AS t
  WHERE
    t.in_period
  GROUP BY
    t.outcome,
    slot
) AS s
JOIN buckets AS x
  ON s.slot >= x.start_at AND s.slot < x.end_at
GROUP BY
  s.outcome,
  x.idx
