-- Records a job as queued for its tenant only while the tenant has fewer than the limit queued,
-- in one step (two API processes cannot both take the last place). A job already there is
-- recorded again (idempotent).
--   KEYS[1]  the tenant's queued set ({fluxq}:tenant-queued:<tenant>, score = creation ms)
--   ARGV[1]  score (the job's creation ms)
--   ARGV[2]  job id
--   ARGV[3]  limit (max_queued_jobs)
-- Returns {added (0|1), count before}.
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[3]) or redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
  return {1, count}
end
return {0, count}
