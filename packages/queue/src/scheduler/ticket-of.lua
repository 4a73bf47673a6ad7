-- Included by schedule.lua and position.lua (scripts.ts): no KEYS or ARGV of its own.
-- ticket_of(tickets, id) reads ticket `id` from hash `tickets` (one of the caller's KEYS) with its
-- job id and wait member filled in: the compact form leaves both out when they follow from the
-- ticket id (tickets written before it hold them). Returns nil when the ticket is not waiting.
local function ticket_of(tickets, id)
  local raw = redis.call('HGET', tickets, id)
  if not raw then return nil end
  local info = cjson.decode(raw)
  info.j = info.j or id
  info.m = info.m or (info.t .. '\0' .. info.s .. '\0' .. id)
  return info
end
