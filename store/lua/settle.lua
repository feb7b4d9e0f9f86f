-- settle.lua: applies attempt outcomes, each once (fenced by its token), in
-- a batch.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 events maxlen, 4 count, then per
-- settle S_COUNT values, read by name: the item at base a has field F at
-- ARGV[a + S_F] (the fields and their order: RD_SETTLE_FIELDS in
-- proto/model.h, packed by store/store_job.c from the same list).
-- Each: releases slots, lock and lease; appends {start, outcome} to the
-- job's history and the start to the number's attempts; counts stats; XADDs
-- the `attempt` event; then finishes (disposition, `final` event) or
-- reschedules at the due time. A retry becomes final `opted-out` / `dnd` /
-- `canceled` when the number opted out / is DND / the campaign was canceled
-- meanwhile.
-- Prepared settles (NUM .. FIN not ""; store/store_record.c settle_prep,
-- from the number record the engine read with the job) are stored as sent
-- only when the lease's number and start, the effective call id and the
-- whole record in Redis are exactly those (compare-and-set), and no opt-out
-- / DND / cancel turns a retry final; else this script does the settle
-- itself from the record in Redis (the fallback).
-- Returns 4 values per settle, in order: {1 (2 when the engine's prepared
-- record and events were stored), final (0/1), disposition (-1 when not
-- final), attempt number}, or {0, 0, -1, 0} when the token is not current
-- (a second or late settle: nothing changes).
defer_fx = true -- see lib.lua: each item is a distinct live job
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
-- Why a retry of num in c must finish instead: a disposition (DISP) or nil.
local function override(c, num)
  local b = blocked(num)
  if not b and camp(c).st == CST.CANCELED then b = DISP.CANCELED end
  return b
end
-- Reads are batched: every lease in one HMGET; then, for the prepared items
-- whose lease matches, their records in one HMGET and (retries) the no-dial
-- set in one SMISMEMBER. Items are still applied one by one, in order; a
-- record written by an earlier item of the batch is read again (dirty), and
-- a token seen twice is applied once (gone).
local toks = {}
for k = 0, count - 1 do toks[k + 1] = ARGV[5 + k * S_COUNT + S_TOKEN] end
local lv = {}
if count > 0 then lv = redis.call('HMGET', K_LEASE, unpack(toks)) end
local leases, pnums, pidx, dnums, didx = {}, {}, {}, {}, {}
for k = 0, count - 1 do
  local a = 5 + k * S_COUNT
  local l = lease_check(ARGV[a + S_CAMPAIGN], ARGV[a + S_TOKEN], lv[k + 1])
  leases[k + 1] = l or false
  if l and ARGV[a + S_XOLD] ~= '' and l.num == ARGV[a + S_NUM] then
    pnums[#pnums + 1] = l.num
    pidx[k + 1] = #pnums
    if ARGV[a + S_FINAL] ~= '1' then
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
  local a = 5 + k * S_COUNT
  -- outcome and how stay strings where they only name counters
  local c, tok = ARGV[a + S_CAMPAIGN], ARGV[a + S_TOKEN]
  local outcome, call = ARGV[a + S_OUTCOME], ARGV[a + S_CALL_ID]
  local final, disp = ARGV[a + S_FINAL] == '1', tonumber(ARGV[a + S_DISP])
  local due, how = tonumber(ARGV[a + S_DUE]), ARGV[a + S_HOW]
  local answered = ARGV[a + S_ANSWERED] == '1'
  local xold = ARGV[a + S_XOLD]
  local o = 4 * k
  local l = leases[k + 1]
  -- a token already applied earlier in this batch
  if l and gone[tok] then l = false end
  if call == '' and l then call = l.call end
  local b = nil
  local fast = l and pidx[k + 1] and not dirty[l.num] and l.start_s == ARGV[a + S_START]
    and call == ARGV[a + S_CALL]
  if fast and not final then
    if pdnd[didx[k + 1]] == 1 then b = blocked(l.num) end
    if not b and camp(c).st == CST.CANCELED then b = DISP.CANCELED end
    fast = not b
  end
  fast = fast and precs[pidx[k + 1]] == xold
  if fast then
    -- prepared by the engine from this very record
    local num, attempt = l.num, ARGV[a + S_ATTEMPT]
    lease_release(c, tok, l)
    counts(c, attempt, outcome, how, answered)
    attempt = tonumber(attempt)
    event_raw(maxlen, ARGV[a + S_EV])
    redis.call('HSET', K_N, num, ARGV[a + S_XNEW])
    dirty[num] = true
    if final then
      if disp == DISP.CONNECTED then stat(c, 'k' .. attempt, 1) end
      finished(c, num, disp, now, maxlen, ARGV[a + S_FIN])
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
      nr[NR_ATTS][#nr[NR_ATTS] + 1] = l.start
      local attempt = #h / 2
      counts(c, attempt, outcome, how, answered)
      event(maxlen, {type = 'attempt', id = pub_id(c, num, j), campaign = c, to = num,
        attempt = attempt, outcome = OUT_NAME[outcome] or '?', call_id = call,
        started_ms = l.start, ended_ms = tonumber(ARGV[a + S_ENDED]),
        answered_by = ARGV[a + S_ANSWERED_BY]})
      if not final then
        if b == nil then b = override(c, num) end
        if b then final, disp = true, b end
      end
      if final then
        if disp == DISP.CONNECTED then stat(c, 'k' .. attempt, 1) end
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
