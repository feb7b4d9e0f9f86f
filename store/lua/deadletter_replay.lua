-- deadletter_replay.lua: moves one dead letter back to the inbox.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 dead-letter entry id.
-- The entry's original fields (all but `reason` and `entry`, which the
-- ingest added) are XADDed to P:inbox as a new entry, and the dead letter is
-- deleted, atomically. The caller has re-validated the message first.
-- Returns the new inbox entry id, or false when there is no such entry.
local K_DEAD, K_INBOX = P .. ':deadletter', P .. ':inbox'
local e = redis.call('XRANGE', K_DEAD, ARGV[2], ARGV[2])
if #e == 0 then return false end
local f, keep = e[1][2], {}
for i = 1, #f, 2 do
  if f[i] ~= 'reason' and f[i] ~= 'entry' then
    keep[#keep + 1] = f[i]
    keep[#keep + 1] = f[i + 1]
  end
end
if #keep == 0 then return false end
local id = redis.call('XADD', K_INBOX, '*', unpack(keep))
redis.call('XDEL', K_DEAD, ARGV[2])
return id
