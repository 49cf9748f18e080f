-- Appends one message to a request's list of messages (the `messages` field, a JSON array), unless the list holds
-- that message already (same channel and ts: a retried step records it again). One script, so two steps recording
-- at once both land; the array is extended as text, never re-encoded, so what was stored stays byte for byte.
-- Never recreates a request that is gone.
-- KEYS: request. ARGV: message json, its channel, its ts.
-- Returns 0 when the request is gone, 1 when appended, 2 when it was there already.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[1], 'messages')
if not current then
  redis.call('HSET', KEYS[1], 'messages', '[' .. ARGV[1] .. ']')
  return 1
end
local list = cjson.decode(current)
for _, m in ipairs(list) do
  if m.channel == ARGV[2] and m.ts == ARGV[3] then return 2 end
end
if #list == 0 then
  redis.call('HSET', KEYS[1], 'messages', '[' .. ARGV[1] .. ']')
else
  redis.call('HSET', KEYS[1], 'messages', string.sub(current, 1, -2) .. ',' .. ARGV[1] .. ']')
end
return 1
