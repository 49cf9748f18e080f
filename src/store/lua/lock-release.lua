-- KEYS: lock. ARGV: token, release channel, principal key. Deletes the lock only if this holder still has it,
-- and wakes the waiters.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
