SELECT
  COUNT(*) AS n
FROM commerce AS r
WHERE
  r.workspace = :ws
  AND r.type = 'refund'
  AND r.ts >= :start
  AND r.ts < :end
  AND NOT EXISTS(
    SELECT
      1
    FROM commerce AS o
    WHERE
      o.workspace = :ws
      AND o.type = 'order'
      AND o.order_id = r.order_id
      AND o.currency = r.currency
  )
