WITH marked AS (
  SELECT
    e.workspace,
    e.channel,
    e.customer_id,
    e.event_id,
    e.seq,
    e.ts,
    e.type,
    e.welcome,
    ws.inactivity_seconds,
    ws.escalated_inactivity_seconds,
    CASE WHEN e.sender = 'teammate' THEN 1 ELSE 0 END AS by_teammate,
    CASE WHEN e.type = 'transfer_request' OR e.sender = 'teammate' THEN 1 ELSE 0 END AS escalates
  FROM thread_events AS e
  JOIN workspaces AS ws
    ON ws.name = e.workspace
  WHERE
    e.type IN ('message', 'transfer_request', 'close')
), ordered AS (
  SELECT
    *,
    ROW_NUMBER() OVER thread AS pos,
    LAG(ts) OVER thread AS prev_ts,
    LAG(type) OVER thread AS prev_type,
    CAST(COALESCE(
      SUM(escalates) OVER (
        PARTITION BY workspace, channel, customer_id
        ORDER BY ts NULLS LAST, seq NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS BIGINT) AS escalations_before
  FROM marked
  WINDOW thread AS (
    PARTITION BY workspace, channel, customer_id
    ORDER BY ts NULLS LAST, seq NULLS LAST
  )
), gaps AS (
  SELECT
    *,
    DATEDIFF(MICROSECOND, prev_ts, ts) AS gap_us,
    CASE
      WHEN prev_ts IS NULL
      OR prev_type = 'close'
      OR DATEDIFF(MICROSECOND, prev_ts, ts) > CAST(escalated_inactivity_seconds AS BIGINT) * 1000000
      THEN 1
      ELSE 0
    END AS hard_break
  FROM ordered
), segments AS (
  SELECT
    *,
    MAX(CASE WHEN hard_break = 1 THEN escalations_before END) OVER (
      PARTITION BY workspace, channel, customer_id
      ORDER BY pos NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS segment_escalations
  FROM gaps
), starts AS (
  SELECT
    *,
    CASE
      WHEN hard_break = 1
      OR (
        gap_us > CAST(inactivity_seconds AS BIGINT) * 1000000
        AND escalations_before = segment_escalations
      )
      THEN 1
      ELSE 0
    END AS starts_conversation
  FROM segments
), numbered AS (
  SELECT
    *,
    SUM(starts_conversation) OVER (
      PARTITION BY workspace, channel, customer_id
      ORDER BY pos NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS conversation_no
  FROM starts
), cut AS (
  SELECT
    workspace,
    seq,
    pos,
    escalates,
    starts_conversation = 1 AND type = 'close' AS orphan,
    FIRST_VALUE(event_id) OVER conversation AS conversation_id,
    MIN(CASE WHEN welcome THEN pos END) OVER conversation AS welcome_pos,
    MIN(CASE WHEN by_teammate = 1 THEN pos END) OVER conversation AS first_teammate_pos,
    MAX(CASE WHEN by_teammate = 1 THEN pos END) OVER conversation AS last_teammate_pos,
    MIN(CASE WHEN escalates = 1 THEN pos END) OVER conversation AS first_escalation_pos
  FROM numbered
  WINDOW conversation AS (
    PARTITION BY workspace, channel, customer_id, conversation_no
    ORDER BY pos NULLS LAST
    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
  )
)
SELECT
  e.workspace,
  e.channel,
  e.customer_id,
  e.thread_key,
  e.event_id,
  c.pos,
  e.ts,
  e.type,
  e.sender,
  e.teammate_id,
  e.welcome,
  e.department,
  e.flow,
  e.flow_type,
  e.step,
  e.flow_end,
  e.fallback,
  c.escalates,
  c.orphan,
  c.conversation_id,
  c.welcome_pos,
  c.first_teammate_pos,
  c.last_teammate_pos,
  c.first_escalation_pos
FROM cut AS c
JOIN thread_events AS e
  ON e.workspace = c.workspace AND e.seq = c.seq
