WITH scoped AS (
  SELECT
    *
  FROM conversations AS c
  WHERE
    c.workspace = :ws
    AND (
      NOT :by_channel OR ARRAY_CONTAINS(:channels, c.channel)
    )
    AND (
      NOT :by_department
      OR (
        c.department IS NULL AND :no_department
      )
      OR COALESCE(ARRAY_CONTAINS(:departments, c.department), FALSE)
    )
), closed AS (
  SELECT
    conversation_id,
    closed_by,
    escalated_at,
    closed_at,
    resolution_us
  FROM scoped
  WHERE
    NOT escalated_at IS NULL
    AND closed_at >= :previous_start
    AND closed_at < :end
    AND (
      closed_at >= :start OR closed_at < :previous_end
    )
), business AS (
  SELECT
    c.conversation_id,
    ANY_VALUE(c.closed_by) IGNORE NULLS AS closed_by,
    ANY_VALUE(c.closed_at) IGNORE NULLS AS closed_at,
    COALESCE(
      SUM(
        DATEDIFF(MICROSECOND, GREATEST(h.start_at, c.escalated_at), LEAST(h.end_at, c.closed_at))
      ) FILTER(WHERE
        NOT h.start_at IS NULL),
      0
    ) AS business_us /* greatest/least skip NULLs: without the filter, a resolution that meets no */ /* business interval would count whole */
  FROM closed AS c
  LEFT JOIN business_hours AS h
    ON h.start_at < c.closed_at AND h.end_at > c.escalated_at
  GROUP BY
    c.conversation_id
), items AS (
  SELECT
    'initial_response' AS metric,
    first_responder AS teammate_id,
    first_response_at AS at,
    initial_response_us AS value,
    conversation_id
  FROM scoped
  WHERE
    NOT initial_response_us IS NULL
    AND first_response_at >= :previous_start
    AND first_response_at < :end
    AND (
      first_response_at >= :start OR first_response_at < :previous_end
    )
  UNION ALL
  SELECT
    'response',
    w.teammate_id,
    w.answered_at,
    w.response_us,
    w.conversation_id
  FROM response_waits AS w
  WHERE
    w.workspace = :ws
    AND w.answered_at >= :previous_start
    AND w.answered_at < :end
    AND (
      w.answered_at >= :start OR w.answered_at < :previous_end
    )
    AND (
      NOT :by_channel OR ARRAY_CONTAINS(:channels, w.channel)
    )
    AND (
      NOT :by_department
      OR w.conversation_id IN (
        SELECT
          c.conversation_id
        FROM conversations AS c
        WHERE
          NOT (
            NOT :by_department
          )
          AND c.workspace = :ws
          AND (
            NOT :by_channel OR ARRAY_CONTAINS(:channels, c.channel)
          )
          AND (
            NOT :by_department
            OR (
              c.department IS NULL AND :no_department
            )
            OR COALESCE(ARRAY_CONTAINS(:departments, c.department), FALSE)
          )
      )
    )
  UNION ALL
  SELECT
    'resolution',
    closed_by,
    closed_at,
    resolution_us,
    conversation_id
  FROM closed
  UNION ALL
  SELECT
    'resolution_business',
    closed_by,
    closed_at,
    business_us,
    conversation_id
  FROM business
  UNION ALL
  SELECT
    'csat',
    COALESCE(c.closed_by, c.last_responder),
    s.ts,
    s.score,
    s.conversation_id
  FROM surveys AS s
  JOIN scoped AS c
    ON c.conversation_id = s.conversation_id
  WHERE
    s.workspace = :ws
    AND s.ts >= :previous_start
    AND s.ts < :end
    AND (
      s.ts >= :start OR s.ts < :previous_end
    )
    AND s.about = 'teammate'
    AND /* a survey's conversation ended at most the CSAT window before it: bounded so, the */ /* scan skips the older conversations (figures in bench/README.md) */ c.ended_at >= :surveyed_from
    AND c.started_at < :end
  UNION ALL
  SELECT
    'addressed',
    e.teammate_id,
    e.ts,
    NULL,
    e.conversation_id
  FROM conversation_events AS e
  WHERE
    e.workspace = :ws
    AND e.sender = 'teammate'
    AND e.ts >= :previous_start
    AND e.ts < :end
    AND (
      e.ts >= :start OR e.ts < :previous_end
    )
    AND (
      NOT :by_channel OR ARRAY_CONTAINS(:channels, e.channel)
    )
    AND (
      NOT :by_department
      OR e.conversation_id IN (
        SELECT
          c.conversation_id
        FROM conversations AS c
        WHERE
          NOT (
            NOT :by_department
          )
          AND c.workspace = :ws
          AND (
            NOT :by_channel OR ARRAY_CONTAINS(:channels, c.channel)
          )
          AND (
            NOT :by_department
            OR (
              c.department IS NULL AND :no_department
            )
            OR COALESCE(ARRAY_CONTAINS(:departments, c.department), FALSE)
          )
      )
    )
  UNION ALL
  SELECT
    'transfer',
    NULL,
    escalated_at,
    NULL,
    conversation_id
  FROM conversations AS c
  WHERE
    c.workspace = :ws
    AND c.transferred
    AND c.escalated_at >= :previous_start
    AND c.escalated_at < :end
    AND (
      c.escalated_at >= :start OR c.escalated_at < :previous_end
    )
    AND (
      NOT :by_channel OR ARRAY_CONTAINS(:channels, c.channel)
    )
    AND (
      NOT :by_department
      OR (
        c.department IS NULL AND :no_department
      )
      OR COALESCE(ARRAY_CONTAINS(:departments, c.department), FALSE)
    )
    AND (
      NOT :by_teammate OR ARRAYS_OVERLAP(c.teammates, :teammates)
    )
), chosen AS (
  SELECT
    i.*,
    i.at >= :start AS in_period
  FROM items AS i
  WHERE
    NOT :by_teammate OR metric = 'transfer' OR ARRAY_CONTAINS(:teammates, teammate_id)
)
SELECT
  in_period,
  metric,
  teammate_id,
  CAST(NULL AS INT) AS idx,
  CAST(NULL AS BIGINT) AS score,
  GROUPING(teammate_id) = 0 AS by_teammate,
  FALSE AS by_bucket,
  FALSE AS by_score,
  COUNT(*) AS n,
  SUM(value) AS total,
  PERCENTILE(value, 0.5) AS median,
  PERCENTILE(value, 0.9) AS p90,
  COUNT(DISTINCT CASE WHEN metric = 'addressed' THEN conversation_id END) AS conversations
FROM chosen
GROUP BY
  GROUPING SETS (
    (in_period, metric),
    (in_period, metric, teammate_id)
  )
UNION ALL
SELECT
  TRUE,
  metric,
  CAST(NULL AS STRING),
  idx,
  score,
  FALSE,
  GROUPING(idx) = 0,
  GROUPING(score) = 0,
  SUM(n),
  SUM(total),
  CAST(NULL AS DOUBLE),
  CAST(NULL AS DOUBLE),
  CAST(NULL AS BIGINT)
FROM (
  SELECT
    s.metric,
    s.n,
    s.total,
    b.idx,
    s.score
  /* counted per slot first (`slot_of`) */
  FROM (
    SELECT
      i.metric,
      CASE
        WHEN :on_slots
        THEN CAST(TIMESTAMP_SECONDS(FLOOR(UNIX_SECONDS(CAST(i.at AS TIMESTAMP_LTZ)) / 900) * 900) AS TIMESTAMP_NTZ)
        ELSE i.at
      END AS slot,
      CASE WHEN i.metric = 'csat' THEN i.value END AS score,
      COUNT(*) AS n,
      SUM(i.value) AS total
    FROM chosen AS i
    WHERE
      i.in_period
    GROUP BY
      i.metric,
      slot,
      score
  ) AS s
  JOIN buckets AS b
    ON s.slot >= b.start_at AND s.slot < b.end_at
) AS placed
GROUP BY
  GROUPING SETS (
    (metric, idx),
    (metric, score)
  )
