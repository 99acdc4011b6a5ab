SELECT DISTINCT
  workspace,
  channel,
  customer_id,
  thread_key,
  conversation_id,
  teammate_id
FROM assigned
WHERE
  NOT orphan AND NOT teammate_id IS NULL
