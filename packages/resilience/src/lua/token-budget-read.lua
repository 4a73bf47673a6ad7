-- The tokens available now, after the floor's refill, without spending or saving any
-- (token-budget.ts); includes token-bucket.lua.
--   KEYS[1]  the bucket hash ({fluxq}:budget:<name>:<series>): `tokens`, `at`
--   ARGV[1]  now, ms
--   ARGV[2]  floor: tokens added per ms however quiet the series is
--   ARGV[3]  capacity: most tokens the bucket holds
-- Returns the tokens as a string (a float).
local tokens = refill(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return tostring(tokens)
