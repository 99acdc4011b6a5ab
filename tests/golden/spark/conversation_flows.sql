WITH messages AS (
  SELECT
    *,
    MAX(pos) OVER (PARTITION BY workspace, channel, customer_id, conversation_id, flow) AS last_pos
  FROM phased
  WHERE
    bot_flow
)
SELECT
  m.workspace,
  m.channel,
  m.customer_id,
  m.thread_key,
  m.conversation_id,
  m.flow,
  c.started_at,
  MAX(m.flow_sent_type) AS sent_type,
  MAX(CASE WHEN m.flow_end THEN 1 ELSE 0 END) = 1 AS completed,
  MIN(m.ts) AS first_at,
  MAX(m.ts) AS last_at,
  MAX(CASE WHEN m.pos = m.last_pos THEN m.step END) AS last_step,
  SUM(CASE WHEN m.fallback THEN 1 ELSE 0 END) AS fallbacks
FROM messages AS m
JOIN derived_conversations AS c
  ON c.workspace = m.workspace AND c.conversation_id = m.conversation_id
GROUP BY
  m.workspace,
  m.channel,
  m.customer_id,
  m.thread_key,
  m.conversation_id,
  m.flow,
  c.started_at
