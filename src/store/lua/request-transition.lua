-- Moves a request from one of the allowed states to another, with its field changes, indexes and audit event.
-- KEYS: request, approvals, pending, timebound, audit, unfinished, managed
-- ARGV: id, now, to, terminal(1/0), retentionMs, auditMaxLen, [from…], [set field/json…], [del field…], [audit]
local id, now, to, terminal, retention, max_len = arg(), arg(), arg(), arg(), arg(), arg()
local from, sets, dels, audit = list(), list(), list(), list()
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return { 'not-found' } end
local allowed = false
for i = 1, #from do if from[i] == state then allowed = true end end
if not allowed then return { 'wrong-state', state, read_request(KEYS[1], KEYS[2]) } end
if #sets > 0 then redis.call('HSET', KEYS[1], unpack(sets)) end
if #dels > 0 then redis.call('HDEL', KEYS[1], unpack(dels)) end
redis.call('HSET', KEYS[1], 'state', to, 'updatedAt', now)
if state == 'pending' and to ~= 'pending' then leave_pending(KEYS[1], id, KEYS[3]) end
-- Approved and applying requests are indexed until they settle, scored by when they were approved (NX keeps it).
if to == 'approved' or to == 'applying' then
  redis.call('ZADD', KEYS[6], 'NX', now, id)
else
  redis.call('ZREM', KEYS[6], id)
end
local revoke_at = redis.call('HGET', KEYS[1], '_revokeAt')
if to == 'applied' and revoke_at and revoke_at ~= '' then
  redis.call('ZADD', KEYS[4], revoke_at, id)
else
  redis.call('ZREM', KEYS[4], id)
end
-- Finished requests age out; an applied time-bound grant stays until its revoke is recorded.
if terminal == '1' or (to == 'applied' and not (revoke_at and revoke_at ~= '')) then
  redis.call('PEXPIRE', KEYS[1], retention); redis.call('PEXPIRE', KEYS[2], retention)
else
  redis.call('PERSIST', KEYS[1]); redis.call('PERSIST', KEYS[2])
end
-- What the bot made the principal hold (KEYS[7], see StoreKeys.managed): recorded with the change itself, so no
-- crash can leave an applied change unrecorded.
local ended = (to == 'revoked' or to == 'expired-revoked') and state == 'applied'
if KEYS[7] and (to == 'applied' or ended) then record_managed(KEYS[1], KEYS[7], id, now, ended, false) end
append_audit(KEYS[5], max_len, audit)
return { 'ok', state, read_request(KEYS[1], KEYS[2]) }
