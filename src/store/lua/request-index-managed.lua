-- Records what the given requests made their principals hold, for requests applied (or ended) before the store
-- kept the record; an entry a later change wrote is never overwritten.
-- KEYS: managed, request keys… ARGV: ids… (in the order of the request keys)
local recorded = 0
for i = 2, #KEYS do
  local state = redis.call('HGET', KEYS[i], 'state')
  local at = redis.call('HGET', KEYS[i], 'updatedAt')
  if at and (state == 'applied' or state == 'revoked' or state == 'expired-revoked') then
    record_managed(KEYS[i], KEYS[1], ARGV[i - 1], at, state ~= 'applied', true)
    recorded = recorded + 1
  end
end
return recorded
