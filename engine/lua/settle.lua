-- settle.lua: applies attempt outcomes, each once (fenced by its token), in
-- a batch.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 events maxlen, 4 count, then per
-- settle 10 values: campaign, token, outcome (proto/outcome.h), provider call
-- id ("" = as recorded), ended ms, final (0/1), disposition (when final),
-- next due ms (when not final), local hour of week of the attempt (-1 = not
-- counted), answered (0/1).
-- Each: releases slots, lock and lease; appends {start, outcome} to the
-- job's history; counts stats; XADDs the `attempt` event; then finishes
-- (disposition, `final` event) or reschedules at the due time. A retry
-- becomes final `opted-out` / `dnd` / `canceled` when the number opted out /
-- is DND / the campaign was canceled meanwhile.
-- Returns 4 values per settle, in order: {1, final (0/1), disposition (-1
-- when not final), attempt number}, or {0, 0, -1, 0} when the token is not
-- current (a second or late settle: nothing changes).
local now, maxlen, count = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local now_s = secs(now)
local out = {}
local seq = redis.call('INCRBY', K_SEQ, count) - count
for k = 0, count - 1 do
  local a = 5 + k * 10
  local c, tok, outcome, cid = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]
  local ended, final, disp, due = tonumber(ARGV[a + 4]), ARGV[a + 5] == '1',
    tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7])
  local how, answered = tonumber(ARGV[a + 8]), ARGV[a + 9] == '1'
  local num, nr, j = lease_find(c, tok)
  local o = #out
  if not num then
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 0, 0, -1, 0
  else
    if cid == '' then cid = j[J_CALL] end
    lease_release(c, nr, j, false)
    local start = j[J_T]
    local h = j[J_HIST]
    h[#h + 1] = start
    h[#h + 1] = outcome
    local attempt = #h / 2
    stat(c, 'a' .. attempt .. ':' .. outcome, 1)
    if how >= 0 then
      stat(c, 'ha' .. how, 1)
      incr(agg_gst, 'ha' .. how, 1)
      if answered then
        stat(c, 'hk' .. how, 1)
        incr(agg_gst, 'hk' .. how, 1)
      end
    end
    event(maxlen, {type = 'attempt', id = pub_id(c, num, j), campaign = c, to = num,
      attempt = attempt, outcome = OUTCOME[outcome] or '?', call_id = cid,
      started_ms = start, ended_ms = ended})
    if final then
      if disp == 0 then stat(c, 'k' .. attempt, 1) end
      j[J_ST] = 2 -- not in the due set
      finish(c, num, j, disp, now, maxlen)
    else
      seq = seq + 1
      requeue(c, num, j, due, now, maxlen, seq)
      if j[J_ST] == 3 then
        final, disp = true, j[J_DISP]
      end
    end
    nrec_put(num, nr, now_s)
    if final then
      out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, 1, disp, attempt
    else
      out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, 0, -1, attempt
    end
  end
end
flush()
return out
