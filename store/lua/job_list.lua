-- job_list.lua: jobs matching filters, for `redial-cli job list` (read only).
-- KEYS[1] = P:seq. ARGV: 1 P, 2 campaign ("" any), 3 state ("" any, pending,
-- claimed, calling, live = any not final, final), 4 number ("" any: scan
-- P:n), 5 HSCAN cursor, 6 matches wanted, 7 records to scan at most.
-- Returns {next cursor ("0" = done), {campaign, number, public id, state,
-- attempts, disposition (-1), due ms (pending; 0 otherwise), finish ms}, ...}.
local camp_f, state_f, num_f = ARGV[2], ARGV[3], ARGV[4]
local cursor, want, budget = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local cidf = false
if camp_f ~= '' then
  cidf = cid_of(camp_f)
  if not cidf then return {'0'} end
end
local out = {'0'}
local function state_of(num, cname, j)
  if j[J_ST] == 3 then return 'final', 0 end
  local sc = redis.call('ZSCORE', ck(cname) .. ':due', num)
  if sc then return 'pending', score_ms(tonumber(sc)) end
  local tok = redis.call('HGET', K_LOCK, num)
  if tok then
    local v = redis.call('HGET', K_LEASE, tok)
    local l = v and lease_parse(v)
    if l and l.cid == j[J_CID] then return l.placed and 'calling' or 'claimed', 0 end
  end
  return 'pending', 0
end
local function visit(num, v)
  local nr = cmsgpack.unpack(v)
  for i = 2, #nr do
    local j = job_norm(nr[i])
    if not cidf or j[J_CID] == cidf then
      local cname = cname_of(j[J_CID])
      if cname then
        local st, due = state_of(num, cname, j)
        if state_f == '' or state_f == st or (state_f == 'live' and st ~= 'final') then
          out[#out + 1] = {cname, num, pub_id(cname, num, j), st, #j[J_HIST] / 2, j[J_DISP],
            due, j[J_T]}
        end
      end
    end
  end
end
if num_f ~= '' then
  local v = redis.call('HGET', K_N, num_f)
  if v then visit(num_f, v) end
  return out
end
local scanned = 0
repeat
  local r = redis.call('HSCAN', K_N, cursor, 'COUNT', 100)
  cursor = r[1]
  local kv = r[2]
  for i = 1, #kv, 2 do visit(kv[i], kv[i + 1]) end
  scanned = scanned + #kv / 2
until cursor == '0' or #out - 1 >= want or scanned >= budget
out[1] = cursor
return out
