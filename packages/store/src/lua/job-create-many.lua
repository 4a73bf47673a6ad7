-- New job records in one call (one job's, or a batch's, a chunk at a time): each job's hash, its
-- retention, and its place in its tenant's job index. One call instead of three commands per
-- job: a 50,000-line batch builds 50 of these rather than 150,000 commands on its way to a 202.
-- A job's hash is its status and its base (the record as accepted, JSON) cut into pieces
-- b0, b1, … of at most ARGV[2] bytes, so the hash stays a listpack (job-encoding.ts).
--   KEYS[1..n]  the jobs' hashes ({fluxq}:job:<id>)
--   KEYS[n+1]   the tenant's job index ({fluxq}:tenant-jobs:<tenant>, scored by creation ms)
--   ARGV[1]     retention, seconds
--   ARGV[2]     piece size, bytes
--   ARGV[3..]   per job, in KEYS order, four values: its id, its creation ms, its status (JSON),
--               its base (JSON)
-- Returns the number of jobs written.
local index = KEYS[#KEYS]
local size = tonumber(ARGV[2])
for i = 1, #KEYS - 1 do
  local at = 3 + (i - 1) * 4
  local base = ARGV[at + 3]
  local fields = { 'status', ARGV[at + 2] }
  local n = 0
  for from = 1, #base, size do
    fields[#fields + 1] = 'b' .. n
    fields[#fields + 1] = string.sub(base, from, from + size - 1)
    n = n + 1
  end
  redis.call('HSET', KEYS[i], unpack(fields))
  redis.call('EXPIRE', KEYS[i], ARGV[1])
  redis.call('ZADD', index, ARGV[at + 1], ARGV[at])
end
return #KEYS - 1
