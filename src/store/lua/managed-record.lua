-- Shared by the transition and the backfill scripts: records what the bot made a principal hold when a request is
-- applied, or when a grant it made ends (see StoreKeys.managed for the field and value). Ending a grant is recorded
-- only while that grant is the latest change of the role (an Extend that took the role over wrote its own entry),
-- and an end that left the role in place removes the entry.
-- `only_newer` (the backfill): an entry is written only over an older one, and an end also where there is none.
local function json_field(rk, name)
  local v = redis.call('HGET', rk, name)
  if not v then return nil end
  local ok, d = pcall(cjson.decode, v)
  if ok and (type(d) == 'table' or type(d) == 'string') then return d end
  return nil
end
local function text(v)
  if type(v) == 'string' then return v end
  if type(v) == 'number' then return tostring(v) end
  return ''
end
local function current_entry(mk, f)
  local cur = redis.call('HGET', mk, f)
  if not cur then return nil end
  local ok, d = pcall(cjson.decode, cur)
  if ok and type(d) == 'table' then return d end
  return nil
end
local function record_managed(rk, mk, id, now, ended, only_newer)
  local principal = json_field(rk, 'target')
  local ent = json_field(rk, 'entitlement') or json_field(rk, 'role')
  if type(principal) ~= 'table' or type(ent) ~= 'table' then return end
  local ref = json_field(rk, 'targetRef')
  if type(ref) ~= 'table' then ref = { kind = 'qlik-roles', instance = 'default' } end
  local pid = text(principal.id); if pid == '' then pid = text(principal.qlikId) end
  local result = json_field(rk, 'result'); if type(result) ~= 'table' then result = {} end
  local channel = ''
  local messages = json_field(rk, 'messages')
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
  local function put(a, r, e)
    local f = field_of(r, e)
    local cur = current_entry(mk, f)
    if a == 'ended' then
      if not ((cur and cur.r == id) or (only_newer and not cur)) then return end
      -- An end that left the role in place (it was held before this grant, outside the bot): the bot has no claim
      -- on it either way any more.
      if type(result.after) == 'table' then
        for _, held in ipairs(result.after) do
          if type(held) == 'string' and string.lower(held) == string.lower(text(e.name)) then
            if cur then redis.call('HDEL', mk, f) end
            return
          end
        end
      end
    elseif only_newer and cur and tonumber(cur.at) and tonumber(cur.at) >= tonumber(now) then
      return
    end
    local v = { a = a, r = id, at = tonumber(now), ent = text(e.name), who = text(principal.name), ch = channel }
    if text(principal.email) ~= '' then v.email = text(principal.email) end
    if type(r.resource) == 'table' then v.res = text(r.resource.name); v.resKind = text(r.resource.kind) end
    if a == 'grant' and type(result.revokeAt) == 'number' then v['until'] = result.revokeAt end
    redis.call('HSET', mk, f, cjson.encode(v))
  end
  local action = json_field(rk, 'action')
  if ended then
    put('ended', ref, ent)
  elseif text(ref.kind) == 'qlik-account' then
    -- An invite: the account is not a holding; the roles granted with it are (time-bound ones are their own).
    if type(result.parts) == 'table' then
      for _, part in ipairs(result.parts) do
        if type(part) == 'table' and (part.outcome == 'granted' or part.outcome == 'already-held')
          and type(part.targetRef) == 'table' and type(part.entitlement) == 'table' then
          put('grant', part.targetRef, part.entitlement)
        end
      end
    end
  elseif action == 'grant' or action == 'revoke' then
    put(action, ref, ent)
  end
end
