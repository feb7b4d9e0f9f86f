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
-- attempt, outcome, how: numbers or their decimal strings (ARGV as is).
local function counts(c, attempt, outcome, how, answered)
  stat(c, 'a' .. attempt .. ':' .. outcome, 1)
  if how ~= '-1' then
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
-- Reads are batched: every lease in one HMGET; then, for the prepared items
-- whose lease matches, their records in one HMGET and (retries) the no-dial
-- set in one SMISMEMBER. Items are still applied one by one, in order; a
-- record written by an earlier item of the batch is read again (dirty), and
-- a token seen twice is applied once (gone).
local N = 18
local toks = {}
for k = 0, count - 1 do toks[k + 1] = ARGV[5 + k * N + 1] end
local lv = {}
if count > 0 then lv = redis.call('HMGET', K_LEASE, unpack(toks)) end
local leases, pnums, pidx, dnums, didx = {}, {}, {}, {}, {}
for k = 0, count - 1 do
  local a = 5 + k * N
  local l = lease_check(ARGV[a], ARGV[a + 1], lv[k + 1])
  leases[k + 1] = l or false
  if l and ARGV[a + 14] ~= '' and l.num == ARGV[a + 10] then
    pnums[#pnums + 1] = l.num
    pidx[k + 1] = #pnums
    if ARGV[a + 5] ~= '1' then
      dnums[#dnums + 1] = l.num
      didx[k + 1] = #dnums
    end
  end
end
local precs, pdnd = {}, {}
if #pnums > 0 then precs = redis.call('HMGET', K_N, unpack(pnums)) end
if #dnums > 0 then pdnd = redis.call('SMISMEMBER', K_NODIAL, unpack(dnums)) end
local dirty = {}
local dues = {} -- campaign -> {score, number, ...} ZADDed after the loop
for k = 0, count - 1 do
  local a = 5 + k * N
  -- outcome and how stay strings where they only name counters
  local c, tok, outcome, call = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local final, disp, due = ARGV[a + 5] == '1', tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7])
  local how, answered = ARGV[a + 8], ARGV[a + 9] == '1'
  local xold = ARGV[a + 14]
  local o = 4 * k
  local l = leases[k + 1]
  -- a token already applied earlier in this batch
  if l and gone[tok] then l = false end
  if call == '' and l then call = l.call end
  local b = nil
  local fast = l and pidx[k + 1] and not dirty[l.num] and l.start_s == ARGV[a + 11]
    and call == ARGV[a + 12]
  if fast and not final then
    if pdnd[didx[k + 1]] == 1 then b = blocked(l.num) end
    if not b and camp(c).st == '2' then b = 6 end
    fast = not b
  end
  fast = fast and precs[pidx[k + 1]] == xold
  if fast then
    -- prepared by the engine from this very record
    local num, attempt = l.num, ARGV[a + 13]
    lease_release(c, tok, l)
    counts(c, attempt, outcome, how, answered)
    attempt = tonumber(attempt)
    event_raw(maxlen, ARGV[a + 16])
    redis.call('HSET', K_N, num, ARGV[a + 15])
    dirty[num] = true
    if final then
      if disp == 0 then stat(c, 'k' .. attempt, 1) end
      finished(c, num, disp, now, maxlen, ARGV[a + 17])
      out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 2, 1, disp, attempt
    else
      seq = seq + 1
      local d = dues[c]
      if not d then
        d = {}
        dues[c] = d
      end
      d[#d + 1] = string.format('%d', score(due, seq))
      d[#d + 1] = num
      touched[c] = true
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
      if l then lease_release(c, tok, l) end
      out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 0, 0, -1, 0
    else
      local num = l.num
      lease_release(c, tok, l)
      local h = j[J_HIST]
      outcome = tonumber(outcome)
      h[#h + 1] = l.start
      h[#h + 1] = outcome
      nr[1][#nr[1] + 1] = l.start
      local attempt = #h / 2
      counts(c, attempt, outcome, how, answered)
      event(maxlen, {type = 'attempt', id = pub_id(c, num, j), campaign = c, to = num,
        attempt = attempt, outcome = OUTCOME[outcome] or '?', call_id = call,
        started_ms = l.start, ended_ms = tonumber(ARGV[a + 4])})
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
      dirty[num] = true
    end
  end
end
for c, d in pairs(dues) do redis.call('ZADD', ck(c) .. ':due', unpack(d)) end
flush()
return out
