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
-- crash can leave an applied change unrecorded. Ending a grant records it only while this grant is the latest
-- change of that role (an Extend that took the role over wrote its own entry since).
local function json_field(name)
  local v = redis.call('HGET', KEYS[1], name)
  if not v then return nil end
  local ok, d = pcall(cjson.decode, v)
  if ok and type(d) == 'table' then return d end
  if ok and type(d) == 'string' then return d end
  return nil
end
local function text(v)
  if type(v) == 'string' then return v end
  if type(v) == 'number' then return tostring(v) end
  return ''
end
local ended = (to == 'revoked' or to == 'expired-revoked') and state == 'applied'
if KEYS[7] and (to == 'applied' or ended) then
  local principal = json_field('target')
  local ent = json_field('entitlement') or json_field('role')
  if type(principal) == 'table' and type(ent) == 'table' then
    local ref = json_field('targetRef')
    if type(ref) ~= 'table' then ref = { kind = 'qlik-roles', instance = 'default' } end
    local pid = text(principal.id); if pid == '' then pid = text(principal.qlikId) end
    local result = json_field('result'); if type(result) ~= 'table' then result = {} end
    local channel = ''
    local messages = json_field('messages')
    if type(messages) == 'table' then
      for _, m in ipairs(messages) do
        if type(m) == 'table' and m.kind == 'announcement' then channel = text(m.channel) end
      end
    end
    local function field_of(r, e)
      local res_id = ''
      if type(r.resource) == 'table' then res_id = text(r.resource.id) end
      return table.concat({ text(r.kind), text(r.instance), res_id, text(e.id), text(principal.kind) .. ':' .. pid }, '|')
    end
    local function entry(a, r, e)
      local v = { a = a, r = id, at = tonumber(now), ent = text(e.name), who = text(principal.name), ch = channel }
      if text(principal.email) ~= '' then v.email = text(principal.email) end
      if type(r.resource) == 'table' then v.res = text(r.resource.name); v.resKind = text(r.resource.kind) end
      if a == 'grant' and type(result.revokeAt) == 'number' then v['until'] = result.revokeAt end
      return cjson.encode(v)
    end
    local action = json_field('action')
    if ended then
      local f = field_of(ref, ent)
      local cur = redis.call('HGET', KEYS[7], f)
      local ok, d = pcall(cjson.decode, cur or '')
      if ok and type(d) == 'table' and d.r == id then redis.call('HSET', KEYS[7], f, entry('ended', ref, ent)) end
    elseif text(ref.kind) == 'qlik-account' then
      -- An invite: the account is not a holding; the roles granted with it are (time-bound ones are their own).
      if type(result.parts) == 'table' then
        for _, part in ipairs(result.parts) do
          if type(part) == 'table' and (part.outcome == 'granted' or part.outcome == 'already-held')
            and type(part.targetRef) == 'table' and type(part.entitlement) == 'table' then
            redis.call('HSET', KEYS[7], field_of(part.targetRef, part.entitlement), entry('grant', part.targetRef, part.entitlement))
          end
        end
      end
    elseif action == 'grant' or action == 'revoke' then
      redis.call('HSET', KEYS[7], field_of(ref, ent), entry(action, ref, ent))
    end
  end
end
append_audit(KEYS[5], max_len, audit)
return { 'ok', state, read_request(KEYS[1], KEYS[2]) }
