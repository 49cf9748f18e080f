-- Stores a new access review under the first free candidate id, with its opening's audit event (whose requestId
-- becomes the id chosen).
-- KEYS: audit, candidate review keys…   ARGV: auditMaxLen, doc (JSON), candidate ids… (one per key), audit fields…
local max_len, doc = ARGV[1], ARGV[2]
local n = #KEYS - 1
local audit = {}
for i = 3 + n, #ARGV do audit[#audit + 1] = ARGV[i] end
for i = 1, n do
  if redis.call('EXISTS', KEYS[1 + i]) == 0 then
    local id = ARGV[2 + i]
    redis.call('HSET', KEYS[1 + i], 'state', 'open', 'doc', doc)
    for j = 1, #audit - 1, 2 do
      if audit[j] == 'requestId' then audit[j + 1] = id end
    end
    append_audit(KEYS[1], max_len, audit)
    return { 'created', id }
  end
end
return { 'collision' }
