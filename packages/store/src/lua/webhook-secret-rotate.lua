-- Rotates a tenant's webhook signing secret: the current one (if any) becomes the previous
-- secret, which keeps signing deliveries until the given time, and the new one is current.
--   KEYS[1]  the tenant's settings hash ({fluxq}:webhook-tenant:<tenant>)
--   ARGV[1]  the new secret
--   ARGV[2]  until when the previous secret stays valid, ms
-- Returns 1 when there was a secret before, else 0.
local current = redis.call('HGET', KEYS[1], 'secret')
if current then
  redis.call('HSET', KEYS[1], 'previous_secret', current, 'previous_until', ARGV[2])
end
redis.call('HSET', KEYS[1], 'secret', ARGV[1])
return current and 1 or 0
