-- New job records in one call (one job's, or a batch's, a chunk at a time): each job's hash, its
-- retention, and its place in its tenant's job index. One call instead of three commands per
-- job: a 50,000-line batch builds 50 of these rather than 150,000 commands on its way to a 202.
--   KEYS[1..n]  the jobs' hashes ({fluxq}:job:<id>)
--   KEYS[n+1]   the tenant's job index ({fluxq}:tenant-jobs:<tenant>, scored by creation ms)
--   ARGV[1]     retention, seconds
--   ARGV[2..]   per job, in KEYS order: its id, its creation ms, the count m of field/value
--               strings that follow, then those m strings (job-encoding.ts's encodeNewRecord)
-- Returns the number of jobs written.
local index = KEYS[#KEYS]
local at = 2
for i = 1, #KEYS - 1 do
  local m = tonumber(ARGV[at + 2])
  redis.call('HSET', KEYS[i], unpack(ARGV, at + 3, at + 2 + m))
  redis.call('EXPIRE', KEYS[i], ARGV[1])
  redis.call('ZADD', index, ARGV[at + 1], ARGV[at])
  at = at + 3 + m
end
return #KEYS - 1
