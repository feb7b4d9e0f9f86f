-- campaign_state.lua: pause, resume or cancel a campaign.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 name, 3 state (CST: rd_camp_state_t),
-- 4 now ms, 5 batch, 6 events maxlen, 7 pause reason ("" = an operator's
-- change: any reason is cleared).
-- With a reason (the engine pausing a campaign its provider refuses, state
-- PAUSED) only an active campaign changes: an operator's pause or a cancel
-- is never overwritten; the reason stays in field 'pr' until a state change.
-- Cancel finishes up to `batch` pending jobs per call as `canceled` (final
-- events); live calls are finished `canceled` when they settle or release.
-- Returns {status, remaining}: status 1 ok, -1 no such campaign, -2 a
-- canceled campaign cannot be resumed or paused; remaining = pending jobs
-- still to cancel (call again while > 0).
local c, st, now, batch, maxlen = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local reason = ARGV[7] or ''
local cur = camp(c).st
if not cur then return {-1, 0} end
if reason ~= '' then
  if cur ~= CST.ACTIVE or st ~= CST.PAUSED then return {1, 0} end
  redis.call('HSET', ck(c), 'pr', reason)
else
  redis.call('HDEL', ck(c), 'pr')
end
if cur == CST.CANCELED and st ~= CST.CANCELED then return {-2, 0} end
redis.call('HSET', ck(c), 'st', st)
if st == CST.ACTIVE then
  ready_update(c)
  return {1, 0}
end
redis.call('ZREM', K_READY, c)
if st ~= CST.CANCELED then return {1, 0} end
local dk = ck(c) .. ':due'
local cid = cid_of(c)
local nums = redis.call('ZRANGE', dk, 0, batch - 1)
for _, num in ipairs(nums) do
  local nr = nrec_get(num)
  local j = job_live(nr, cid)
  if j and j[J_ST] == JST.PENDING then
    finish(c, num, j, DISP.CANCELED, now, maxlen)
    nrec_put(num, nr, now)
  else
    redis.call('ZREM', dk, num)
  end
end
touched[c] = nil
flush()
return {1, redis.call('ZCARD', dk)}
