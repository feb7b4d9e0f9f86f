-- optout.lua: a number opts out, for good.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 number, 3 now ms, 4 events maxlen.
-- Adds it to P:optout and finishes its pending jobs (every campaign: they
-- are all in the number's record) as `opted-out` with final events; a live
-- call of it is finished `opted-out` when it settles or is released.
-- Returns the number of jobs finished.
local num, now, maxlen = ARGV[2], tonumber(ARGV[3]), ARGV[4]
redis.call('SADD', K_OPTOUT, num)
redis.call('SADD', K_NODIAL, num)
local nr = nrec_get(num)
local n = 0
-- The job of the live call (if any) is left to its settle or release.
local live_cid = -1
local lt = redis.call('HGET', K_LOCK, num)
if lt then
  local v = redis.call('HGET', K_LEASE, lt)
  local l = v and lease_parse(v)
  if l then live_cid = l.cid end
end
for i = NR_JOB1, #nr do
  local j = nr[i]
  if j[J_ST] == JST.PENDING and j[J_CID] ~= live_cid then
    finish(cname_of(j[J_CID]), num, j, DISP.OPTED_OUT, now, maxlen)
    n = n + 1
  end
end
if n > 0 then nrec_put(num, nr, now) end
flush()
return n
