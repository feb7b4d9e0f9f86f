-- release.lua: hands back claims that never reached the customer (not
-- attempts): transient provider failure, dial-time window/cap check,
-- shutdown. In a batch.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 events maxlen, 4 count, then per
-- claim 3 values: campaign, token, due ms.
-- Each releases the campaign/pool slots, the number's lock and the lease,
-- and puts the job back in the due set at due ms (finished instead when the
-- number opted out / is DND or the campaign was canceled meanwhile).
-- Returns one value per claim: 1, or 0 when the token is not current.
local now, maxlen, count = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local out = {}
for k = 0, count - 1 do
  local a = 5 + k * 3
  local c, tok, due = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local l = lease_find(c, tok)
  if not l then
    out[k + 1] = 0
  else
    lease_release(c, tok, l)
    requeue(c, l.num, l.cid, due, now, maxlen, tonumber(tok))
    out[k + 1] = 1
  end
end
flush()
return out
