-- settle.lua: applies one attempt's outcome, once (fenced by the token).
-- KEYS[1] = P:seq. ARGV: 1 P, 2 campaign, 3 token, 4 outcome (proto/outcome.h),
-- 5 provider call id ("" = as recorded), 6 ended ms, 7 now ms, 8 final (0/1),
-- 9 disposition (when final), 10 next due ms (when not final), 11 local
-- hour of week of the attempt (-1 = not counted), 12 answered (0/1),
-- 13 events maxlen.
-- Releases slots, lock and lease; appends {start, outcome} to the history;
-- counts stats; XADDs the `attempt` event; then finishes (disposition,
-- `final` event) or reschedules at the due time. A retry becomes final
-- `opted-out` / `dnd` / `canceled` when the number opted out / is DND / the
-- campaign was canceled meanwhile.
-- Returns {1, final (0/1), disposition (-1 when not final), attempt number},
-- or {0} when the token is not current (second or late settle: no change).
local c, tok, outcome, cid = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local ended, now, final, disp, due = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1',
  tonumber(ARGV[9]), tonumber(ARGV[10])
local how, answered, maxlen = tonumber(ARGV[11]), ARGV[12] == '1', ARGV[13]
local num, r = lease_find(c, tok)
if not num then return {0} end
if cid == '' then cid = r[11] end
local pool = lease_release(c, num, r, tonumber(tok), now, false)
local start = r[5]
local h = r[6]
h[#h + 1] = start
h[#h + 1] = outcome
local attempt = #h / 2
local stk = ck(c) .. ':st'
redis.call('HINCRBY', stk, 'a' .. attempt .. ':' .. outcome, 1)
if how >= 0 then
  redis.call('HINCRBY', stk, 'ha' .. how, 1)
  redis.call('HINCRBY', P .. ':st', 'ha' .. how, 1)
  if answered then
    redis.call('HINCRBY', stk, 'hk' .. how, 1)
    redis.call('HINCRBY', P .. ':st', 'hk' .. how, 1)
  end
end
event(maxlen, {type = 'attempt', id = pub_id(c, num, r), campaign = c, to = num,
  attempt = attempt, outcome = OUTCOME[outcome] or '?', call_id = cid, started_ms = start,
  ended_ms = ended})
if not final then
  if redis.call('SISMEMBER', K_OPTOUT, num) == 1 then
    final, disp = true, 5
  elseif redis.call('SISMEMBER', K_DND, num) == 1 then
    final, disp = true, 4
  elseif redis.call('HGET', ck(c), 'st') == '2' then
    final, disp = true, 6
  end
end
if final then
  if disp == 0 then redis.call('HINCRBY', stk, 'k' .. attempt, 1) end
  r[1] = 2 -- not in the due set
  finish(c, num, r, disp, now, maxlen)
else
  local seq = seq_next()
  r[1], r[4], r[5], r[11], r[12] = 0, 0, due, '', 0
  rec_put(c, num, r)
  redis.call('ZADD', ck(c) .. ':due', score(due, seq), num)
  disp = -1
end
ready_update(c)
pool_unpark(pool)
if final then return {1, 1, disp, attempt} end
return {1, 0, -1, attempt}
