SELECT
  workspace,
  slot,
  channel,
  department,
  CAST(SUM(teammate_messages) AS BIGINT) AS teammate_messages,
  CAST(SUM(chatbot_messages) AS BIGINT) AS chatbot_messages,
  CAST(SUM(customer_messages) AS BIGINT) AS customer_messages,
  CAST(SUM(transfer_requests) AS BIGINT) AS transfer_requests
FROM (
  SELECT
    workspace,
    slot,
    channel,
    department,
    teammate_messages,
    chatbot_messages,
    customer_messages,
    transfer_requests
  FROM (
    SELECT
      e.workspace,
      CAST(TIMESTAMP_SECONDS(FLOOR(UNIX_SECONDS(CAST(e.ts AS TIMESTAMP_LTZ)) / 900) * 900) AS TIMESTAMP_NTZ) AS slot,
      e.channel,
      c.department,
      CASE WHEN e.sender = 'teammate' THEN 1 ELSE 0 END,
      CASE WHEN e.sender = 'chatbot' THEN 1 ELSE 0 END,
      CASE WHEN e.sender = 'customer' THEN 1 ELSE 0 END,
      CASE WHEN e.type = 'transfer_request' THEN 1 ELSE 0 END
    FROM conversation_events AS e
    JOIN conversations AS c
      ON c.workspace = e.workspace AND c.conversation_id = e.conversation_id
  ) AS contribution(workspace, slot, channel, department, teammate_messages, chatbot_messages, customer_messages, transfer_requests)
) AS r
GROUP BY
  workspace,
  slot,
  channel,
  department
