-- optout.lua: a number opts out, for good.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 number, 3 now ms, 4 events maxlen.
-- Adds it to P:optout and finishes its pending job in every campaign as
-- `opted-out` (final events); a live call of it is finished `opted-out` when
-- it settles. Cost: one HGET per campaign. Returns the number of jobs finished.
local num, now, maxlen = ARGV[2], tonumber(ARGV[3]), ARGV[4]
redis.call('SADD', K_OPTOUT, num)
local n = 0
for _, c in ipairs(redis.call('SMEMBERS', K_CAMPAIGNS)) do
  local r = rec_get(c, num)
  if r and r[1] == 0 then
    finish(c, num, r, 5, now, maxlen)
    ready_update(c)
    n = n + 1
  end
end
return n
