SELECT
  workspace,
  channel,
  customer_id,
  thread_key,
  event_id,
  seq,
  ts,
  type,
  customer_ref,
  order_id,
  CAST(amount AS DECIMAL(18, 4)) AS amount,
  CASE WHEN amount LIKE '%.%' THEN LENGTH(amount) - LOCATE('.', amount) ELSE 0 END AS amount_scale,
  currency,
  CASE WHEN type = 'order' THEN COALESCE(source, 'website') END AS source,
  COALESCE(test, FALSE) AS test
FROM thread_events
WHERE
  type IN ('identify', 'order', 'refund')
