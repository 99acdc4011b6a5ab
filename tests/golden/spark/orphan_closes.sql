SELECT
  workspace,
  channel,
  customer_id,
  thread_key,
  event_id,
  ts
FROM assigned
WHERE
  orphan
