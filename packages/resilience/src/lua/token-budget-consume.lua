-- Takes one whole token if the bucket has one (token-budget.ts); includes token-bucket.lua.
--   KEYS[1]  the bucket hash ({fluxq}:budget:<name>:<series>): `tokens`, `at`
--   ARGV[1]  now, ms
--   ARGV[2]  floor: tokens added per ms however quiet the series is
--   ARGV[3]  capacity: most tokens the bucket holds
--   ARGV[4]  the hash's TTL, ms
-- Returns 1 when a token was taken, else 0 (the refill is saved either way).
local tokens, at = refill(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
-- The epsilon keeps float noise (0.1 × 10 = 0.9999999999999999) from refusing a whole token.
if tokens >= 1 - 1e-9 then
  save(KEYS[1], math.max(0, tokens - 1), at, ARGV[4])
  return 1
end
save(KEYS[1], tokens, at, ARGV[4])
return 0
