-- placed.lua: the provider accepted these calls, in a batch.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 events maxlen (unused), 4 count,
-- then per call 4 values: campaign, token, provider call id, new lease
-- deadline ms (ring timeout + time limit + callback grace).
-- Each marks the lease placed with the call id, indexes call id -> attempt
-- key "<campaign>:<token>" (not when the id is "": a dial reply redial
-- could not read — the callback's attempt key or the deadline settles it),
-- and moves the lease deadline.
-- Returns one value per call: 1, or 0 when the token is not current
-- (settled, recovered or superseded: nothing changes).
local count = tonumber(ARGV[4])
local out = {}
for k = 0, count - 1 do
  local a = 5 + k * 4
  local c, tok, cid, deadline = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  local l = lease_find(c, tok)
  if not l then
    out[k + 1] = 0
  else
    if l.call ~= '' and l.call ~= cid then redis.call('HDEL', K_CALL, l.call) end
    l.placed, l.call = true, cid
    redis.call('HSET', K_LEASE, tok, lease_str(l))
    if cid ~= '' then redis.call('HSET', K_CALL, cid, c .. ':' .. tok) end
    redis.call('ZADD', K_LEASES, deadline, tok)
    out[k + 1] = 1
  end
end
return out
