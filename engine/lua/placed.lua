-- placed.lua: the provider accepted the call of lease `token`.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 campaign, 3 token, 4 provider call id,
-- 5 new lease deadline ms (ring timeout + time limit + callback grace).
-- Records the call id in the job, indexes call id -> attempt key
-- "<campaign>:<token>", moves the lease deadline. Returns 1, or 0 when the
-- token is not current (settled, recovered, or superseded: changes nothing).
local c, tok, cid, deadline = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local num, r = lease_find(c, tok)
if not num then return 0 end
if r[11] ~= '' and r[11] ~= cid then redis.call('HDEL', K_CALL, r[11]) end
r[1], r[11] = 2, cid
rec_put(c, num, r)
redis.call('HSET', K_CALL, cid, c .. ':' .. tok)
redis.call('ZADD', K_LEASES, deadline, tok)
return 1
