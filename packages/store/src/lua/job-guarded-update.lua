-- A job's status change (or any patch), applied only when its current status is one the caller
-- allows, so a terminal job stays terminal and of two racing transitions exactly one applies.
-- A status change is announced on the job events channel.
--   KEYS[1]  the job hash ({fluxq}:job:<id>)
--   ARGV[1]  the job events channel ({fluxq}:job-events; a channel, not a key)
--   ARGV[2]  job id
--   ARGV[3]  allowed current statuses as ',"a","b",' (JSON-encoded; '' = any)
--   ARGV[4..] field / value pairs (JSON values)
-- Returns false when the job does not exist, else {applied (0|1), the status before (JSON)}.
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return false end
if ARGV[3] ~= '' and not string.find(ARGV[3], ',' .. current .. ',', 1, true) then
  return {0, current}
end
local newStatus = nil
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i] == 'status' then newStatus = ARGV[i + 1] end
end
if newStatus and newStatus ~= current then
  redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. cjson.decode(newStatus))
end
return {1, current}
