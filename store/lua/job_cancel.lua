-- job_cancel.lua: finishes one pending job as `canceled` (final event).
-- KEYS[1] = P:seq. ARGV: 1 P, 2 campaign, 3 number, 4 now ms, 5 events maxlen.
-- Returns 1 canceled, 0 no live job (already final), 2 the job has a live
-- call (it is not touched: the call ends and settles as usual), -1 no such
-- campaign.
local c, num, now, maxlen = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local cid = cid_of(c)
if not cid then return -1 end
local nr = nrec_get(num)
local j = job_live(nr, cid)
if not j then return 0 end
if not redis.call('ZSCORE', ck(c) .. ':due', num) then return 2 end
finish(c, num, j, 6, now, maxlen)
nrec_put(num, nr, now)
flush()
return 1
