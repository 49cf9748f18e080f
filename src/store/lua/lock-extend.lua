-- KEYS: lock. ARGV: token, ttl ms. Renews the lock only if this holder still has it.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
