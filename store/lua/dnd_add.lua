-- dnd_add.lua: adds numbers to the DND set (and to P:nodial, the union of
-- DND and opt-outs that the claim checks first).
-- KEYS[1] = P:seq. ARGV: 1 P, 2.. numbers.
-- Returns how many were not on the DND set before.
local n = 0
for i = 2, #ARGV, 500 do
  local part = {}
  for k = i, math.min(#ARGV, i + 499) do part[#part + 1] = ARGV[k] end
  n = n + redis.call('SADD', K_DND, unpack(part))
  redis.call('SADD', K_NODIAL, unpack(part))
end
return n
