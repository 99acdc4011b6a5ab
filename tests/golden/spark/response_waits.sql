WITH talk AS (
  SELECT
    workspace,
    channel,
    customer_id,
    thread_key,
    conversation_id,
    pos,
    ts,
    sender,
    teammate_id,
    LAG(sender) OVER (
      PARTITION BY workspace, channel, customer_id, conversation_id
      ORDER BY pos NULLS LAST
    ) AS previous_sender,
    SUM(CASE WHEN sender = 'teammate' THEN 1 ELSE 0 END) OVER (
      PARTITION BY workspace, channel, customer_id, conversation_id
      ORDER BY pos NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS answers_so_far
  FROM assigned
  WHERE
    NOT orphan AND type = 'message' AND sender IN ('customer', 'teammate')
)
SELECT
  w.workspace,
  w.channel,
  w.customer_id,
  w.thread_key,
  w.conversation_id,
  w.ts AS waited_from,
  a.ts AS answered_at,
  a.teammate_id,
  DATEDIFF(MICROSECOND, w.ts, a.ts) AS response_us
FROM talk AS w
JOIN talk AS a
  ON a.workspace = w.workspace
  AND a.channel = w.channel
  AND a.customer_id = w.customer_id
  AND a.conversation_id = w.conversation_id
  AND a.sender = 'teammate'
  AND a.answers_so_far = w.answers_so_far + 1
WHERE
  w.sender = 'customer' AND w.previous_sender = 'teammate'
