WITH orders AS (
  SELECT
    o.order_id,
    o.ts,
    o.amount,
    o.amount_scale,
    o.currency,
    o.customer_ref,
    o.source,
    CASE WHEN o.channel = '' THEN NULL ELSE o.channel END AS channel,
    CASE WHEN o.customer_id = '' THEN NULL ELSE o.customer_id END AS customer_id,
    o.ts >= :start AS in_period
  FROM commerce AS o
  WHERE
    o.workspace = :ws
    AND o.type = 'order'
    AND NOT o.test
    AND o.ts >= :previous_start
    AND o.ts < :end
    AND (
      o.ts >= :start OR o.ts < :previous_end
    )
), refunds AS (
  SELECT
    r.order_id,
    SUM(r.amount) AS refunded,
    MAX(r.amount_scale) AS refund_scale
  FROM commerce AS r
  JOIN orders AS o
    ON o.order_id = r.order_id AND o.currency = r.currency
  WHERE
    r.workspace = :ws AND r.type = 'refund'
  GROUP BY
    r.order_id
), signed_in AS (
  /* the threads ever signed in as a shop customer of the period's orders: only theirs can */
  /* be one of its threads (their latest sign-in decides whose they are) */
  SELECT DISTINCT
    j.channel,
    j.customer_id
  FROM commerce AS j
  JOIN (
    SELECT DISTINCT
      customer_ref
    FROM orders
  ) AS r
    ON r.customer_ref = j.customer_ref
  WHERE
    j.workspace = :ws AND j.type = 'identify'
), identified AS (
  SELECT
    channel,
    customer_id,
    customer_ref
  FROM (
    SELECT
      i.channel,
      i.customer_id,
      i.customer_ref,
      ROW_NUMBER() OVER (PARTITION BY i.channel, i.customer_id ORDER BY i.ts DESC, i.seq DESC) AS nth
    FROM commerce AS i
    JOIN signed_in AS t
      ON t.channel = i.channel AND t.customer_id = i.customer_id
    WHERE
      i.workspace = :ws AND i.type = 'identify'
  ) AS latest
  WHERE
    nth = 1
), threads AS (
  SELECT
    order_id,
    ts AS order_ts,
    channel,
    customer_id
  FROM orders
  WHERE
    NOT channel IS NULL
  UNION
  SELECT
    o.order_id,
    o.ts AS order_ts,
    i.channel,
    i.customer_id
  FROM orders AS o
  JOIN identified AS i
    ON i.customer_ref = o.customer_ref
), touched AS (
  SELECT
    t.order_id,
    t.order_ts,
    e.conversation_id,
    MAX(e.ts) AS last_touch
  FROM threads AS t
  JOIN conversation_events AS e
    ON e.channel = t.channel AND e.customer_id = t.customer_id
  WHERE
    e.workspace = :ws
    AND e.type = 'message'
    AND e.ts >= :window_start
    AND e.ts < :end
    AND e.ts <= t.order_ts
    AND DATEDIFF(MICROSECOND, e.ts, t.order_ts) <= :window_us
  GROUP BY
    t.order_id,
    t.order_ts,
    e.conversation_id
), candidates AS (
  SELECT
    t.order_id,
    t.order_ts,
    t.conversation_id,
    t.last_touch,
    c.started_at,
    c.channel,
    c.customer_id,
    c.department
  FROM touched AS t
  JOIN conversations AS c
    ON c.conversation_id = t.conversation_id
  WHERE
    c.workspace = :ws
    AND c.engaged
    AND /* bounds implied by the touch (a message in [window_start, end)), for the zone maps */ c.ended_at >= :window_start
    AND c.started_at < :end
), credited AS (
  SELECT
    k.order_id,
    k.conversation_id,
    e.ts,
    e.event_id,
    e.sender,
    e.teammate_id
  FROM candidates AS k
  JOIN conversation_events AS e
    ON e.conversation_id = k.conversation_id
    AND e.channel = k.channel
    AND e.customer_id = k.customer_id
  WHERE
    e.workspace = :ws
    AND e.type = 'message'
    AND e.ts <= k.order_ts
    AND (
      e.sender = 'teammate'
      OR (
        e.sender = 'chatbot' AND NOT COALESCE(e.welcome, FALSE)
      )
    )
), teammate AS (
  SELECT
    order_id,
    conversation_id,
    teammate_id
  FROM (
    SELECT
      order_id,
      conversation_id,
      teammate_id,
      ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY ts DESC, event_id DESC) AS nth
    FROM credited
    WHERE
      sender = 'teammate'
  ) AS latest
  WHERE
    nth = 1
), latest_touch AS (
  SELECT
    order_id,
    conversation_id
  FROM (
    SELECT
      order_id,
      conversation_id,
      ROW_NUMBER() OVER (
        PARTITION BY order_id
        ORDER BY last_touch DESC, started_at DESC, channel NULLS LAST, customer_id NULLS LAST
      ) AS nth
    FROM candidates
  ) AS ranked
  WHERE
    nth = 1
), attributed AS (
  SELECT
    l.order_id,
    COALESCE(m.conversation_id, l.conversation_id) AS conversation_id,
    m.teammate_id,
    l.order_id IN (
      SELECT
        order_id
      FROM credited
      WHERE
        sender = 'chatbot'
    ) AS assisted
  FROM latest_touch AS l
  LEFT JOIN teammate AS m
    ON m.order_id = l.order_id
), placed AS (
  SELECT
    o.order_id,
    o.in_period,
    o.ts,
    o.amount,
    COALESCE(r.refunded, 0) AS refunded,
    GREATEST(o.amount_scale, COALESCE(r.refund_scale, 0)) AS scale,
    o.currency,
    o.customer_ref,
    o.source,
    CASE
      WHEN NOT a.order_id IS NULL
      THEN 'attributed'
      WHEN o.order_id IN (
        SELECT
          order_id
        FROM threads
      )
      THEN 'not_attributed'
      ELSE 'unmatched'
    END AS status,
    a.teammate_id,
    COALESCE(a.assisted, FALSE) AS chatbot_assisted,
    k.channel,
    k.department,
    k.started_at AS conversation_started_at,
    k.last_touch
  FROM orders AS o
  LEFT JOIN refunds AS r
    ON r.order_id = o.order_id
  LEFT JOIN attributed AS a
    ON a.order_id = o.order_id
  LEFT JOIN candidates AS k
    ON k.order_id = a.order_id AND k.conversation_id = a.conversation_id
), kept AS (
  SELECT
    p.in_period,
    p.currency,
    p.status,
    p.teammate_id,
    p.scale,
    NOT p.teammate_id IS NULL AS with_teammate,
    p.chatbot_assisted AS assisted,
    COALESCE(p.source = 'chat', FALSE) AS direct,
    CASE
      WHEN p.amount - p.refunded > 0
      THEN p.amount - p.refunded
      ELSE CAST(0 AS DECIMAL(18, 4))
    END AS net,
    CASE
      WHEN NOT (
        :by_channel OR :by_department OR :by_teammate
      )
      THEN TRUE
      WHEN p.status <> 'attributed'
      THEN FALSE
      ELSE (
        NOT :by_channel OR ARRAY_CONTAINS(:channels, p.channel)
      )
      AND (
        NOT :by_department
        OR (
          p.department IS NULL AND :no_department
        )
        OR COALESCE(ARRAY_CONTAINS(:departments, p.department), FALSE)
      )
      AND (
        NOT :by_teammate OR COALESCE(ARRAY_CONTAINS(:teammates, p.teammate_id), FALSE)
      )
    END AS in_scope,
    CASE
      WHEN p.status = 'attributed'
      THEN DATEDIFF(MICROSECOND, p.last_touch, p.ts)
    END AS wait_us,
    x.idx
  FROM placed AS p
  LEFT JOIN buckets AS x
    ON p.ts >= x.start_at AND p.ts < x.end_at
), split AS (
  SELECT
    *,
    in_scope AND status = 'attributed' AS credited,
    CASE WHEN net > 0 THEN 1 ELSE 0 END AS counted
  FROM kept
)
SELECT
  in_period,
  currency,
  credited,
  with_teammate,
  assisted,
  direct,
  counted,
  teammate_id,
  idx,
  in_scope,
  status,
  GROUPING(currency) = 0 AS by_currency,
  GROUPING(assisted) = 0 AS by_split,
  GROUPING(teammate_id) = 0 AS by_teammate,
  GROUPING(idx) = 0 AS by_bucket,
  GROUPING(status) = 0 AS by_status,
  SUM(net) AS total,
  COUNT(*) AS n,
  MAX(scale) AS scale,
  COUNT(CASE WHEN credited THEN wait_us END) AS waits,
  SUM(CASE WHEN credited THEN wait_us END) AS wait_total,
  PERCENTILE(CASE WHEN credited THEN wait_us END, 0.5) AS median,
  PERCENTILE(CASE WHEN credited THEN wait_us END, 0.9) AS p90
FROM split
GROUP BY
  GROUPING SETS (
    (in_period, currency),
    (in_period, currency, credited, with_teammate, assisted, direct, counted),
    (in_period, credited, teammate_id, currency, counted),
    (in_period, credited, idx, currency, with_teammate, counted),
    (in_period, in_scope, status),
    (
      in_period
    )
  )
