-- campaign_archive.lua: retires a finished campaign (`redial-cli campaign archive`).
-- KEYS[1] = P:seq. ARGV: 1 P, 2 name, 3 now ms.
-- Only a campaign with no pending job and no live call can be archived. Its
-- record and stats move to P:archive:<name>:<id> (and :st), it leaves
-- P:campaigns and P:ready, so it disappears from `campaign list`, the API and
-- the metrics at once, and its name can be used again; its finished jobs keep
-- their records until the retention (they name the old campaign id).
-- Returns {1, id} archived, {-1} no such campaign, {-2, pending, live} not finished.
local c, now = ARGV[2], ARGV[3]
if redis.call('SISMEMBER', K_CAMPAIGNS, c) == 0 then return {-1} end
local h = redis.call('HMGET', ck(c), 'live', 'id')
local pending = redis.call('ZCARD', ck(c) .. ':due')
local live = tonumber(h[1]) or 0
if pending > 0 or live > 0 then return {-2, pending, live} end
local ak = P .. ':archive:' .. c .. ':' .. (h[2] or '0')
redis.call('HSET', ck(c), 'archived', now)
redis.call('RENAME', ck(c), ak)
if redis.call('EXISTS', ck(c) .. ':st') == 1 then redis.call('RENAME', ck(c) .. ':st', ak .. ':st') end
redis.call('DEL', ck(c) .. ':due')
redis.call('SREM', K_CAMPAIGNS, c)
redis.call('ZREM', K_READY, c)
redis.call('HDEL', K_CID, c)
redis.call('SADD', P .. ':archived', c)
return {1, tonumber(h[2]) or 0}
