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
    workspace,
    conversation_id,
    flow,
    pos,
    flow_type,
    flow_end,
    MIN(CASE WHEN NOT flow_type IS NULL THEN pos END) OVER (PARTITION BY workspace, conversation_id, flow) AS typed_pos
  FROM flowed
  WHERE
    bot_flow
), flows AS (
  SELECT
    workspace,
    conversation_id,
    flow,
    MAX(CASE WHEN flow_end THEN 1 ELSE 0 END) = 1 AS flow_completed,
    MAX(CASE WHEN pos = typed_pos THEN flow_type END) AS flow_sent_type
  FROM typed
  GROUP BY
    workspace,
    conversation_id,
    flow
), spans AS (
  SELECT
    workspace,
    conversation_id,
    MIN(pos) AS first_flow_pos,
    MAX(pos) AS last_flow_pos
  FROM typed
  GROUP BY
    workspace,
    conversation_id
)
SELECT
  f.*,
  s.first_flow_pos,
  s.last_flow_pos,
  l.flow_completed,
  l.flow_sent_type
FROM flowed AS f
LEFT JOIN spans AS s
  ON s.workspace = f.workspace AND s.conversation_id = f.conversation_id
LEFT JOIN flows AS l
  ON f.bot_flow
  AND l.workspace = f.workspace
  AND l.conversation_id = f.conversation_id
  AND l.flow = f.flow
