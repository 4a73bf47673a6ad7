-- Counts base traffic that earns a rolling-window budget (budget.ts); includes window-sums.lua.
--   KEYS[1]  the budget hash ({fluxq}:budget:<name>:<series>): `sub:<bucket>`, `spent:<bucket>`
--   ARGV[1]  current bucket
--   ARGV[2]  buckets in the window
--   ARGV[3]  the hash's TTL, ms
--   ARGV[4]  submissions to add
-- Returns 1.
window_sums(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[1], 'sub:' .. ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
