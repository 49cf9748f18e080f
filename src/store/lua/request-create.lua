-- Files a request unless a pending one has the same dedupe key; picks the first free candidate id.
-- KEYS: dedupe, pending, by-requester, audit, legacy dedupe (= dedupe when none), candidate request keys…
-- ARGV: requestPrefix, approvalsSuffix, createdAt, expiresAt, auditMaxLen, [ids], [field json…], [audit fields]
-- A pending request filed by a version before targets is indexed under the legacy key only: both are checked, the
-- new request is indexed under the new one.
local request_prefix, approvals_suffix = arg(), arg()
local created_at, expires_at, max_len = arg(), arg(), arg()
local ids, fields, audit = list(), list(), list()
for _, dk in ipairs({ KEYS[1], KEYS[5] }) do
  local existing = redis.call('GET', dk)
  if existing then
    local rk = request_prefix .. existing
    if redis.call('HGET', rk, 'state') == 'pending' then
      return { 'duplicate', existing, read_request(rk, rk .. approvals_suffix) }
    end
  end
end
local chosen = nil
for i = 1, #ids do
  if redis.call('EXISTS', KEYS[5 + i]) == 0 then chosen = i; break end
end
if not chosen then return { 'collision' } end
local id, rk = ids[chosen], KEYS[5 + chosen]
redis.call('HSET', rk, 'id', '"' .. id .. '"', 'state', 'pending', '_dedupe', KEYS[1], '_byRequester', KEYS[3], unpack(fields))
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[2], expires_at, id)
redis.call('ZADD', KEYS[3], created_at, id)
if #audit > 0 then set_field(audit, 'requestId', id) end
append_audit(KEYS[4], max_len, audit)
return { 'created', id, read_request(rk, rk .. approvals_suffix) }
