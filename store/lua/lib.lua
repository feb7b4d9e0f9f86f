-- lib.lua: helpers prepended to every other redial script when it is loaded
-- (store/store.c), behind the constants generated from proto/model.h
-- (OUT, DISP, JST, CST, ENQ, J_<field>, NR_ATTS, NR_JOB1, S_<field>: see
-- cmake/gen_lua_model.c). No KEYS/ARGV contract of its own; it reads
-- ARGV[1] = the key prefix P. Key names: docs/REDIS.md.
--
-- Everything about one number lives in one field of P:n (the number record):
-- its attempt starts over the last 8 days (all campaigns) and its jobs (at
-- most one live per campaign, plus finished ones kept for the retention).
-- Campaigns appear in records by a small integer id. A live claim is not in
-- the record: it is the lease (P:lease token -> "num|cid|start|placed|polls|
-- call id") plus the number's live lock (P:lock num -> token), so claiming
-- never rewrites a record. Every time is policy-time unix milliseconds.
local P = ARGV[1]
local EPOCH = 1577836800000
local K_READY, K_N, K_ID, K_LEASE, K_LEASES, K_CALL = P .. ':ready', P .. ':n', P .. ':id',
  P .. ':lease', P .. ':leases', P .. ':call'
local K_DND, K_OPTOUT, K_EVENTS, K_CAMPAIGNS, K_SEQ = P .. ':dnd', P .. ':optout',
  P .. ':events', P .. ':campaigns', P .. ':seq'
local K_CID, K_CNAME, K_GC, K_NODIAL, K_LOCK = P .. ':cid', P .. ':cname', P .. ':gc',
  P .. ':nodial', P .. ':lock'

local function ck(c) return P .. ':c:' .. c end
-- Producer ids are indexed in 16384 small hashes (P:id:<bucket>), which Redis
-- keeps as compact listpacks (up to 128 entries of <= 64 bytes each by
-- default): about a third of the memory of one big hash.
local ID_BUCKETS = 16384
local function id_key(id)
  local h = 0
  for i = 1, #id do h = (h * 31 + string.byte(id, i)) % ID_BUCKETS end
  return K_ID .. ':' .. h
end
local function score(due, seq) return (due - EPOCH) * 4096 + (seq % 4096) end
local function score_ms(s) return math.floor(s / 4096) + EPOCH end

-- Campaign name <-> id, and the fields scripts need, cached per call.
local cid_c, cname_c, camp_c = {}, {}, {}
local function cid_of(name)
  local v = cid_c[name]
  if v == nil then
    v = tonumber(redis.call('HGET', K_CID, name)) or false
    cid_c[name] = v
  end
  return v
end
local function cname_of(id)
  local v = cname_c[id]
  if v == nil then
    v = redis.call('HGET', K_CNAME, id) or false
    cname_c[id] = v
  end
  return v
end
local function camp(c)
  local v = camp_c[c]
  if not v then
    local h = redis.call('HMGET', ck(c), 'st', 'pool')
    v = {st = tonumber(h[1]), pool = h[2] or ''}
    camp_c[c] = v
  end
  return v
end

-- Job: the fields J_CID .. J_NB of proto/model.h (RD_JOB_FIELDS), stored
-- as an array; st JST.PENDING while live (pending, or claimed/placed under a
-- lease), JST.FINAL once finished; hist = {start, outcome, ...}; trailing
-- fields holding their default (JDEF) are omitted.
local function job_norm(j)
  for i = 1, J_COUNT do
    if j[i] == nil then
      if i == J_HIST then j[i] = {} else j[i] = JDEF[i] end
    end
  end
  return j
end
-- Drops trailing default fields in place (the table is then only fit for packing).
local function job_trim(j)
  for n = J_COUNT, J_REQUIRED + 1, -1 do
    if j[n] == JDEF[n] then j[n] = nil else break end
  end
end
local function pub_id(c, num, j)
  if j[J_ID] ~= '' then return j[J_ID] end
  return c .. '/' .. num .. '/' .. j[J_SEQ]
end

-- Number record: nr[NR_ATTS] = {attempt starts}, jobs from nr[NR_JOB1].
local function nrec_get(num)
  local v = redis.call('HGET', K_N, num)
  if not v then return {[NR_ATTS] = {}} end
  local nr = cmsgpack.unpack(v)
  for i = NR_JOB1, #nr do job_norm(nr[i]) end
  return nr
end
-- Writes (or deletes) the record, pruning attempts older than NR_KEEP_MS
-- (the newest NR_KEEP_MAX kept).
-- The record's job tables are trimmed in place: do not read them after.
local function nrec_put(num, nr, now)
  local lim, atts = now - NR_KEEP_MS, nr[NR_ATTS]
  local old = false
  for _, t in ipairs(atts) do
    if t < lim then old = true break end
  end
  if old then
    local keep = {}
    for _, t in ipairs(atts) do
      if t >= lim then keep[#keep + 1] = t end
    end
    nr[NR_ATTS] = keep
  end
  atts = nr[NR_ATTS]
  if #atts > NR_KEEP_MAX then
    table.sort(atts)
    local keep = {}
    for i = #atts - NR_KEEP_MAX + 1, #atts do keep[#keep + 1] = atts[i] end
    nr[NR_ATTS] = keep
  end
  if #nr < NR_JOB1 and #nr[NR_ATTS] == 0 then
    redis.call('HDEL', K_N, num)
    return
  end
  for i = NR_JOB1, #nr do job_trim(nr[i]) end
  redis.call('HSET', K_N, num, cmsgpack.pack(nr))
end
local function job_live(nr, cid)
  for i = NR_JOB1, #nr do
    local j = nr[i]
    if j[J_CID] == cid and j[J_ST] ~= JST.FINAL then return j end
  end
  return nil
end

-- Lease value "num|cid|start|placed|polls|call id" <-> table.
local function lease_parse(v)
  local num, cid, start, placed, polls, call =
    string.match(v, '^([^|]*)|(%d+)|(%d+)|(%d)|(%d+)|(.*)$')
  if not num then return nil end
  return {num = num, cid = tonumber(cid), start = tonumber(start), start_s = start,
    placed = placed == '1', polls = tonumber(polls), call = call}
end
local function lease_str(l)
  return l.num .. '|' .. l.cid .. '|' .. string.format('%d', l.start) .. '|' ..
    (l.placed and '1' or '0') .. '|' .. l.polls .. '|' .. l.call
end

-- Why a number may not be dialed: DISP.OPTED_OUT, DISP.DND or nil. P:nodial
-- is the union of P:optout and P:dnd: one lookup for the common case.
local function blocked(num)
  if redis.call('SISMEMBER', K_NODIAL, num) == 0 then return nil end
  if redis.call('SISMEMBER', K_OPTOUT, num) == 1 then return DISP.OPTED_OUT end
  if redis.call('SISMEMBER', K_DND, num) == 1 then return DISP.DND end
  return nil
end

-- Events are XADDed plainly; flush() trims the stream once per call.
-- event_raw takes the map already packed (by the engine: settle.lua).
local events_maxlen = nil
local function event_raw(maxlen, bytes)
  redis.call('XADD', K_EVENTS, '*', 'm', bytes)
  events_maxlen = maxlen
end
local function event(maxlen, m) event_raw(maxlen, cmsgpack.pack(m)) end

-- Aggregated effects, applied once per script call by flush().
local agg_live, agg_pool, agg_st, agg_gst, touched, pools_freed = {}, {}, {}, {}, {}, {}
local del_tok, del_lock = {}, {}
local gone = {} -- tokens released in this call (their deletion waits for flush)
local function incr(t, k, n) t[k] = (t[k] or 0) + n end
local function stat(c, field, n)
  local t = agg_st[c]
  if not t then
    t = {}
    agg_st[c] = t
  end
  incr(t, field, n)
end

-- Re-evaluates whether campaign c may be claimed and at which score.
local function ready_update(c)
  local h = redis.call('HMGET', ck(c), 'st', 'conc', 'live', 'pool')
  if tonumber(h[1]) ~= CST.ACTIVE or tonumber(h[3]) >= tonumber(h[2]) then
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
  local pk = P .. ':pool:' .. pool .. ':parked'
  local cs = redis.call('SMEMBERS', pk)
  if #cs == 0 then return end
  redis.call('DEL', pk)
  for _, c in ipairs(cs) do ready_update(c) end
end

-- With defer_fx (settle.lua: every item of a batch is a distinct live job, so
-- none reads back what an earlier one finished), finished() and
-- lease_release() queue their per-item writes too and flush() applies them
-- once per call: `fin` counts, due-set ZREMs, the GC index ZADD, call-id HDELs.
local defer_fx = false
local agg_fin, fin_due, gc_add, del_call = {}, {}, {}, {}
local function flush()
  for c, n in pairs(agg_fin) do redis.call('HINCRBY', ck(c), 'fin', n) end
  for c, d in pairs(fin_due) do redis.call('ZREM', ck(c) .. ':due', unpack(d)) end
  if #gc_add > 0 then redis.call('ZADD', K_GC, unpack(gc_add)) end
  if #del_call > 0 then redis.call('HDEL', K_CALL, unpack(del_call)) end
  for c, n in pairs(agg_live) do redis.call('HINCRBY', ck(c), 'live', -n) end
  for p, n in pairs(agg_pool) do redis.call('HINCRBY', P .. ':pool:' .. p, 'live', -n) end
  for c, t in pairs(agg_st) do
    for f, n in pairs(t) do
      redis.call('HINCRBY', ck(c) .. ':st', f, n)
    end
  end
  for f, n in pairs(agg_gst) do redis.call('HINCRBY', P .. ':st', f, n) end
  if #del_tok > 0 then
    redis.call('HDEL', K_LEASE, unpack(del_tok))
    redis.call('ZREM', K_LEASES, unpack(del_tok))
    redis.call('HDEL', K_LOCK, unpack(del_lock))
  end
  if events_maxlen then
    redis.call('XTRIM', K_EVENTS, 'MAXLEN', '~', events_maxlen)
    events_maxlen = nil
  end
  for c in pairs(touched) do ready_update(c) end
  for p in pairs(pools_freed) do pool_unpark(p) end
end

-- The effects of finishing a job of number num in campaign c outside its
-- record: due entry, counters, GC index, the `final` event (packed).
local function finished(c, num, disp, now, maxlen, ev)
  if defer_fx then
    local d = fin_due[c]
    if not d then
      d = {}
      fin_due[c] = d
    end
    d[#d + 1] = num
    incr(agg_fin, c, 1)
    gc_add[#gc_add + 1] = now
    gc_add[#gc_add + 1] = num
  else
    redis.call('ZREM', ck(c) .. ':due', num)
    redis.call('HINCRBY', ck(c), 'fin', 1)
    redis.call('ZADD', K_GC, now, num)
  end
  stat(c, 'f' .. disp, 1)
  event_raw(maxlen, ev)
  touched[c] = true
end
-- Finishes job j of number num in campaign c (not written: the caller puts
-- the record). Slots must already be released.
local function finish(c, num, j, disp, now, maxlen)
  j[J_ST], j[J_T], j[J_DISP] = JST.FINAL, now, disp
  finished(c, num, disp, now, maxlen, cmsgpack.pack({type = 'final', id = pub_id(c, num, j),
    campaign = c, to = num, disposition = DISP_NAME[disp], attempts = #j[J_HIST] / 2}))
end

-- Releases what lease `tok` (decimal string; parsed as l) of campaign c holds (aggregated):
-- campaign and pool slots, the number's live lock, the lease, the call-id index.
local function lease_release(c, tok, l)
  incr(agg_live, c, 1)
  local pool = camp(c).pool
  if pool ~= '' then
    incr(agg_pool, pool, 1)
    pools_freed[pool] = true
  end
  del_lock[#del_lock + 1] = l.num
  del_tok[#del_tok + 1] = tok
  gone[tok] = true
  if l.call ~= '' then
    if defer_fx then del_call[#del_call + 1] = l.call else redis.call('HDEL', K_CALL, l.call) end
  end
  touched[c] = true
end

-- The live lease `tok` (its decimal string, as sent by the engine or read
-- from Redis) of campaign c, parsed, or nil. Tokens stay strings here: a
-- Lua number passed to redis.call costs a %.17g formatting.
-- lease_check does it on the lease value v already read (batched reads).
local function lease_check(c, tok, v)
  if not v or gone[tok] then return nil end
  local l = lease_parse(v)
  if not l or l.cid ~= cid_of(c) then return nil end
  return l
end
local function lease_find(c, tok)
  if not tok or gone[tok] then return nil end
  return lease_check(c, tok, redis.call('HGET', K_LEASE, tok))
end

-- Puts a released job (still live in its record) back in the due set at
-- `due`, or finishes it when the number opted out / is DND or the campaign
-- was canceled meanwhile. seq: FIFO tiebreak for the score.
local function requeue(c, num, cid, due, now, maxlen, seq)
  local b = blocked(num)
  if not b and camp(c).st == CST.CANCELED then b = DISP.CANCELED end
  if b then
    local nr = nrec_get(num)
    local j = job_live(nr, cid)
    if j then
      finish(c, num, j, b, now, maxlen)
      nrec_put(num, nr, now)
    end
  else
    redis.call('ZADD', ck(c) .. ':due', score(due, seq), num)
    touched[c] = true
  end
end
