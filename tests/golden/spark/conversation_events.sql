SELECT
  workspace,
  channel,
  customer_id,
  thread_key,
  conversation_id,
  ts,
  type,
  sender,
  teammate_id
FROM assigned
WHERE
  type IN ('message', 'transfer_request')
