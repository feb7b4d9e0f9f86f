-- settle.lua: applies attempt outcomes, each once (fenced by its token), in
-- a batch.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 events maxlen, 4 count, then per
-- settle 18 values; the first 10: campaign, token, outcome (proto/outcome.h), provider call
-- id ("" = as recorded), ended ms, final (0/1), disposition (when final),
-- next due ms (when not final), local hour of week of the attempt (-1 = not
-- counted), answered (0/1).
-- Each: releases slots, lock and lease; appends {start, outcome} to the
-- job's history and the start to the number's attempts; counts stats; XADDs
-- the `attempt` event; then finishes (disposition, `final` event) or
-- reschedules at the due time. A retry becomes final `opted-out` / `dnd` /
-- `canceled` when the number opted out / is DND / the campaign was canceled
-- meanwhile.
-- Per settle 8 more values, all "" unless the engine prepared the settle
-- (engine/store.c settle_prep, from the number record it read with the
-- job): number, lease start ms, call id used in the event, attempt number,
-- the number record as read, the record to write, the packed `attempt`
-- event, the packed `final` event ("" when not final). They are used only
-- when the lease's number and start, the effective call id and the whole
-- record in Redis are exactly those (compare-and-set), and no opt-out / DND
-- / cancel turns a retry final; else this script does the settle itself.
-- Returns 4 values per settle, in order: {1 (2 when the engine's prepared
-- record and events were stored), final (0/1), disposition (-1 when not
-- final), attempt number}, or {0, 0, -1, 0} when the token is not current
-- (a second or late settle: nothing changes).
local now, maxlen, count = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local out = {}
local seq = redis.call('INCRBY', K_SEQ, count) - count
-- Tokens released by this call: lease deletions are flushed at the end, so a
-- duplicate callback batched with the first must be fenced here.
local released = {}
local function counts(c, attempt, outcome, how, answered)
  stat(c, 'a' .. attempt .. ':' .. outcome, 1)
  if how >= 0 then
    stat(c, 'ha' .. how, 1)
    incr(agg_gst, 'ha' .. how, 1)
    if answered then
      stat(c, 'hk' .. how, 1)
      incr(agg_gst, 'hk' .. how, 1)
    end
  end
end
-- Why a retry of num in c must finish instead: 5 opted-out, 4 dnd, 6 canceled.
local function override(c, num)
  local b = blocked(num)
  if not b and camp(c).st == '2' then b = 6 end
  return b
end
for k = 0, count - 1 do
  local a = 5 + k * 18
  local c, tok, outcome, call = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]
  local ended, final, disp, due = tonumber(ARGV[a + 4]), ARGV[a + 5] == '1',
    tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7])
  local how, answered = tonumber(ARGV[a + 8]), ARGV[a + 9] == '1'
  local xold = ARGV[a + 14]
  local o = 4 * k
  local l = not released[tok] and lease_find(c, tok) or nil
  if call == '' and l then call = l.call end
  local b = nil
  local fast = l and xold ~= '' and l.num == ARGV[a + 10] and l.start == tonumber(ARGV[a + 11])
    and call == ARGV[a + 12]
  if fast and not final then
    b = override(c, l.num)
    fast = not b
  end
  fast = fast and redis.call('HGET', K_N, l.num) == xold
  if fast then
    -- prepared by the engine from this very record
    local num, attempt = l.num, tonumber(ARGV[a + 13])
    lease_release(c, tok, l)
    released[tok] = true
    counts(c, attempt, outcome, how, answered)
    event_raw(maxlen, ARGV[a + 16])
    redis.call('HSET', K_N, num, ARGV[a + 15])
    if final then
      if disp == 0 then stat(c, 'k' .. attempt, 1) end
      finished(c, num, disp, now, maxlen, ARGV[a + 17])
      out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 2, 1, disp, attempt
    else
      seq = seq + 1
      redis.call('ZADD', ck(c) .. ':due', score(due, seq), num)
      out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 2, 0, -1, attempt
    end
  else
    local nr, j = nil, nil
    if l then
      nr = nrec_get(l.num)
      j = job_live(nr, l.cid)
    end
    if not j then
      -- A lease whose job is gone (never made by these scripts): free its slots.
      if l then
        lease_release(c, tok, l)
        released[tok] = true
      end
      out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 0, 0, -1, 0
    else
      local num = l.num
      lease_release(c, tok, l)
      released[tok] = true
      local h = j[J_HIST]
      h[#h + 1] = l.start
      h[#h + 1] = outcome
      nr[1][#nr[1] + 1] = l.start
      local attempt = #h / 2
      counts(c, attempt, outcome, how, answered)
      event(maxlen, {type = 'attempt', id = pub_id(c, num, j), campaign = c, to = num,
        attempt = attempt, outcome = OUTCOME[outcome] or '?', call_id = call,
        started_ms = l.start, ended_ms = ended})
      if not final then
        if b == nil then b = override(c, num) end
        if b then final, disp = true, b end
      end
      if final then
        if disp == 0 then stat(c, 'k' .. attempt, 1) end
        finish(c, num, j, disp, now, maxlen)
        out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, 1, disp, attempt
      else
        seq = seq + 1
        redis.call('ZADD', ck(c) .. ':due', score(due, seq), num)
        out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, 0, -1, attempt
      end
      nrec_put(num, nr, now)
    end
  end
end
flush()
return out
