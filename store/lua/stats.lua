-- stats.lua: a campaign's counters.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 campaign.
-- Returns {} when absent, else {enqueued, live, pending, {campaign stats
-- hash as field, value, ...}, {P:st as field, value, ...}}.
local c = ARGV[2]
local h = redis.call('HMGET', ck(c), 'enq', 'live')
if not h[1] then return {} end
return {tonumber(h[1]), tonumber(h[2]), redis.call('ZCARD', ck(c) .. ':due'),
  redis.call('HGETALL', ck(c) .. ':st'), redis.call('HGETALL', P .. ':st')}
