-- claim.lua: claims a batch of due jobs across campaigns, atomically.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 max jobs, 4 lease ms, 5 lock retry
-- ms, 6 provider bucket name ("" none), 7 bucket rate per second, 8 bucket
-- burst, 9 max campaigns visited, 10 events maxlen, 11 engine id (unused by
-- the logic; visible in MONITOR), 12 the provider this engine serves ("" =
-- any).
-- A campaign pinned to another provider (campaign hash `prov`, set at
-- create) is skipped and left ready for an engine that serves it; it counts
-- in `pinned` and is not the next_due_ms.
-- Walks P:ready in score order over campaigns whose earliest job is due.
-- Per campaign: not active -> unready; no free concurrency -> parked until a
-- lease of it ends; pool full -> parked on the pool until a pool slot frees;
-- calls_per_minute bucket empty -> its ready score moves to the next token.
-- Per due job: number opted out / DND -> finished (opted-out / dnd); number
-- live elsewhere (P:lock) -> due pushed to now + lock retry; else claimed: a
-- token from P:seq, the number's live lock, a lease (start now, deadline now
-- + lease ms), campaign and pool `live` +1, one token from each bucket. The
-- number record is only read.
-- Work is bounded: <= ARGV[9] campaigns and 4 x max + 16 jobs examined.
-- Returns {n, finished, deferred, next_due_ms, bucket_wait_ms, pinned, then per job:
-- campaign, number, token, campaign id, number record (msgpack; the job is
-- the live one of that campaign id)}. next_due_ms: score time of the first
-- ready campaign (0 none; <= now: more is due now). bucket_wait_ms: wall ms
-- until the provider bucket has a token, when it limited this call.
local now, maxj, lease_ms, lock_retry = tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), tonumber(ARGV[5])
local bname, brate, bburst = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local maxc, maxlen = tonumber(ARGV[9]), ARGV[10]
local eprov = ARGV[12] or ''
local nowsc = score(now, 4095)
local out = {0, 0, 0, 0, 0, 0}
local skipped, nskip = {}, 0
local n, fin, defer = 0, 0, 0

-- Provider bucket (real time: Redis TIME).
local bavail, btokens, bnow, bk = maxj, 0, 0, nil
if bname ~= '' then
  bk = P .. ':rate:' .. bname
  local t = redis.call('TIME')
  bnow = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local b = redis.call('HMGET', bk, 't', 'ts')
  btokens = bburst
  if b[1] then
    btokens = math.min(bburst, tonumber(b[1]) + (bnow - tonumber(b[2])) / 1000000 * brate)
  end
  bavail = math.floor(btokens)
end

local budget = maxj * 4 + 16
local camps = {}
if bavail >= 1 then
  camps = redis.call('ZRANGEBYSCORE', K_READY, '-inf', nowsc, 'LIMIT', 0, maxc)
end
local start, deadline = string.format('%d', now), string.format('%d', now + lease_ms)
for _, c in ipairs(camps) do
  if n >= maxj or n >= bavail or budget <= 0 then break end
  local h = redis.call('HMGET', ck(c), 'st', 'conc', 'live', 'pool', 'cpm', 'rt', 'rts', 'id',
    'prov')
  local pool = h[4] or ''
  local pk = P .. ':pool:' .. pool
  local cid = tonumber(h[8])
  local free = (tonumber(h[2]) or 0) - (tonumber(h[3]) or 0)
  local pfree = maxj
  if pool ~= '' then
    local p = redis.call('HMGET', pk, 'cap', 'live')
    pfree = (tonumber(p[1]) or 0) - (tonumber(p[2]) or 0)
  end
  local cpm = tonumber(h[5]) or 0
  local ctok, crate, cburst = maxj, 0, 0
  if cpm > 0 then
    crate = cpm / 60000
    cburst = math.max(1, cpm / 60)
    ctok = cburst
    if h[6] then ctok = math.min(cburst, tonumber(h[6]) + (now - tonumber(h[7])) * crate) end
  end
  if h[9] and h[9] ~= '' and eprov ~= '' and h[9] ~= eprov then
    skipped[c] = true
    nskip = nskip + 1
  elseif tonumber(h[1]) ~= CST.ACTIVE or free <= 0 or not cid then
    redis.call('ZREM', K_READY, c)
  elseif pfree <= 0 then
    redis.call('ZREM', K_READY, c)
    redis.call('SADD', pk .. ':parked', c)
  elseif ctok < 1 then
    redis.call('ZADD', K_READY, score(now + math.ceil((1 - ctok) / crate), 0), c)
  else
    local want = math.min(free, pfree, math.floor(ctok), maxj - n, bavail - n)
    local dk = ck(c) .. ':due'
    local due = redis.call('ZRANGEBYSCORE', dk, '-inf', nowsc, 'LIMIT', 0, want)
    local taken, zrem, lease, leases, locks = 0, {}, {}, {}, {}
    local tok = 0
    -- One read each for the batch: no-dial set, live locks, records (the
    -- numbers of one due set are distinct; the locks are written before the
    -- next campaign reads them).
    local nd, lk, recs = {}, {}, {}
    if #due > 0 then
      tok = redis.call('INCRBY', K_SEQ, #due) - #due
      nd = redis.call('SMISMEMBER', K_NODIAL, unpack(due))
      lk = redis.call('HMGET', K_LOCK, unpack(due))
      recs = redis.call('HMGET', K_N, unpack(due))
    end
    local pre = '|' .. cid .. '|' .. start .. '|0|0|'
    for i, num in ipairs(due) do
      budget = budget - 1
      local b = nd[i] == 1 and blocked(num)
      if b then
        local nr = nrec_get(num)
        local j = job_live(nr, cid)
        if j then
          finish(c, num, j, b, now, maxlen)
          nrec_put(num, nr, now)
          fin = fin + 1
        else
          zrem[#zrem + 1] = num
        end
      elseif lk[i] then
        -- live elsewhere: look again after the lock retry
        redis.call('ZADD', dk, score(now + lock_retry, tok), num)
        defer = defer + 1
      else
        local raw = recs[i]
        tok = tok + 1
        zrem[#zrem + 1] = num
        if raw then -- (no record: a stale due entry, dropped)
          -- the token as a string, once (a Lua number passed to redis.call
          -- is formatted with %.17g at every use)
          local ts = string.format('%d', tok)
          locks[#locks + 1] = num
          locks[#locks + 1] = ts
          lease[#lease + 1] = ts
          lease[#lease + 1] = num .. pre
          leases[#leases + 1] = deadline
          leases[#leases + 1] = ts
          taken = taken + 1
          out[#out + 1] = c
          out[#out + 1] = num
          out[#out + 1] = tok
          out[#out + 1] = cid
          out[#out + 1] = raw
        end
      end
      if budget <= 0 then break end
    end
    if #zrem > 0 then redis.call('ZREM', dk, unpack(zrem)) end
    if taken > 0 then
      redis.call('HSET', K_LOCK, unpack(locks))
      redis.call('HSET', K_LEASE, unpack(lease))
      redis.call('ZADD', K_LEASES, unpack(leases))
      redis.call('HINCRBY', ck(c), 'live', taken)
      if pool ~= '' then redis.call('HINCRBY', pk, 'live', taken) end
      n = n + taken
    end
    if cpm > 0 then
      ctok = ctok - taken
      redis.call('HSET', ck(c), 'rt', ctok, 'rts', now)
    end
    if cpm > 0 and ctok < 1 then
      redis.call('ZADD', K_READY, score(now + math.ceil((1 - ctok) / crate), 0), c)
      touched[c] = nil
    else
      touched[c] = true
    end
  end
end
flush()

local bwait = 0
if bk then
  btokens = btokens - n
  redis.call('HSET', bk, 't', btokens, 'ts', bnow)
  if btokens < 1 then bwait = math.ceil((1 - btokens) / brate * 1000) end
end
-- The earliest ready campaign this engine may claim (the skipped ones are
-- due, so they sort first: look past them).
local head = redis.call('ZRANGE', K_READY, 0, nskip, 'WITHSCORES')
out[1], out[2], out[3], out[5], out[6] = n, fin, defer, bwait, nskip
for i = 1, #head, 2 do
  if not skipped[head[i]] then
    out[4] = score_ms(tonumber(head[i + 1]))
    break
  end
end
return out
