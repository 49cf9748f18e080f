-- Shared by the request scripts (prepended to each when it is loaded). Arguments are read with a cursor because
-- lists of variable length follow each other.
local argi = 0
local function arg() argi = argi + 1; return ARGV[argi] end
local function list()
  local n = tonumber(arg()); local t = {}
  for i = 1, n do t[i] = arg() end
  return t
end
local function read_request(rk, ak)
  return { redis.call('HGETALL', rk), redis.call('ZRANGE', ak, 0, -1, 'WITHSCORES') }
end
local function set_field(fields, name, value)
  for i = 1, #fields, 2 do
    if fields[i] == name then fields[i + 1] = value; return end
  end
  fields[#fields + 1] = name; fields[#fields + 1] = value
end
local function has_field(fields, name)
  for i = 1, #fields, 2 do if fields[i] == name then return true end end
  return false
end
local function leave_pending(rk, id, pending)
  redis.call('ZREM', pending, id)
  local dk = redis.call('HGET', rk, '_dedupe')
  if dk and redis.call('GET', dk) == id then redis.call('DEL', dk) end
  local bk = redis.call('HGET', rk, '_byRequester')
  if bk then redis.call('ZREM', bk, id) end
end
