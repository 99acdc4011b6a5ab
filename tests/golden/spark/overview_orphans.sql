SELECT
  (
    SELECT
      COUNT(*)
    FROM orphan_closes AS o
    WHERE
      workspace = :ws
      AND ts >= :start
      AND ts < :end
      AND (
        NOT :by_channel OR ARRAY_CONTAINS(:channels, o.channel)
      )
  ) AS orphan_closes,
  (
    SELECT
      COUNT(*)
    FROM surveys AS s
    WHERE
      workspace = :ws
      AND conversation_id IS NULL
      AND ts >= :start
      AND ts < :end
      AND (
        NOT :by_channel OR ARRAY_CONTAINS(:channels, s.channel)
      )
  ) AS orphan_surveys
