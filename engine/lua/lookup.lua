-- lookup.lua: finds a job by attempt key, provider call id or public id.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 mode ('a' attempt key "<campaign>:<token>",
-- 'c' provider call id, 'i' public id), 3 the key.
-- Returns {status, campaign, number, record, number record, lease deadline}:
-- status 1 = live attempt found ('a', 'c'); 2 = job found ('i'); 0 = the
-- attempt is already settled or superseded ('a', 'c'); -1 = unknown.
local mode, key = ARGV[2], ARGV[3]
local function live(akey)
  local c, tok = string.match(akey, '^(.+):(%d+)$')
  if not c then return {-1} end
  local num, r = lease_find(c, tok)
  if not num then return {0} end
  local dl = redis.call('ZSCORE', K_LEASES, tok) or '0'
  return {1, c, num, cmsgpack.pack(r), num_raw(num), math.floor(tonumber(dl))}
end
if mode == 'a' then return live(key) end
if mode == 'c' then
  local akey = redis.call('HGET', K_CALL, key)
  if not akey then return {-1} end
  return live(akey)
end
local ref = redis.call('HGET', K_ID, key)
local c, num, seq
if ref then
  c, num, seq = string.match(ref, '^([^/]+)/([^/]+)/(%d+)$')
else
  c, num, seq = string.match(key, '^([^/]+)/([^/]+)/(%d+)$')
end
if not c then return {-1} end
local r = rec_get(c, num)
if not r or r[2] ~= tonumber(seq) then return {-1} end
local dl = 0
if r[4] ~= 0 then dl = math.floor(tonumber(redis.call('ZSCORE', K_LEASES, r[4]) or '0')) end
return {2, c, num, cmsgpack.pack(r), num_raw(num), dl}
