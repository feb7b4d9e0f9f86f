-- lib.lua: helpers prepended to every other redial script when it is loaded
-- (engine/store.c). No KEYS/ARGV contract of its own; it reads ARGV[1] = the
-- key prefix P. Record layouts and key names: docs/REDIS.md.
local P = ARGV[1]
local EPOCH = 1577836800000
local OUTCOME = {[0] = 'completed', 'in-progress', 'busy', 'no-answer', 'failed', 'canceled',
  'invalid-number', 'dnd'}
local DISP = {[0] = 'connected', 'unreachable', 'failed', 'invalid', 'dnd', 'opted-out',
  'canceled'}
local K_READY, K_N, K_ID, K_LEASE, K_LEASES, K_CALL = P .. ':ready', P .. ':n', P .. ':id',
  P .. ':lease', P .. ':leases', P .. ':call'
local K_DND, K_OPTOUT, K_EVENTS, K_CAMPAIGNS, K_SEQ = P .. ':dnd', P .. ':optout',
  P .. ':events', P .. ':campaigns', P .. ':seq'
local NUM_KEEP_MS = 8 * 86400000
local NUM_KEEP_MAX = 128

local function ck(c) return P .. ':c:' .. c end
local function score(due, seq) return (due - EPOCH) * 4096 + (seq % 4096) end
local function score_ms(s) return math.floor(s / 4096) + EPOCH end
local function seq_next() return redis.call('INCR', K_SEQ) end

-- Job record: {st, seq, id, tok, due, hist, tz, nb, vars, disp, cid, polls}
local function rec_get(c, num)
  local v = redis.call('HGET', ck(c) .. ':jobs', num)
  if not v then return nil end
  return cmsgpack.unpack(v)
end
local function rec_put(c, num, r)
  redis.call('HSET', ck(c) .. ':jobs', num, cmsgpack.pack(r))
end
local function pub_id(c, num, r)
  if r[3] ~= '' then return r[3] end
  return c .. '/' .. num .. '/' .. r[2]
end

-- Number record: {lock, t1, t2, ...}
local function num_raw(num) return redis.call('HGET', K_N, num) or '' end
local function num_get(num)
  local v = redis.call('HGET', K_N, num)
  if not v then return {0} end
  return cmsgpack.unpack(v)
end
local function num_put(num, nr, now)
  local lim, ts = now - NUM_KEEP_MS, {}
  for i = 2, #nr do
    if nr[i] >= lim then ts[#ts + 1] = nr[i] end
  end
  if #ts == 0 and nr[1] == 0 then
    redis.call('HDEL', K_N, num)
    return
  end
  if #ts > NUM_KEEP_MAX then
    table.sort(ts)
    local keep = {}
    for i = #ts - NUM_KEEP_MAX + 1, #ts do keep[#keep + 1] = ts[i] end
    ts = keep
  end
  local out = {nr[1]}
  for _, t in ipairs(ts) do out[#out + 1] = t end
  redis.call('HSET', K_N, num, cmsgpack.pack(out))
end

local function event(maxlen, m)
  redis.call('XADD', K_EVENTS, 'MAXLEN', '~', maxlen, '*', 'm', cmsgpack.pack(m))
end

-- Re-evaluates whether campaign c may be claimed and at which score.
local function ready_update(c)
  local h = redis.call('HMGET', ck(c), 'st', 'conc', 'live', 'pool')
  if h[1] ~= '0' or tonumber(h[3]) >= tonumber(h[2]) then
    redis.call('ZREM', K_READY, c)
    return
  end
  local pool = h[4] or ''
  if pool ~= '' then
    local pk = P .. ':pool:' .. pool
    local p = redis.call('HMGET', pk, 'cap', 'live')
    if (tonumber(p[2]) or 0) >= (tonumber(p[1]) or 0) then
      redis.call('ZREM', K_READY, c)
      redis.call('SADD', pk .. ':parked', c)
      return
    end
  end
  local head = redis.call('ZRANGE', ck(c) .. ':due', 0, 0, 'WITHSCORES')
  if #head == 0 then
    redis.call('ZREM', K_READY, c)
  else
    redis.call('ZADD', K_READY, head[2], c)
  end
end

-- A pool slot was freed: campaigns parked on the pool get another look.
local function pool_unpark(pool)
  if pool == '' then return end
  local pk = P .. ':pool:' .. pool .. ':parked'
  local cs = redis.call('SMEMBERS', pk)
  if #cs == 0 then return end
  redis.call('DEL', pk)
  for _, c in ipairs(cs) do ready_update(c) end
end

-- Finishes a job (any non-final state; slots must already be released).
local function finish(c, num, r, disp, now, maxlen)
  if r[1] == 0 then redis.call('ZREM', ck(c) .. ':due', num) end
  r[1], r[4], r[5], r[10], r[11], r[12] = 3, 0, now, disp, '', 0
  rec_put(c, num, r)
  redis.call('ZADD', ck(c) .. ':done', now, num)
  redis.call('HINCRBY', ck(c), 'fin', 1)
  redis.call('HINCRBY', ck(c) .. ':st', 'f' .. disp, 1)
  event(maxlen, {type = 'final', id = pub_id(c, num, r), campaign = c, to = num,
    disposition = DISP[disp], attempts = #r[6] / 2})
end

-- Releases what a lease holds: campaign and pool slots, the number's lock,
-- the lease and the call-id index. undo_reservation: remove the attempt
-- start reserved at claim (a claim that never reached the customer).
local function lease_release(c, num, r, tok, now, undo_reservation)
  local pool = redis.call('HGET', ck(c), 'pool') or ''
  redis.call('HINCRBY', ck(c), 'live', -1)
  if pool ~= '' then redis.call('HINCRBY', P .. ':pool:' .. pool, 'live', -1) end
  local nr = num_get(num)
  if nr[1] == tok then nr[1] = 0 end
  if undo_reservation then
    for i = #nr, 2, -1 do
      if nr[i] == r[5] then table.remove(nr, i) break end
    end
  end
  num_put(num, nr, now)
  redis.call('HDEL', K_LEASE, tok)
  redis.call('ZREM', K_LEASES, tok)
  if r[11] ~= '' then redis.call('HDEL', K_CALL, r[11]) end
  return pool
end

-- The lease named by token tok in campaign c, if current: num, record.
local function lease_find(c, tok)
  local lv = redis.call('HGET', K_LEASE, tok)
  if not lv then return nil end
  local slash = string.find(lv, '/', 1, true)
  if not slash or string.sub(lv, 1, slash - 1) ~= c then return nil end
  local num = string.sub(lv, slash + 1)
  local r = rec_get(c, num)
  if not r or r[4] ~= tonumber(tok) or (r[1] ~= 1 and r[1] ~= 2) then return nil end
  return num, r
end

-- Puts a released job back in the due set (or finishes it when the number
-- opted out, is DND, or the campaign was canceled meanwhile).
local function requeue(c, num, r, due, now, maxlen)
  if redis.call('SISMEMBER', K_OPTOUT, num) == 1 then
    finish(c, num, r, 5, now, maxlen)
  elseif redis.call('SISMEMBER', K_DND, num) == 1 then
    finish(c, num, r, 4, now, maxlen)
  elseif redis.call('HGET', ck(c), 'st') == '2' then
    finish(c, num, r, 6, now, maxlen)
  else
    local seq = seq_next()
    r[1], r[4], r[5], r[11], r[12] = 0, 0, due, '', 0
    rec_put(c, num, r)
    redis.call('ZADD', ck(c) .. ':due', score(due, seq), num)
  end
end
