-- release.lua: hands back a claim that never reached the customer (not an
-- attempt): transient provider failure, dial-time window/cap check, shutdown.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 campaign, 3 token, 4 due ms, 5 now ms,
-- 6 events maxlen.
-- Releases campaign/pool slots and the number lock, removes the attempt
-- start reserved at claim, and puts the job back in the due set at due ms
-- (finished instead when the number opted out / is DND or the campaign was
-- canceled meanwhile). Returns 1, or 0 when the token is not current.
local c, tok, due, now, maxlen = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local num, r = lease_find(c, tok)
if not num then return 0 end
local pool = lease_release(c, num, r, tonumber(tok), now, true)
requeue(c, num, r, due, now, maxlen)
ready_update(c)
pool_unpark(pool)
return 1
