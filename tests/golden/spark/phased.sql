WITH phased AS (
  SELECT
    *,
    (
      first_escalation_pos IS NULL OR pos < first_escalation_pos
    ) AS bot_phase
  FROM assigned
  WHERE
    NOT orphan
), flowed AS (
  SELECT
    *,
    bot_phase AND sender = 'chatbot' AND NOT flow IS NULL AS bot_flow
  FROM phased
), typed AS (
  SELECT
    *,
    MIN(CASE WHEN bot_flow AND NOT flow_type IS NULL THEN pos END) OVER flow AS typed_pos
  FROM flowed
  WINDOW flow AS (PARTITION BY workspace, channel, customer_id, conversation_id, flow)
)
SELECT
  *,
  MIN(CASE WHEN bot_flow THEN pos END) OVER conversation AS first_flow_pos,
  MAX(CASE WHEN bot_flow THEN pos END) OVER conversation AS last_flow_pos,
  MAX(CASE WHEN bot_flow AND flow_end THEN 1 ELSE 0 END) OVER flow = 1 AS flow_completed,
  MAX(CASE WHEN pos = typed_pos THEN flow_type END) OVER flow AS flow_sent_type
FROM typed
WINDOW conversation AS (PARTITION BY workspace, channel, customer_id, conversation_id), flow AS (PARTITION BY workspace, channel, customer_id, conversation_id, flow)
