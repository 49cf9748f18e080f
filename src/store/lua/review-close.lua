-- Closes an open access review once (every holder decided, or an approver's Close), with its audit event, whose
-- detail counts the decisions as they are at this moment; a closed review is kept for the retention period.
-- KEYS: review, decisions, audit
-- ARGV: closedBy ('' when it closed by itself), closedAt, holders total, retention seconds, auditMaxLen, audit fields…
local closed_by, closed_at, total, retention, max_len = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local audit = {}
for i = 6, #ARGV do audit[#audit + 1] = ARGV[i] end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return { 'not-found' } end
if state ~= 'open' then return { 'closed-already' } end
redis.call('HSET', KEYS[1], 'state', 'closed', 'closedAt', closed_at)
if closed_by ~= '' then redis.call('HSET', KEYS[1], 'closedBy', closed_by) end
local kept, revoked = 0, 0
local all = redis.call('HGETALL', KEYS[2])
for i = 2, #all, 2 do
  local d = cjson.decode(all[i])
  if d.filing ~= true then
    if d.choice == 'keep' then kept = kept + 1 else revoked = revoked + 1 end
  end
end
local detail = 'kept ' .. kept .. ', revoke requested ' .. revoked .. ', undecided ' .. (total - kept - revoked) .. ' of ' .. total
audit[#audit + 1] = 'detail'
audit[#audit + 1] = detail
append_audit(KEYS[3], max_len, audit)
redis.call('EXPIRE', KEYS[1], retention)
redis.call('EXPIRE', KEYS[2], retention)
return { 'ok', detail }
