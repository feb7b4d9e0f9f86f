-- figures.lua: the cluster-wide figures of campaigns for the metrics
-- (GET /metrics/cluster). KEYS[1] = P:seq. ARGV: 1 P, 2 now ms,
-- 3 retention ms, 4.. campaign names (at most 100 per call).
-- A campaign with no pending job and no live call is "idle": the first call
-- that sees it so records `idle` = now in its hash, any later activity
-- clears it; once idle for longer than the retention it is left out of the
-- figures (it stays in `campaign list` until archived).
-- Returns per campaign {name, shown 0/1, state, concurrency, live, pending,
-- due now, oldest due ms (0 none), enqueued, finished, pool, stats hash
-- (flat field/value list)}; missing campaigns are skipped.
local now, retention = tonumber(ARGV[2]), tonumber(ARGV[3])
local now_score = score(now, 4095)
local out = {}
for i = 4, #ARGV do
  local c = ARGV[i]
  local h = redis.call('HMGET', ck(c), 'st', 'conc', 'live', 'enq', 'fin', 'pool', 'idle')
  if h[1] then
    local dk = ck(c) .. ':due'
    local pending = redis.call('ZCARD', dk)
    local live = tonumber(h[3]) or 0
    local shown = 1
    if pending == 0 and live == 0 then
      local idle = tonumber(h[7])
      if not idle then
        redis.call('HSET', ck(c), 'idle', now)
      elseif now - idle > retention then
        shown = 0
      end
    elseif h[7] then
      redis.call('HDEL', ck(c), 'idle')
    end
    local due_now, oldest = 0, 0
    if shown == 1 and pending > 0 then
      due_now = redis.call('ZCOUNT', dk, '-inf', now_score)
      local head = redis.call('ZRANGE', dk, 0, 0, 'WITHSCORES')
      if #head == 2 then oldest = score_ms(tonumber(head[2])) end
    end
    local st = {}
    if shown == 1 then st = redis.call('HGETALL', ck(c) .. ':st') end
    out[#out + 1] = {c, shown, tonumber(h[1]) or 0, tonumber(h[2]) or 0, live, pending, due_now,
      oldest, tonumber(h[4]) or 0, tonumber(h[5]) or 0, h[6] or '', st}
  end
end
return out
