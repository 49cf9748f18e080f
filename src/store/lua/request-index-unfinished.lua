-- Indexes the given requests that are approved or applying (and only those), for requests that reached those
-- states before the store kept the index. Checked here, in one script, so a request settling meanwhile is never
-- indexed after it left.
-- KEYS: unfinished, request keys… ARGV: now, ids… (in the order of the request keys)
local added = 0
for i = 2, #KEYS do
  local state = redis.call('HGET', KEYS[i], 'state')
  if state == 'approved' or state == 'applying' then
    added = added + redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i])
  end
end
return added
