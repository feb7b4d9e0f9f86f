-- recover.lua: expired leases, and trimming of old finished jobs.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 max leases, 4 poll lease ms,
-- 5 events maxlen, 6 retention ms of finished job records.
-- For up to `max` leases whose deadline <= now: a claim never placed is
-- released (slots back, reservation undone, job due now: not an attempt); a
-- placed call keeps its token (the provider's callback still carries it),
-- gets deadline now + poll lease ms and polls + 1, and is returned for status
-- polling. Then drops up to `max` finished job records older than the
-- retention from one random campaign.
-- Returns {requeued, trimmed, next_deadline_ms (0 none), then per placed
-- lease: campaign, number, token, record, number record}.
local now, max, poll_ms, maxlen, keep = tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local out = {0, 0, 0}
local requeued, trimmed = 0, 0
local toks = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', now, 'LIMIT', 0, max)
for _, tok in ipairs(toks) do
  local lv = redis.call('HGET', K_LEASE, tok)
  local c, num = nil, nil
  if lv then c, num = string.match(lv, '^([^/]+)/(.+)$') end
  local r = nil
  if c then r = rec_get(c, num) end
  if not r or r[4] ~= tonumber(tok) then
    -- a lease without its job (cannot happen through these scripts): drop it
    redis.call('ZREM', K_LEASES, tok)
    redis.call('HDEL', K_LEASE, tok)
  elseif r[1] == 1 then
    local pool = lease_release(c, num, r, tonumber(tok), now, true)
    requeue(c, num, r, now, now, maxlen)
    ready_update(c)
    pool_unpark(pool)
    requeued = requeued + 1
  else
    r[12] = r[12] + 1
    local packed = cmsgpack.pack(r)
    redis.call('HSET', ck(c) .. ':jobs', num, packed)
    redis.call('ZADD', K_LEASES, now + poll_ms, tok)
    out[#out + 1] = c
    out[#out + 1] = num
    out[#out + 1] = tonumber(tok)
    out[#out + 1] = packed
    out[#out + 1] = num_raw(num)
  end
end
local c = redis.call('SRANDMEMBER', K_CAMPAIGNS)
if c then
  local old = redis.call('ZRANGEBYSCORE', ck(c) .. ':done', '-inf', now - keep, 'LIMIT', 0, max)
  for _, num in ipairs(old) do
    local r = rec_get(c, num)
    if r and r[1] == 3 then
      redis.call('HDEL', ck(c) .. ':jobs', num)
      if r[3] ~= '' then redis.call('HDEL', K_ID, r[3]) end
      if redis.call('HEXISTS', K_N, num) == 1 then num_put(num, num_get(num), now) end
    end
    redis.call('ZREM', ck(c) .. ':done', num)
    trimmed = trimmed + 1
  end
end
local head = redis.call('ZRANGE', K_LEASES, 0, 0, 'WITHSCORES')
out[1], out[2] = requeued, trimmed
if #head > 0 then out[3] = math.floor(tonumber(head[2])) end
return out
