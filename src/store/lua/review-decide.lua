-- Records one holder's decision in an access review, once: the first decision (or revoke claim) wins, whoever
-- clicks second is told what the first was. A revoke is claimed first (`claim`, while its request is filed), then
-- either finalized with its request id (`finalize`, only by the claim it replaces: the request was filed, so it is
-- recorded even if the review closed meanwhile) or released (`release`) when nothing was filed. A claim older than
-- the stale age (the bot stopped while filing) may be taken over.
-- KEYS: review, decisions, audit
-- ARGV: mode (keep|claim|finalize|release), index, decision JSON, claim JSON (finalize/release), now, stale ms,
--       auditMaxLen, audit fields…
local mode, index, decision, claim = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, stale, max_len = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local audit = {}
for i = 8, #ARGV do audit[#audit + 1] = ARGV[i] end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return { 'not-found' } end
local existing = redis.call('HGET', KEYS[2], index)
if mode == 'finalize' or mode == 'release' then
  if existing ~= claim then return { 'lost', existing or '' } end
  if mode == 'release' then
    redis.call('HDEL', KEYS[2], index)
    return { 'ok' }
  end
  redis.call('HSET', KEYS[2], index, decision)
  append_audit(KEYS[3], max_len, audit)
  return { 'ok' }
end
if state ~= 'open' then return { 'closed' } end
if existing then
  local d = cjson.decode(existing)
  local taken_over = d.filing == true and tonumber(d.at) ~= nil and now - tonumber(d.at) > stale
  if not taken_over then return { 'decided', existing } end
end
redis.call('HSET', KEYS[2], index, decision)
append_audit(KEYS[3], max_len, audit)
return { 'ok' }
