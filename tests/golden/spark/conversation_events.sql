SELECT
  workspace,
  channel,
  customer_id,
  thread_key,
  conversation_id,
  ts,
  type,
  sender,
  teammate_id,
  bot_phase,
  fallback,
  event_id,
  welcome
FROM phased
WHERE
  type IN ('message', 'transfer_request')
