WITH messages AS (
  SELECT
    *,
    MIN(CASE WHEN NOT flow_type IS NULL THEN pos END) OVER flow AS typed_pos,
    MAX(pos) OVER flow AS last_pos
  FROM phased
  WHERE
    bot_flow
  WINDOW flow AS (PARTITION BY workspace, channel, customer_id, conversation_id, flow)
)
SELECT
  workspace,
  channel,
  customer_id,
  thread_key,
  conversation_id,
  flow,
  MAX(CASE WHEN pos = typed_pos THEN flow_type END) AS sent_type,
  MAX(CASE WHEN flow_end THEN 1 ELSE 0 END) = 1 AS completed,
  MIN(ts) AS first_at,
  MAX(ts) AS last_at,
  MAX(CASE WHEN pos = last_pos THEN step END) AS last_step,
  SUM(CASE WHEN fallback THEN 1 ELSE 0 END) AS fallbacks
FROM messages
GROUP BY
  workspace,
  channel,
  customer_id,
  thread_key,
  conversation_id,
  flow
