-- Spends one of a rolling-window budget (budget.ts) if the window allows; includes window-sums.lua.
--   KEYS[1]  the budget hash ({fluxq}:budget:<name>:<series>): `sub:<bucket>`, `spent:<bucket>`
--   ARGV[1]  current bucket
--   ARGV[2]  buckets in the window
--   ARGV[3]  the hash's TTL, ms
--   ARGV[4]  ratio: spends allowed per submission in the window
--   ARGV[5]  minPerWindow: spends allowed per window on top of the ratio
-- Returns 1 when the spend was allowed (and counted), else 0.
local sums = window_sums(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
local allowance = tonumber(ARGV[4]) * (sums['sub'] or 0) + tonumber(ARGV[5])
-- The epsilon keeps float noise (0.07 × 100 = 7.000000000000001) from granting one extra.
if (sums['spent'] or 0) < allowance - 1e-9 then
  redis.call('HINCRBY', KEYS[1], 'spent:' .. ARGV[1], 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
