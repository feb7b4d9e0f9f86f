-- lookup.lua: finds a job by attempt key, provider call id or public id.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 mode ('a' attempt key "<campaign>:<token>",
-- 'c' provider call id, 'i' public id), 3 the key.
-- Returns {status, campaign, number, job (msgpack), the number's attempt
-- starts (msgpack array of ms), lease deadline ms, due ms}: status 1 =
-- live attempt found ('a', 'c'); 2 = job found ('i'); 0 = the attempt is
-- already settled or superseded ('a', 'c'); -1 = unknown.
local mode, key = ARGV[2], ARGV[3]
local function reply(st, c, num, nr, j)
  local dl, due = 0, 0
  if j[J_TOK] ~= 0 then dl = tonumber(redis.call('ZSCORE', K_LEASES, j[J_TOK]) or '0') end
  if j[J_ST] == 0 then
    local sc = redis.call('ZSCORE', ck(c) .. ':due', num)
    if sc then due = score_ms(tonumber(sc)) end
  end
  return {st, c, num, cmsgpack.pack(j), cmsgpack.pack(nr[2]), math.floor(dl), due}
end
local function live(akey)
  local c, tok = string.match(akey, '^(.+):(%d+)$')
  if not c then return {-1} end
  local num, nr, j = lease_find(c, tok)
  if not num then return {0} end
  return reply(1, c, num, nr, j)
end
if mode == 'a' then return live(key) end
if mode == 'c' then
  local akey = redis.call('HGET', K_CALL, key)
  if not akey then return {-1} end
  return live(akey)
end
local num = redis.call('HGET', K_ID, key)
if num then
  local nr = nrec_get(num)
  for i = #nr, 3, -1 do
    local j = nr[i]
    if j[J_ID] == key then return reply(2, cname_of(j[J_CID]), num, nr, j) end
  end
  return {-1}
end
local c, n2, seq = string.match(key, '^([^/]+)/([^/]+)/(%d+)$')
if not c then return {-1} end
local cid = cid_of(c)
if not cid then return {-1} end
local nr = nrec_get(n2)
for i = 3, #nr do
  local j = nr[i]
  if j[J_CID] == cid and j[J_SEQ] == tonumber(seq) and j[J_ID] == '' then
    return reply(2, c, n2, nr, j)
  end
end
return {-1}
