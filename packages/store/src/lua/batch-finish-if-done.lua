-- Included before the batch-*.lua scripts (scripts.ts `include`): finishes a batch when every
-- one of its jobs is counted, in_progress -> completed or cancelling -> cancelled.
--   KEYS[1]  the including script's batch hash ({fluxq}:batch:<id>)
--   KEYS[2]  the including script's counted set ({fluxq}:batch:<id>:counted)
--   ARGV     none of its own: finishIfDone(now) takes now (unix s) as its argument
-- finishIfDone returns the transition made: 'completed', 'cancelled' or ''.
local function finishIfDone(now)
  local total = tonumber(redis.call('HGET', KEYS[1], 'total'))
  if redis.call('SCARD', KEYS[2]) < total then return '' end
  local status = redis.call('HGET', KEYS[1], 'status')
  local next = nil
  if status == 'in_progress' then next = 'completed' elseif status == 'cancelling' then next = 'cancelled' end
  if not next then return '' end
  redis.call('HSET', KEYS[1], 'status', next, 'completed_at', now)
  return next
end
