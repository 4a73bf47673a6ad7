-- Replaces an idempotency claim only if it is still the one the caller holds: a request that
-- lost its claim (expired, taken over) changes nothing.
--   KEYS[1]  the claim ({fluxq}:idempotency:<tenant>:<key hash>)
--   ARGV[1]  the value the caller expects there
--   ARGV[2]  the new value ('' = delete the claim)
--   ARGV[3]  the new value's TTL, seconds
-- Returns 1 when replaced or deleted, 0 when the claim was not the expected one.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
