-- The statement db/profile.py ran before the profile's shape moved to api/shapes.py:
-- Postgres rendered the document. Kept as the oracle for tests/test_api_profile_shape.py
-- (byte-identical answers); $1 is the node's pubkey.

WITH node AS (
    SELECT * FROM nodes WHERE pubkey = $1
), chans AS (
    -- two index scans (channels_node1_idx, channels_node2_idx), not one OR over the table
    SELECT c.channel_id, c.capacity_sat, c.block_height, c.node2_pub AS peer,
           0 AS own_direction
    FROM node JOIN channels c ON c.is_open AND c.node1_pub = node.pubkey
    UNION ALL
    SELECT c.channel_id, c.capacity_sat, c.block_height, c.node1_pub AS peer,
           1 AS own_direction
    FROM node JOIN channels c ON c.is_open AND c.node2_pub = node.pubkey
), outbound AS (
    SELECT p.* FROM chans JOIN channel_policies p
      ON p.channel_id = chans.channel_id AND p.direction = chans.own_direction
), inbound AS (
    SELECT p.* FROM chans JOIN channel_policies p
      ON p.channel_id = chans.channel_id AND p.direction = 1 - chans.own_direction
)
SELECT json_build_object(
  'agent', json_build_object(
      'publicKey', node.pubkey, 'publicKeyHash', node.agent_hash, 'alias', node.alias,
      'color', node.color, 'addresses', node.addresses, 'active', node.is_active,
      'firstSeen', extract(epoch FROM node.first_seen)::bigint, 'lastSeen', extract(epoch FROM node.last_seen)::bigint,
      'lastAnnouncement', extract(epoch FROM node.last_update)::bigint),
  'score', (SELECT json_build_object(
      'rank', s.rank, 'verdict', s.verdict, 'p_success', s.p_success,
      'ci95_low', s.ci95_low, 'ci95_high', s.ci95_high, 'n_obs', s.n_eff,
      'reasons', s.reasons, 'computedAt', extract(epoch FROM s.computed_at)::bigint,
      'basis', json_build_object('amountSat', 100000, 'feeBudget', 'normal',
                                 'feeLimitSat', 505,
                                 'payer', coalesce((SELECT payer FROM scoring_state), 'reference'),
                                 'timeoutS', 60),
      'grid', (SELECT json_build_object('amountsSat', st.grid_amounts_sat,
                                        'budgets', st.grid_budgets, 'p', s.p_grid)
               FROM scoring_state st WHERE s.p_grid IS NOT NULL))
      FROM scores s WHERE s.pubkey = node.pubkey),
  'centrality', (SELECT json_build_object(
      'pagerank', s.pagerank, 'pagerankPercentile', s.pagerank_pct)
      FROM scores s WHERE s.pubkey = node.pubkey),
  'features', (SELECT s.features FROM scores s WHERE s.pubkey = node.pubkey),
  'graph', (SELECT json_build_object(
      'channels', count(*), 'peers', count(DISTINCT peer),
      'capacitySat', coalesce(sum(capacity_sat), 0),
      'medianChannelSat', percentile_disc(0.5) WITHIN GROUP (ORDER BY capacity_sat),
      'largestChannelSat', max(capacity_sat),
      'oldestChannelBlock', min(block_height), 'newestChannelBlock', max(block_height))
      FROM chans),
  'posteriors', coalesce((SELECT json_agg(json_build_object(
      'amountSat', p.amount_sat, 'p_success', p.p_success, 'ci95_low', p.ci95_low,
      'ci95_high', p.ci95_high, 'n_obs', p.n_eff, 'alpha', p.alpha, 'beta', p.beta,
      'priorAlpha', p.prior_alpha, 'priorBeta', p.prior_beta,
      'updatedAt', extract(epoch FROM p.updated_at)::bigint) ORDER BY p.amount_sat)
      FROM posteriors p WHERE p.pubkey = node.pubkey), '[]'::json),
  'probes', json_build_object(
      'byAmount', coalesce((SELECT json_agg(json_build_object(
          'amountSat', amount_sat, 'total', total, 'reached', reached,
          'lastAt', extract(epoch FROM last_at)::bigint) ORDER BY amount_sat)
          FROM (SELECT amount_sat, count(*) AS total,
                       count(*) FILTER (WHERE outcome = 'reached') AS reached,
                       max(sent_at) AS last_at
                FROM probes
                WHERE target_pubkey = node.pubkey
                  AND sent_at > now() - interval '30 days'
                GROUP BY amount_sat) t), '[]'::json),
      'recent', coalesce((SELECT json_agg(json_build_object(
          'sentAt', extract(epoch FROM r.sent_at)::bigint, 'amountSat', r.amount_sat, 'outcome', r.outcome,
          'failureCode', r.failure_code, 'failingHopIndex', r.failing_hop_index,
          'hops', r.hop_count, 'feeMsat', r.fee_msat, 'durationMs', r.duration_ms,
          'source', r.source) ORDER BY r.sent_at DESC)
          FROM (SELECT * FROM probes WHERE target_pubkey = node.pubkey
                ORDER BY sent_at DESC LIMIT 20) r), '[]'::json)),
  'reports', (SELECT json_build_object(
      'windowDays', 90, 'total', count(*),
      'successes', count(*) FILTER (WHERE outcome = 'success'),
      'failures', count(*) FILTER (WHERE outcome = 'failure'),
      'timeouts', count(*) FILTER (WHERE outcome = 'timeout'),
      'verified', count(*) FILTER (WHERE verified),
      'lastAt', extract(epoch FROM max(created_at))::bigint)
      FROM reports WHERE target_pubkey = node.pubkey
        AND created_at > now() - interval '90 days'),
  'feePolicy', json_build_object('outbound', (SELECT json_build_object(
        'channels', count(*),
        'disabled', count(*) FILTER (WHERE disabled),
        'feeRatePpm', json_build_object(
            'min', min(fee_rate_milli_msat), 'max', max(fee_rate_milli_msat),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY fee_rate_milli_msat),
            'p90', percentile_disc(0.9) WITHIN GROUP (ORDER BY fee_rate_milli_msat)),
        'feeBaseMsat', json_build_object(
            'min', min(fee_base_msat), 'max', max(fee_base_msat),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY fee_base_msat)),
        'timeLockDelta', json_build_object(
            'min', min(time_lock_delta), 'max', max(time_lock_delta),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY time_lock_delta)),
        'inboundFeeRatePpm', json_build_object(
            'min', min(inbound_fee_rate_milli_msat), 'max', max(inbound_fee_rate_milli_msat)),
        'lastUpdate', extract(epoch FROM max(last_update))::bigint
    ) FROM outbound),
                                 'inbound', (SELECT json_build_object(
        'channels', count(*),
        'disabled', count(*) FILTER (WHERE disabled),
        'feeRatePpm', json_build_object(
            'min', min(fee_rate_milli_msat), 'max', max(fee_rate_milli_msat),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY fee_rate_milli_msat),
            'p90', percentile_disc(0.9) WITHIN GROUP (ORDER BY fee_rate_milli_msat)),
        'feeBaseMsat', json_build_object(
            'min', min(fee_base_msat), 'max', max(fee_base_msat),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY fee_base_msat)),
        'timeLockDelta', json_build_object(
            'min', min(time_lock_delta), 'max', max(time_lock_delta),
            'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY time_lock_delta)),
        'inboundFeeRatePpm', json_build_object(
            'min', min(inbound_fee_rate_milli_msat), 'max', max(inbound_fee_rate_milli_msat)),
        'lastUpdate', extract(epoch FROM max(last_update))::bigint
    ) FROM inbound)),
  'history', coalesce((SELECT json_agg(json_build_object(
      'computedAt', extract(epoch FROM h.computed_at)::bigint, 'rank', h.rank, 'verdict', h.verdict,
      'p_success', h.p_success, 'ci95_low', h.ci95_low, 'ci95_high', h.ci95_high,
      'pagerank', h.pagerank) ORDER BY h.computed_at DESC)
      FROM (SELECT * FROM score_history WHERE pubkey = node.pubkey
            ORDER BY computed_at DESC LIMIT 30) h), '[]'::json)
)::text
FROM node
