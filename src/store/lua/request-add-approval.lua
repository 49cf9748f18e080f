-- Records one distinct approver; the last approval needed moves the request to approved.
-- KEYS: request, approvals, pending, audit, unfinished
-- ARGV: id, now, approver (their personKey), auditMaxLen, [audit]
local id, now, approver, max_len = arg(), arg(), arg(), arg()
local audit = list()
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return { 'not-found' } end
if state ~= 'pending' then return { 'not-pending', state, read_request(KEYS[1], KEYS[2]) } end
if redis.call('ZSCORE', KEYS[2], approver) then return { 'duplicate', state, read_request(KEYS[1], KEYS[2]) } end
redis.call('ZADD', KEYS[2], now, approver)
local count = redis.call('ZCARD', KEYS[2])
local required = tonumber(redis.call('HGET', KEYS[1], 'approvalsRequired')) or 1
if required < 1 then required = 1 end
local outcome = 'recorded'
if count >= required then
  outcome = 'approved'
  redis.call('HSET', KEYS[1], 'state', 'approved')
  leave_pending(KEYS[1], id, KEYS[3])
  redis.call('ZADD', KEYS[5], 'NX', now, id)
end
redis.call('HSET', KEYS[1], 'updatedAt', now)
if #audit > 0 then
  set_field(audit, 'outcome', outcome)
  if not has_field(audit, 'detail') then
    set_field(audit, 'detail', count .. ' of ' .. required .. ' approvals')
  end
end
append_audit(KEYS[4], max_len, audit)
return { outcome, state, read_request(KEYS[1], KEYS[2]) }
