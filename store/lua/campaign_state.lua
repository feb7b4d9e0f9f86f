-- campaign_state.lua: pause, resume or cancel a campaign.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 name, 3 state (0 active, 1 paused,
-- 2 canceled), 4 now ms, 5 batch, 6 events maxlen, 7 pause reason ("" =
-- an operator's change: any reason is cleared).
-- With a reason (the engine pausing a campaign its provider refuses, state
-- 1) only an active campaign changes: an operator's pause or a cancel is
-- never overwritten; the reason stays in field 'pr' until a state change.
-- Cancel finishes up to `batch` pending jobs per call as `canceled` (final
-- events); live calls are finished `canceled` when they settle or release.
-- Returns {status, remaining}: status 1 ok, -1 no such campaign, -2 a
-- canceled campaign cannot be resumed or paused; remaining = pending jobs
-- still to cancel (call again while > 0).
local c, st, now, batch, maxlen = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local reason = ARGV[7] or ''
local cur = camp(c).st
if not cur then return {-1, 0} end
if reason ~= '' then
  if cur ~= '0' or st ~= '1' then return {1, 0} end
  redis.call('HSET', ck(c), 'pr', reason)
else
  redis.call('HDEL', ck(c), 'pr')
end
if cur == '2' and st ~= '2' then return {-2, 0} end
redis.call('HSET', ck(c), 'st', st)
if st == '0' then
  ready_update(c)
  return {1, 0}
end
redis.call('ZREM', K_READY, c)
if st ~= '2' then return {1, 0} end
local dk = ck(c) .. ':due'
local cid = cid_of(c)
local nums = redis.call('ZRANGE', dk, 0, batch - 1)
for _, num in ipairs(nums) do
  local nr = nrec_get(num)
  local j = job_live(nr, cid)
  if j and j[J_ST] == 0 then
    finish(c, num, j, 6, now, maxlen)
    nrec_put(num, nr, now)
  else
    redis.call('ZREM', dk, num)
  end
end
touched[c] = nil
flush()
return {1, redis.call('ZCARD', dk)}
