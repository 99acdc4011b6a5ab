SELECT
  workspace,
  slot,
  channel,
  department,
  CAST(SUM(conversations) AS BIGINT) AS conversations,
  CAST(SUM(teammate_supported) AS BIGINT) AS teammate_supported,
  CAST(SUM(chatbot_supported) AS BIGINT) AS chatbot_supported,
  CAST(SUM(engaged) AS BIGINT) AS engaged,
  CAST(SUM(engaged_teammate) AS BIGINT) AS engaged_teammate,
  CAST(SUM(engaged_chatbot) AS BIGINT) AS engaged_chatbot,
  CAST(SUM(engaged_duration_us) AS BIGINT) AS engaged_duration_us,
  CAST(SUM(engaged_teammate_duration_us) AS BIGINT) AS engaged_teammate_duration_us,
  CAST(SUM(engaged_chatbot_duration_us) AS BIGINT) AS engaged_chatbot_duration_us,
  CAST(SUM(engaged_ends) AS BIGINT) AS engaged_ends
FROM (
  SELECT
    workspace,
    slot,
    channel,
    department,
    conversations,
    teammate_supported,
    chatbot_supported,
    engaged,
    engaged_teammate,
    engaged_chatbot,
    engaged_duration_us,
    engaged_teammate_duration_us,
    engaged_chatbot_duration_us,
    engaged_ends
  FROM (
    SELECT
      workspace,
      CAST(TIMESTAMP_SECONDS(FLOOR(UNIX_SECONDS(CAST(started_at AS TIMESTAMP_LTZ)) / 900) * 900) AS TIMESTAMP_NTZ) AS slot,
      channel,
      department,
      1,
      CAST(support_type = 'teammate' AS BIGINT),
      CAST(support_type = 'chatbot' AS BIGINT),
      CAST(engaged AS BIGINT),
      CAST(engaged AND support_type = 'teammate' AS BIGINT),
      CAST(engaged AND support_type = 'chatbot' AS BIGINT),
      CASE WHEN engaged THEN duration_us ELSE 0 END,
      CASE WHEN engaged AND support_type = 'teammate' THEN duration_us ELSE 0 END,
      CASE WHEN engaged AND support_type = 'chatbot' THEN duration_us ELSE 0 END,
      0
    FROM conversations
    UNION ALL
    SELECT
      workspace,
      CAST(TIMESTAMP_SECONDS(FLOOR(UNIX_SECONDS(CAST(ended_at AS TIMESTAMP_LTZ)) / 900) * 900) AS TIMESTAMP_NTZ),
      channel,
      department,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      1
    FROM conversations
    WHERE
      engaged
  ) AS contribution(workspace, slot, channel, department, conversations, teammate_supported, chatbot_supported, engaged, engaged_teammate, engaged_chatbot, engaged_duration_us, engaged_teammate_duration_us, engaged_chatbot_duration_us, engaged_ends)
) AS r
GROUP BY
  workspace,
  slot,
  channel,
  department
