-- placed.lua: the provider accepted these calls, in a batch.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 now ms, 3 events maxlen (unused), 4 count,
-- then per call 4 values: campaign, token, provider call id, new lease
-- deadline ms (ring timeout + time limit + callback grace).
-- Each marks the lease placed with the call id, indexes call id -> attempt
-- key "<campaign>:<token>" (not when the id is "": a dial reply redial
-- could not read — the callback's attempt key or the deadline settles it),
-- and moves the lease deadline.
-- Returns one value per call: 1, or 0 when the token is not current
-- (settled, recovered or superseded: nothing changes).
-- Batched: every lease read in one HMGET, then one HSET of the leases, one
-- HSET of the call index and one ZADD of the deadlines for the whole batch
-- (a token named twice: the last item wins, as one by one).
local count = tonumber(ARGV[4])
local out = {}
if count == 0 then return out end
local toks = {}
for k = 0, count - 1 do toks[k + 1] = ARGV[5 + k * 4 + 1] end
local lv = redis.call('HMGET', K_LEASE, unpack(toks))
local leases, dls, cmap = {}, {}, {} -- cmap: call id -> attempt key, or false (delete)
local cur = {} -- token -> lease table as updated by earlier items of this batch
for k = 0, count - 1 do
  local a = 5 + k * 4
  local c, tok, cid, deadline = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local l = cur[tok] or lease_check(c, tok, lv[k + 1])
  if l and l.cid ~= cid_of(c) then l = nil end
  if not l then
    out[k + 1] = 0
  else
    if l.call ~= '' and l.call ~= cid then cmap[l.call] = false end
    l.placed, l.call = true, cid
    cur[tok] = l
    leases[#leases + 1] = tok
    leases[#leases + 1] = lease_str(l)
    if cid ~= '' then cmap[cid] = c .. ':' .. tok end
    dls[#dls + 1] = deadline
    dls[#dls + 1] = tok
    out[k + 1] = 1
  end
end
if #leases > 0 then
  local set, del = {}, {}
  for id, v in pairs(cmap) do
    if v then
      set[#set + 1] = id
      set[#set + 1] = v
    else
      del[#del + 1] = id
    end
  end
  if #del > 0 then redis.call('HDEL', K_CALL, unpack(del)) end
  redis.call('HSET', K_LEASE, unpack(leases))
  if #set > 0 then redis.call('HSET', K_CALL, unpack(set)) end
  redis.call('ZADD', K_LEASES, unpack(dls))
end
return out
