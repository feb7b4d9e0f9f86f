-- claim.lua: claims a batch of due jobs across campaigns, atomically.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 max jobs, 4 lease ms, 5 lock retry
-- ms, 6 provider bucket name ("" none), 7 bucket rate per second, 8 bucket
-- burst, 9 max campaigns visited, 10 events maxlen, 11 engine id (unused by
-- the logic; kept for MONITOR-level debugging).
-- Walks P:ready in score order over campaigns whose earliest job is due.
-- Per campaign: not active -> unready; no free concurrency -> parked until a
-- lease of it ends; pool full -> parked on the pool until a pool slot frees;
-- calls_per_minute bucket empty -> its ready score moves to the next token.
-- Per due job: number opted out / DND -> finished (opted-out / dnd); number
-- live elsewhere -> due pushed to now + lock retry; else claimed: token =
-- INCR P:seq, lease deadline now + lease ms, campaign and pool `live` +1,
-- number lock = token and attempt start reserved, one token from each bucket.
-- Work is bounded: <= ARGV[9] campaigns and 4 x max + 16 jobs examined.
-- Returns {n, finished, deferred, next_due_ms, bucket_wait_ms, then per job:
-- campaign, number, token, record, number record before the reservation
-- ("" when none)}. next_due_ms: score time of the first ready campaign (0
-- none; <= now means "more is due now"). bucket_wait_ms: wall ms until the
-- provider bucket has a token, when it limited this call (else 0).
local now, maxj, lease_ms, lock_retry = tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), tonumber(ARGV[5])
local bname, brate, bburst = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local maxc, maxlen = tonumber(ARGV[9]), ARGV[10]
local nowsc = score(now, 4095)
local out = {0, 0, 0, 0, 0}
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
for _, c in ipairs(camps) do
  if n >= maxj or n >= bavail or budget <= 0 then break end
  local h = redis.call('HMGET', ck(c), 'st', 'conc', 'live', 'pool', 'cpm', 'rt', 'rts')
  local pool = h[4] or ''
  local pk = P .. ':pool:' .. pool
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
  if h[1] ~= '0' or free <= 0 then
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
    local taken = 0
    for _, num in ipairs(due) do
      budget = budget - 1
      local r = rec_get(c, num)
      if not r or r[1] ~= 0 then
        redis.call('ZREM', dk, num) -- not pending: stale entry
      elseif redis.call('SISMEMBER', K_OPTOUT, num) == 1 then
        finish(c, num, r, 5, now, maxlen)
        fin = fin + 1
      elseif redis.call('SISMEMBER', K_DND, num) == 1 then
        finish(c, num, r, 4, now, maxlen)
        fin = fin + 1
      else
        local raw = num_raw(num)
        local nr = {0}
        if raw ~= '' then nr = cmsgpack.unpack(raw) end
        if nr[1] ~= 0 then
          redis.call('ZADD', dk, score(now + lock_retry, r[2]), num)
          defer = defer + 1
        else
          local tok = seq_next()
          redis.call('ZREM', dk, num)
          r[1], r[4], r[5], r[11], r[12] = 1, tok, now, '', 0
          local packed = cmsgpack.pack(r)
          redis.call('HSET', ck(c) .. ':jobs', num, packed)
          nr[1] = tok
          nr[#nr + 1] = now
          num_put(num, nr, now)
          redis.call('HSET', K_LEASE, tok, c .. '/' .. num)
          redis.call('ZADD', K_LEASES, now + lease_ms, tok)
          taken = taken + 1
          out[#out + 1] = c
          out[#out + 1] = num
          out[#out + 1] = tok
          out[#out + 1] = packed
          out[#out + 1] = raw
        end
      end
      if budget <= 0 then break end
    end
    if taken > 0 then
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
    else
      ready_update(c)
    end
  end
end

local bwait = 0
if bk then
  btokens = btokens - n
  redis.call('HSET', bk, 't', btokens, 'ts', bnow)
  if btokens < 1 then bwait = math.ceil((1 - btokens) / brate * 1000) end
end
local head = redis.call('ZRANGE', K_READY, 0, 0, 'WITHSCORES')
out[1], out[2], out[3], out[5] = n, fin, defer, bwait
if #head > 0 then out[4] = score_ms(tonumber(head[2])) end
return out
