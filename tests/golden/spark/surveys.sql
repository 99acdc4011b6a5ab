WITH surveys AS (
  SELECT
    e.workspace,
    e.channel,
    e.customer_id,
    e.thread_key,
    e.event_id,
    e.seq,
    e.ts,
    e.score,
    e.about
  FROM thread_events AS e
  WHERE
    e.type = 'csat'
), starts AS (
  SELECT
    c.workspace,
    c.channel,
    c.customer_id,
    c.conversation_id,
    c.started_at,
    c.ended_at,
    c.teammate_messages,
    first_event.seq AS first_seq
  FROM derived_conversations AS c
  JOIN thread_events AS first_event
    ON first_event.workspace = c.workspace AND first_event.event_id = c.conversation_id
), candidates AS (
  SELECT
    s.workspace,
    s.channel,
    s.customer_id,
    s.thread_key,
    s.event_id,
    s.ts,
    s.score,
    s.about,
    c.conversation_id,
    c.ended_at,
    c.teammate_messages,
    ROW_NUMBER() OVER (PARTITION BY s.workspace, s.event_id ORDER BY c.started_at DESC, c.first_seq DESC) AS rank_from_last
  FROM surveys AS s
  LEFT JOIN starts AS c
    ON c.workspace = s.workspace
    AND c.channel = s.channel
    AND c.customer_id = s.customer_id
    AND (
      c.started_at < s.ts OR (
        c.started_at = s.ts AND c.first_seq < s.seq
      )
    )
)
SELECT
  k.workspace,
  k.channel,
  k.customer_id,
  k.thread_key,
  k.event_id,
  k.ts,
  k.score,
  CASE WHEN belongs THEN k.conversation_id END AS conversation_id,
  COALESCE(
    k.about,
    CASE
      WHEN belongs AND k.teammate_messages > 0
      THEN 'teammate'
      WHEN belongs
      THEN 'chatbot'
    END
  ) AS about /* what it rates (SPEC section 7): as given, else whether a teammate wrote in its */ /* conversation; an orphan survey keeps only what it says */
FROM (
  SELECT
    c.*,
    DATEDIFF(MICROSECOND, c.ended_at, c.ts) <= CAST(ws.csat_window_seconds AS BIGINT) * 1000000 AS belongs
  FROM candidates AS c
  JOIN workspaces AS ws
    ON ws.name = c.workspace
) AS k
WHERE
  k.rank_from_last = 1
