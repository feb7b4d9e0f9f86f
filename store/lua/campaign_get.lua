-- campaign_get.lua: one campaign with its live counters.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 name.
-- Returns {} when absent, else {json, state, created ms, live, enqueued,
-- finished, pending, pause reason ("" = none)}.
local c = ARGV[2]
local h = redis.call('HMGET', ck(c), 'json', 'st', 'created', 'live', 'enq', 'fin', 'pr')
if not h[1] then return {} end
return {h[1], tonumber(h[2]), tonumber(h[3]), tonumber(h[4]), tonumber(h[5]), tonumber(h[6]),
  redis.call('ZCARD', ck(c) .. ':due'), h[7] or ''}
