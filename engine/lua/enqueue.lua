-- enqueue.lua: creates one job atomically (dedupe, DND/opt-out, due set).
-- KEYS[1] = P:seq (slot routing). ARGV: 1 P, 2 campaign, 3 number (E.164,
-- validated by the caller), 4 producer id ("" = generate), 5 vars (msgpack
-- map or ""), 6 tz ("" none), 7 not_before ms (0 none), 8 due ms (from the
-- policy), 9 now ms, 10 events maxlen.
-- Returns {code, id}: 0 created, 1 duplicate (no-op), 2 final dnd, 3 final
-- opted-out, 4 no such campaign, 5 campaign canceled, 6 conflict (the number
-- has a live job in the campaign under another id). id = the job's public id
-- ("" for 4 and 5).
local c, num, id, vars, tz = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local nb, due, now, maxlen = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local st = redis.call('HGET', ck(c), 'st')
if not st then return {4, ''} end
if st == '2' then return {5, ''} end
if id ~= '' and redis.call('HEXISTS', K_ID, id) == 1 then return {1, id} end
local r = rec_get(c, num)
if r and r[1] ~= 3 then
  if id == '' or r[3] == id then return {1, pub_id(c, num, r)} end
  return {6, pub_id(c, num, r)}
end
local seq = seq_next()
r = {0, seq, id, 0, due, {}, tz, nb, vars, -1, '', 0}
local pub = pub_id(c, num, r)
if id ~= '' then redis.call('HSET', K_ID, id, c .. '/' .. num .. '/' .. seq) end
redis.call('HINCRBY', ck(c), 'enq', 1)
redis.call('ZREM', ck(c) .. ':done', num)
if redis.call('SISMEMBER', K_OPTOUT, num) == 1 then
  r[1] = 1 -- not in the due set
  finish(c, num, r, 5, now, maxlen)
  return {3, pub}
end
if redis.call('SISMEMBER', K_DND, num) == 1 then
  r[1] = 1
  finish(c, num, r, 4, now, maxlen)
  return {2, pub}
end
rec_put(c, num, r)
local sc = score(due, seq)
redis.call('ZADD', ck(c) .. ':due', sc, num)
local cur = redis.call('ZSCORE', K_READY, c)
if not cur or tonumber(cur) > sc then ready_update(c) end
return {0, pub}
