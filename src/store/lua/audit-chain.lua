-- Appends one event to an audit stream as a link of its hash chain (src/store/audit-chain.ts checks it): the event
-- carries `prev`, the `hash` of the stream's last event ('' for the first, or after events written before the chain),
-- and its own `hash`, the SHA-1 (the one digest Redis scripts offer) of every field and value before it, each
-- written as <byte length>:<text>; so editing, deleting or reordering an event breaks the chain at that point.
-- Read and written in one script with the event, so two appends can never take the same `prev`.
local function append_audit(stream, max_len, fields)
  if #fields == 0 then return end
  local prev = ''
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #last > 0 then
    local f = last[1][2]
    for i = 1, #f - 1, 2 do
      if f[i] == 'hash' then prev = f[i + 1] end
    end
  end
  fields[#fields + 1] = 'prev'
  fields[#fields + 1] = prev
  local parts = {}
  for i = 1, #fields do parts[i] = #fields[i] .. ':' .. fields[i] end
  fields[#fields + 1] = 'hash'
  fields[#fields + 1] = redis.sha1hex(table.concat(parts))
  return redis.call('XADD', stream, 'MAXLEN', '~', max_len, '*', unpack(fields))
end
