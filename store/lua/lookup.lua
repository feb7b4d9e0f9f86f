-- lookup.lua: finds jobs by attempt key, provider call id or public id, in
-- a batch.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms (unused), 3 events maxlen (unused),
-- 4 count, then per lookup 2 values: mode ('a' attempt key
-- "<campaign>:<token>", 'c' provider call id, 'i' public id), the key.
-- Returns 13 values per lookup, in order: status, campaign, number, campaign
-- id, job selector (0: the live job of that campaign; -k: the job at C
-- position k of the record, i.e. Lua nr[k + NR_ATTS]), number record (msgpack),
-- token (0 none), lease start, placed (0/1), polls, call id, lease deadline
-- ms, due ms (0 under a lease). status 1 = live attempt found ('a', 'c'); 2 = job found
-- ('i'); 0 = the attempt is already settled or superseded ('a', 'c'); -1 =
-- unknown (the other values are then 0 / "").
local function reply(st, c, num, cid, seq, tok, l)
  local raw = redis.call('HGET', K_N, num)
  if not raw then return {-1} end
  local dl, due = 0, 0
  if tok ~= 0 then
    dl = tonumber(redis.call('ZSCORE', K_LEASES, tok) or '0')
  else
    -- a job under a lease is not in the due set (the claim took it out)
    local sc = redis.call('ZSCORE', ck(c) .. ':due', num)
    if sc then due = score_ms(tonumber(sc)) end
  end
  if not l then l = {start = 0, placed = false, polls = 0, call = ''} end
  return {st, c, num, cid, seq, raw, tok, l.start, l.placed and 1 or 0, l.polls, l.call,
    math.floor(dl), due}
end
local function live(akey)
  local c, tok = string.match(akey, '^(.+):(%d+)$')
  if not c then return {-1} end
  local l = lease_find(c, tok)
  if not l then return {0} end
  return reply(1, c, l.num, l.cid, 0, tonumber(tok), l)
end
local function by_id(key)
  -- By public id: the producer's (P:id) or the generated "<campaign>/<number>/<seq>".
  -- The job is returned by position in the record (seq slot = -position).
  local num = redis.call('HGET', id_key(key), key)
  local nr, pos = nil, nil
  if num then
    nr = nrec_get(num)
    for i = #nr, NR_JOB1, -1 do
      if nr[i][J_ID] == key then pos = i break end
    end
  else
    local c, n2, sq = string.match(key, '^([^/]+)/([^/]+)/(%d+)$')
    local cid = c and cid_of(c)
    if cid then
      num, sq = n2, tonumber(sq)
      nr = nrec_get(num)
      for i = NR_JOB1, #nr do
        if nr[i][J_CID] == cid and nr[i][J_SEQ] == sq and nr[i][J_ID] == '' then pos = i end
      end
    end
  end
  if not pos then return {-1} end
  local j = nr[pos]
  local cid = j[J_CID]
  -- A live job may be under a lease right now.
  local tok, l = 0, nil
  if j[J_ST] ~= JST.FINAL then
    local lt = redis.call('HGET', K_LOCK, num)
    local v = lt and redis.call('HGET', K_LEASE, lt)
    local pl = v and lease_parse(v)
    if pl and pl.cid == cid then tok, l = tonumber(lt), pl end
  end
  return reply(2, cname_of(cid), num, cid, NR_ATTS - pos, tok, l)
end
local function one(mode, key)
  if mode == 'a' then return live(key) end
  if mode == 'c' then
    local akey = redis.call('HGET', K_CALL, key)
    if not akey then return {-1} end
    return live(akey)
  end
  return by_id(key)
end
local PAD = {-1, '', '', 0, 0, '', 0, 0, 0, 0, '', 0, 0}
local count = tonumber(ARGV[4])
local out = {}
for k = 0, count - 1 do
  local r = one(ARGV[5 + 2 * k], ARGV[6 + 2 * k])
  for i = 1, 13 do
    local v = r[i]
    if v == nil then v = PAD[i] end
    out[13 * k + i] = v
  end
end
return out
