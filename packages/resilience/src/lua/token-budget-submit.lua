-- Adds the tokens a submission of base traffic earns (token-budget.ts); includes token-bucket.lua.
--   KEYS[1]  the bucket hash ({fluxq}:budget:<name>:<series>): `tokens`, `at`
--   ARGV[1]  now, ms
--   ARGV[2]  floor: tokens added per ms however quiet the series is
--   ARGV[3]  capacity: most tokens the bucket holds
--   ARGV[4]  the hash's TTL, ms
--   ARGV[5]  tokens to add
-- Returns 1.
local capacity = tonumber(ARGV[3])
local tokens, at = refill(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), capacity)
tokens = math.min(capacity, tokens + tonumber(ARGV[5]))
save(KEYS[1], tokens, at, ARGV[4])
return 1
