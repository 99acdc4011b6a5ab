SELECT
  channel
FROM conversations
WHERE
  workspace = :ws
UNION
SELECT
  channel
FROM orphan_closes
WHERE
  workspace = :ws
UNION
SELECT
  channel
FROM surveys
WHERE
  workspace = :ws
ORDER BY
  1 NULLS LAST
