-- KEYS[1]: the tier's bucket, a hash {tokens, ts, until, epoch}.
-- ARGV: op ('take' | 'block'), capacity, tokens per ms, block ms.
-- Returns {wait ms (0 = go now), epoch, ms the tier stays blocked}.
-- `take` always takes a token, letting the count go negative: a negative count is a queue of reservations, each
-- due 1/rate after the one before. `ts` lies in the future while the tier is blocked; the block restarts the
-- bucket at its end with one token (like the in-process limiter) and bumps `epoch`, which voids reservations
-- made before it: their holders check the epoch when they wake and queue again behind the block.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local cap = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'until', 'epoch')
local tokens = tonumber(s[1])
local ts = tonumber(s[2])
local blocked = tonumber(s[3]) or 0
local epoch = tonumber(s[4]) or 0
if tokens == nil or ts == nil then
  tokens = cap
  ts = now
end
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * rate)
  ts = now
end
local wait = 0
if ARGV[1] == 'block' then
  local untilMs = now + tonumber(ARGV[4])
  if untilMs > blocked then
    blocked = untilMs
    tokens = 1
    ts = untilMs
    epoch = epoch + 1
  end
else
  tokens = tokens - 1
  if tokens < -1e-9 or ts > now then
    wait = (ts - now) + math.max(0, -tokens) / rate
  end
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.3f', ts),
  'until', string.format('%.3f', blocked), 'epoch', string.format('%d', epoch))
local full = ts + (cap - tokens) / rate
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(full, blocked) - now) + 60000)
return {math.ceil(wait), epoch, math.ceil(math.max(0, blocked - now))}
