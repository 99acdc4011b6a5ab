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
)
SELECT
  *,
  MIN(CASE WHEN bot_flow THEN pos END) OVER conversation AS first_flow_pos,
  MAX(CASE WHEN bot_flow THEN pos END) OVER conversation AS last_flow_pos,
  MAX(CASE WHEN bot_flow AND flow_end THEN 1 ELSE 0 END) OVER (PARTITION BY workspace, channel, customer_id, conversation_id, flow) = 1 AS flow_completed
FROM flowed
WINDOW conversation AS (PARTITION BY workspace, channel, customer_id, conversation_id)
