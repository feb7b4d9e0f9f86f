-- nodial_remove.lua: takes numbers off the DND set or the opt-out set, and
-- off P:nodial (the union the claim checks) unless still on the other one.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 "dnd" or "optout", 3.. numbers.
-- Jobs already finished as dnd / opted-out stay finished.
-- Returns how many numbers were on the set.
local key, other = K_DND, K_OPTOUT
if ARGV[2] == 'optout' then key, other = K_OPTOUT, K_DND end
local n = 0
for i = 3, #ARGV do
  local num = ARGV[i]
  if redis.call('SREM', key, num) == 1 then
    n = n + 1
    if redis.call('SISMEMBER', other, num) == 0 then redis.call('SREM', K_NODIAL, num) end
  end
end
return n
