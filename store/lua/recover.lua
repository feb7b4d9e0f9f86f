-- recover.lua: expired leases, and trimming of old finished jobs.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 max leases, 4 poll lease ms,
-- 5 events maxlen, 6 retention ms of finished jobs.
-- For up to `max` leases whose deadline <= now: a claim never placed is
-- released (slots and lock back, job due now: not an attempt); a placed call
-- keeps its token (the provider's callback still carries it), gets deadline
-- now + poll lease ms and polls + 1, and is returned for status polling.
-- Then, for up to `max` numbers whose last job finished more than the
-- retention ago (P:gc), drops those finished jobs (and their producer-id
-- entries), and the record itself once nothing is left in it.
-- Returns {requeued, trimmed, next_deadline_ms (0 none), then per placed
-- lease: campaign, number, token, campaign id, number record, lease start,
-- call id, polls}.
local now, max, poll_ms, maxlen, keep = tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local out = {0, 0, 0}
local requeued, trimmed = 0, 0
local toks = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', now, 'LIMIT', 0, max)
for _, tok in ipairs(toks) do
  local v = redis.call('HGET', K_LEASE, tok)
  local l = v and lease_parse(v)
  local c = l and cname_of(l.cid)
  local raw = l and redis.call('HGET', K_N, l.num)
  if raw and not job_live(nrec_get(l.num), l.cid) then raw = nil end
  if c and not raw then
    -- a lease without its job (never made by these scripts): free its slots
    lease_release(c, tok, l)
  elseif not c then
    redis.call('ZREM', K_LEASES, tok)
    redis.call('HDEL', K_LEASE, tok)
    if l and redis.call('HGET', K_LOCK, l.num) == tok then redis.call('HDEL', K_LOCK, l.num) end
  elseif not l.placed then
    lease_release(c, tok, l)
    requeue(c, l.num, l.cid, now, now, maxlen, tonumber(tok))
    requeued = requeued + 1
  else
    l.polls = l.polls + 1
    redis.call('HSET', K_LEASE, tok, lease_str(l))
    redis.call('ZADD', K_LEASES, now + poll_ms, tok)
    local n = #out
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = c, l.num, tonumber(tok), l.cid
    out[n + 5], out[n + 6], out[n + 7], out[n + 8] = raw, l.start, l.call, l.polls
  end
end
local old = redis.call('ZRANGEBYSCORE', K_GC, '-inf', now - keep, 'LIMIT', 0, max)
local lim = now - keep
for _, num in ipairs(old) do
  local nr = nrec_get(num)
  local kept, live, last = {[NR_ATTS] = nr[NR_ATTS]}, false, 0
  for i = NR_JOB1, #nr do
    local j = nr[i]
    if j[J_ST] == JST.FINAL and j[J_T] <= lim then
      if j[J_ID] ~= '' then redis.call('HDEL', id_key(j[J_ID]), j[J_ID]) end
      trimmed = trimmed + 1
    else
      kept[#kept + 1] = j
      if j[J_ST] ~= JST.FINAL then live = true elseif j[J_T] > last then last = j[J_T] end
    end
  end
  nrec_put(num, kept, now)
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
