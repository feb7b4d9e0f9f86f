-- clock.lua — the deployment's clock settings, shared by every engine on
-- one prefix (engine/clockwatch.c; docs/reliability.md "Clock discipline").
--
-- Every engine maps wall time to policy time as policy = offset + wall *
-- scale (offset = origin - epoch * scale, proto/clock.h). Two engines with a
-- different scale, origin or epoch disagree on "now" by a constant that no
-- lease or interval can absorb, so the first engine records its mapping in
-- P:clock and every other one must match it. The record expires (ARGV[5])
-- unless a matching engine refreshes it, so a deployment that restarts
-- every engine with new settings is not refused forever.
--
-- KEYS[1] = P:seq (slot routing); ARGV[1] = P, ARGV[2] scale (as the engine
-- prints it), ARGV[3] offset (policy ms, integer), ARGV[4] tolerance (policy
-- ms), ARGV[5] ttl ms, ARGV[6] engine id.
-- Returns {1} (recorded or matching) or {0, scale, offset, engine} (the
-- recorded mapping this engine disagrees with).
local key = ARGV[1] .. ':clock'
local rec = redis.call('HMGET', key, 'scale', 'offset', 'engine')
if not rec[1] then
  redis.call('HSET', key, 'scale', ARGV[2], 'offset', ARGV[3], 'engine', ARGV[6])
  redis.call('PEXPIRE', key, ARGV[5])
  return {1}
end
if rec[1] ~= ARGV[2] or math.abs(tonumber(rec[2]) - tonumber(ARGV[3])) > tonumber(ARGV[4]) then
  return {0, rec[1], rec[2], rec[3] or ''}
end
redis.call('PEXPIRE', key, ARGV[5])
return {1}
