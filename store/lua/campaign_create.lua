-- campaign_create.lua: stores a new campaign and gives it a small integer id
-- (job records refer to campaigns by id).
-- KEYS[1] = P:seq. ARGV: 1 P, 2 name, 3 normalised JSON, 4 concurrency,
-- 5 agent pool ("" none), 6 calls per minute (0 none), 7 now ms, 8 provider
-- pin ("" = any engine; claim.lua skips it on engines of another provider).
-- Returns 1 created, 0 a campaign of that name exists.
local c = ARGV[2]
if redis.call('SISMEMBER', K_CAMPAIGNS, c) == 1 then return 0 end
local id = redis.call('INCR', P .. ':cseq')
redis.call('HSET', ck(c), 'json', ARGV[3], 'st', CST.ACTIVE, 'conc', ARGV[4], 'pool', ARGV[5],
  'cpm', ARGV[6], 'created', ARGV[7], 'live', 0, 'enq', 0, 'fin', 0, 'id', id,
  'prov', ARGV[8] or '')
redis.call('HSET', K_CID, c, id)
redis.call('HSET', K_CNAME, id, c)
redis.call('SADD', K_CAMPAIGNS, c)
return 1
