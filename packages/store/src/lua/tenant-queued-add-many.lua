-- Records a batch's jobs as queued, all or none: with a limit, only when the tenant's queued
-- set then holds at most the limit (one step, so two API processes cannot both overfill it).
--   KEYS[1]  the tenant's queued set ({fluxq}:tenant-queued:<tenant>, score = creation ms)
--   ARGV[1]  limit (max_queued_jobs; '' = none)
--   ARGV[2..] score / job id pairs
-- Returns {added (0|1), count before}.
local count = redis.call('ZCARD', KEYS[1])
local adding = (#ARGV - 1) / 2
if ARGV[1] ~= '' and count + adding > tonumber(ARGV[1]) then return {0, count} end
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {1, count}
