WITH facts AS (
  SELECT
    workspace,
    channel,
    customer_id,
    thread_key,
    conversation_id,
    MIN(ts) AS started_at,
    MAX(ts) AS ended_at,
    MAX(
      CASE
        WHEN type = 'message' AND sender = 'customer' AND pos > COALESCE(welcome_pos, 0)
        THEN 1
        ELSE 0
      END
    ) = 1 AS engaged,
    MIN(CASE WHEN escalates = 1 THEN ts END) AS escalated_at,
    SUM(CASE WHEN type = 'transfer_request' THEN 1 ELSE 0 END) AS transfer_requests,
    MAX(CASE WHEN type = 'close' THEN ts END) AS closed_at,
    MAX(CASE WHEN type = 'close' THEN department END) AS department,
    MAX(CASE WHEN type = 'close' THEN teammate_id END) AS closed_by,
    MIN(CASE WHEN sender = 'teammate' THEN ts END) AS first_response_at,
    SUM(CASE WHEN sender = 'customer' THEN 1 ELSE 0 END) AS customer_messages,
    SUM(CASE WHEN sender = 'chatbot' THEN 1 ELSE 0 END) AS chatbot_messages,
    SUM(CASE WHEN sender = 'teammate' THEN 1 ELSE 0 END) AS teammate_messages,
    MAX(CASE WHEN pos = first_teammate_pos THEN teammate_id END) AS first_responder,
    MAX(CASE WHEN pos = last_teammate_pos THEN teammate_id END) AS last_responder,
    MAX(
      CASE WHEN pos = first_escalation_pos AND type = 'transfer_request' THEN 1 ELSE 0 END
    ) = 1 AS transferred,
    MIN(
      CASE
        WHEN type = 'transfer_request'
        AND (
          first_teammate_pos IS NULL OR pos < first_teammate_pos
        )
        THEN ts
      END
    ) AS first_transfer_at,
    MIN(
      CASE
        WHEN sender = 'customer'
        AND (
          first_teammate_pos IS NULL OR pos < first_teammate_pos
        )
        THEN ts
      END
    ) AS first_customer_at,
    ARRAY_SORT(COLLECT_LIST(DISTINCT teammate_id) FILTER(WHERE
      NOT teammate_id IS NULL)) AS teammates,
    SUM(CASE WHEN bot_phase AND sender = 'chatbot' THEN 1 ELSE 0 END) AS bot_messages,
    SUM(CASE WHEN bot_phase AND sender = 'chatbot' AND fallback THEN 1 ELSE 0 END) AS bot_fallbacks,
    COUNT(DISTINCT CASE WHEN bot_flow THEN flow END) AS flows_entered,
    MAX(CASE WHEN pos = first_flow_pos THEN flow END) AS first_flow,
    MAX(CASE WHEN pos = first_flow_pos THEN flow_sent_type END) AS first_flow_sent_type,
    MAX(CASE WHEN pos = last_flow_pos THEN flow END) AS last_flow,
    MAX(CASE WHEN pos = last_flow_pos AND flow_completed THEN 1 ELSE 0 END) = 1 AS last_flow_completed
  FROM phased
  GROUP BY
    workspace,
    channel,
    customer_id,
    thread_key,
    conversation_id
)
SELECT
  workspace,
  channel,
  customer_id,
  thread_key,
  conversation_id,
  started_at,
  ended_at,
  DATEDIFF(MICROSECOND, started_at, ended_at) AS duration_us,
  engaged,
  escalated_at,
  transfer_requests,
  CASE WHEN teammate_messages > 0 THEN 'teammate' ELSE 'chatbot' END AS support_type,
  closed_at,
  department,
  closed_by,
  first_response_at,
  DATEDIFF(MICROSECOND, COALESCE(escalated_at, started_at), closed_at) AS resolution_us,
  customer_messages,
  chatbot_messages,
  teammate_messages,
  first_responder,
  COALESCE(first_transfer_at, first_customer_at) AS initial_response_from,
  DATEDIFF(MICROSECOND, COALESCE(first_transfer_at, first_customer_at), first_response_at) AS initial_response_us,
  last_responder,
  transferred,
  COALESCE(teammates, ARRAY()) AS teammates,
  bot_messages > 0 AS bot_involved,
  bot_messages,
  bot_fallbacks,
  DATEDIFF(MICROSECOND, started_at, COALESCE(escalated_at, ended_at)) AS bot_duration_us,
  flows_entered,
  first_flow,
  first_flow_sent_type,
  last_flow,
  CASE
    WHEN bot_messages = 0
    THEN NULL
    WHEN NOT escalated_at IS NULL
    THEN 'transferred'
    WHEN NOT engaged
    THEN 'not_engaged'
    WHEN NOT last_flow IS NULL AND NOT last_flow_completed
    THEN 'abandoned_in_flow'
    ELSE 'automated'
  END AS bot_outcome
FROM facts
