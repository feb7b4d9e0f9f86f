-- job_retry.lua: makes one pending job due now (`redial-cli job retry-now`).
-- KEYS[1] = P:seq. ARGV: 1 P, 2 campaign, 3 number, 4 now ms.
-- The calling window and the per-number caps still apply: the engine checks
-- them after the claim, as for any due job. Returns 1 done (also when it was
-- already due), 0 no live job, 2 the job has a live call, -1 no such campaign.
local c, num, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local cid = cid_of(c)
if not cid then return -1 end
local dk = ck(c) .. ':due'
local sc = redis.call('ZSCORE', dk, num)
if not sc then
  local j = job_live(nrec_get(num), cid)
  if j then return 2 end
  return 0
end
sc = tonumber(sc)
if score_ms(sc) > now then
  redis.call('ZADD', dk, score(now, sc % 4096), num)
  touched[c] = true
  flush()
end
return 1
