-- pool_set.lua: sets an agent pool's capacity.
-- KEYS[1] = P:seq. ARGV: 1 P, 2 pool, 3 capacity.
-- Campaigns parked on the pool get another look. Returns 1.
redis.call('HSET', P .. ':pool:' .. ARGV[2], 'cap', ARGV[3])
redis.call('HSETNX', P .. ':pool:' .. ARGV[2], 'live', 0)
pool_unpark(ARGV[2])
return 1
