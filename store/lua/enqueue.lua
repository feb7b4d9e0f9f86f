-- enqueue.lua: creates jobs atomically (dedupe, DND/opt-out, due set), in a
-- batch.
-- KEYS[1] = P:seq (slot routing). ARGV: 1 P, 2 now ms, 3 events maxlen,
-- 4 count, then per job 7 values: campaign, number (E.164, validated by the
-- caller), producer id ("" = generate), vars (msgpack map or ""), tz (""
-- none), not_before ms (0 none), due ms (from the policy).
-- Returns 2 values per job, in order: code, id. code (ENQ, rd_enq_result_t):
-- CREATED, DUPLICATE (no-op: the id was seen, or no id and the number has a
-- live job in the campaign), FINAL_DND, FINAL_OPTOUT (a final event is
-- written), NO_CAMPAIGN, CANCELED (campaign canceled), CONFLICT (the number
-- has a live job in the campaign under another id). id = the job's public
-- id ("" for NO_CAMPAIGN, CANCELED).
local now, maxlen, count = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local out = {}
local function one(c, num, id, vars, tz, nb, due)
  local st = camp(c).st
  if not st then return ENQ.NO_CAMPAIGN, '' end
  if st == CST.CANCELED then return ENQ.CANCELED, '' end
  if id ~= '' and redis.call('HEXISTS', id_key(id), id) == 1 then return ENQ.DUPLICATE, id end
  local cid = cid_of(c)
  local nr = nrec_get(num)
  local live = job_live(nr, cid)
  if live then
    if id == '' or live[J_ID] == id then return ENQ.DUPLICATE, pub_id(c, num, live) end
    return ENQ.CONFLICT, pub_id(c, num, live)
  end
  local seq = redis.call('INCR', K_SEQ)
  -- seq names a generated id; a producer id needs none (0 packs in 1 byte)
  local jseq = seq
  if id ~= '' then jseq = 0 end
  local j = job_norm({[J_CID] = cid, [J_ST] = JST.PENDING, [J_SEQ] = jseq, [J_ID] = id,
    [J_TZ] = tz, [J_VARS] = vars, [J_NB] = nb})
  nr[#nr + 1] = j
  local pub = pub_id(c, num, j)
  if id ~= '' then redis.call('HSET', id_key(id), id, num) end
  redis.call('HINCRBY', ck(c), 'enq', 1)
  local code = ENQ.CREATED
  local b = blocked(num)
  if b then
    finish(c, num, j, b, now, maxlen)
    if b == DISP.OPTED_OUT then code = ENQ.FINAL_OPTOUT else code = ENQ.FINAL_DND end
  else
    local sc = score(due, seq)
    redis.call('ZADD', ck(c) .. ':due', sc, num)
    if not touched[c] then
      local cur = redis.call('ZSCORE', K_READY, c)
      if not cur or tonumber(cur) > sc then touched[c] = true end
    end
  end
  nrec_put(num, nr, now)
  return code, pub
end
for k = 0, count - 1 do
  local a = 5 + k * 7
  local code, pub = one(ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4],
    tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6]))
  out[2 * k + 1] = code
  out[2 * k + 2] = pub
end
flush()
return out
