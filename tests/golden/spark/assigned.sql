WITH ordered AS (
  SELECT
    e.workspace,
    e.channel,
    e.customer_id,
    e.thread_key,
    e.event_id,
    e.seq,
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
    ws.inactivity_seconds,
    ws.escalated_inactivity_seconds,
    CASE WHEN e.type = 'transfer_request' OR e.sender = 'teammate' THEN 1 ELSE 0 END AS escalates,
    ROW_NUMBER() OVER thread AS pos,
    LAG(e.ts) OVER thread AS prev_ts,
    LAG(e.type) OVER thread AS prev_type
  FROM thread_events AS e
  JOIN workspaces AS ws
    ON ws.name = e.workspace
  WHERE
    e.type IN ('message', 'transfer_request', 'close')
  WINDOW thread AS (
    PARTITION BY e.workspace, e.channel, e.customer_id
    ORDER BY e.ts NULLS LAST, e.seq NULLS LAST
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
    SUM(hard_break) OVER (
      PARTITION BY workspace, channel, customer_id
      ORDER BY pos NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS segment
  FROM gaps
), starts AS (
  SELECT
    *,
    CASE
      WHEN hard_break = 1
      OR (
        gap_us > CAST(inactivity_seconds AS BIGINT) * 1000000
        AND COALESCE(
          SUM(escalates) OVER (
            PARTITION BY workspace, channel, customer_id, segment
            ORDER BY pos NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
          ),
          0
        ) = 0
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
)
SELECT
  workspace,
  channel,
  customer_id,
  thread_key,
  event_id,
  pos,
  ts,
  type,
  sender,
  teammate_id,
  welcome,
  department,
  flow,
  flow_type,
  step,
  flow_end,
  fallback,
  escalates,
  starts_conversation = 1 AND type = 'close' AS orphan,
  FIRST_VALUE(event_id) OVER conversation AS conversation_id,
  MIN(CASE WHEN welcome THEN pos END) OVER conversation AS welcome_pos,
  MIN(CASE WHEN sender = 'teammate' THEN pos END) OVER conversation AS first_teammate_pos,
  MAX(CASE WHEN sender = 'teammate' THEN pos END) OVER conversation AS last_teammate_pos,
  MIN(CASE WHEN escalates = 1 THEN pos END) OVER conversation AS first_escalation_pos
FROM numbered
WINDOW conversation AS (
  PARTITION BY workspace, channel, customer_id, conversation_no
  ORDER BY pos NULLS LAST
  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
)
