-- Included by the token budget's scripts (token-budget.ts): no KEYS or ARGV of its own.
-- The bucket hash holds `tokens` (float) and `at` (ms of the last refill); `key` must be one of
-- the calling script's KEYS.

-- The bucket at `now`, refilled at `floor_per_ms` up to `capacity`; a bucket never seen (or
-- expired) starts full. Returns tokens, at.
local function refill(key, now, floor_per_ms, capacity)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1])
  local at = tonumber(state[2])
  if tokens == nil then
    tokens = capacity
    at = now
  end
  -- A clock running behind another host's never takes tokens back.
  if now > at then
    tokens = math.min(capacity, tokens + (now - at) * floor_per_ms)
    at = now
  end
  return tokens, at
end

local function save(key, tokens, at, ttl_ms)
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at))
  redis.call('PEXPIRE', key, ttl_ms)
end
