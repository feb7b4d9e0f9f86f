-- recover.lua: expired leases, and trimming of old finished jobs.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 max leases, 4 poll lease ms,
-- 5 events maxlen, 6 retention ms of finished jobs.
-- For up to `max` leases whose deadline <= now: a claim never placed is
-- released (slots back, reservation undone, job due now: not an attempt); a
-- placed call keeps its token (the provider's callback still carries it),
-- gets deadline now + poll lease ms and polls + 1, and is returned for status
-- polling. Then, for up to `max` numbers whose last job finished more than
-- the retention ago (P:gc), drops those finished jobs (and their producer-id
-- entries) and the record itself once nothing is left in it.
-- Returns {requeued, trimmed, next_deadline_ms (0 none), then per placed
-- lease: campaign, number, token, number record (msgpack)}.
local now, max, poll_ms, maxlen, keep = tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local now_s = secs(now)
local out = {0, 0, 0}
local requeued, trimmed = 0, 0
local toks = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', now, 'LIMIT', 0, max)
for _, tok in ipairs(toks) do
  local num = redis.call('HGET', K_LEASE, tok)
  local nr, j, c = nil, nil, nil
  if num then
    nr = nrec_get(num)
    for i = 3, #nr do
      if nr[i][J_TOK] == tonumber(tok) then j = nr[i] end
    end
  end
  if j then c = cname_of(j[J_CID]) end
  if not c then
    -- a lease without its job (cannot happen through these scripts): drop it
    redis.call('ZREM', K_LEASES, tok)
    redis.call('HDEL', K_LEASE, tok)
  elseif j[J_ST] == 1 then
    lease_release(c, nr, j, true)
    requeue(c, num, j, now, now, maxlen, j[J_SEQ])
    nrec_put(num, nr, now_s)
    requeued = requeued + 1
  else
    j[J_POLLS] = j[J_POLLS] + 1
    local packed = nrec_put(num, nr, now_s)
    redis.call('ZADD', K_LEASES, now + poll_ms, tok)
    out[#out + 1] = c
    out[#out + 1] = num
    out[#out + 1] = tonumber(tok)
    out[#out + 1] = packed
  end
end
local old = redis.call('ZRANGEBYSCORE', K_GC, '-inf', now - keep, 'LIMIT', 0, max)
local lim_s = secs(now - keep)
for _, num in ipairs(old) do
  local nr = nrec_get(num)
  local kept, live, last = {nr[1], nr[2]}, false, 0
  for i = 3, #nr do
    local j = nr[i]
    if j[J_ST] == 3 and j[J_T] <= lim_s then
      if j[J_ID] ~= '' then redis.call('HDEL', K_ID, j[J_ID]) end
      trimmed = trimmed + 1
    else
      kept[#kept + 1] = j
      if j[J_ST] ~= 3 then live = true elseif j[J_T] > last then last = j[J_T] end
    end
  end
  nrec_put(num, kept, now_s)
  if live or redis.call('HEXISTS', K_N, num) == 0 then
    redis.call('ZREM', K_GC, num) -- a live job re-adds it when it finishes
  elseif last > 0 then
    redis.call('ZADD', K_GC, last, num)
  else
    redis.call('ZADD', K_GC, now, num) -- attempts only: look again later
  end
end
flush()
local head = redis.call('ZRANGE', K_LEASES, 0, 0, 'WITHSCORES')
out[1], out[2] = requeued, trimmed
if #head > 0 then out[3] = math.floor(tonumber(head[2])) end
return out
