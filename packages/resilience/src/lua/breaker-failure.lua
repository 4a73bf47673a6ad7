-- A request failed: counted in the window and the streak; the breaker opens past the failure
-- ratio or streak, and a failed probe reopens it for twice as long. Includes window-sums.lua and
-- breaker-prelude.lua.
--   KEYS[1]  the breaker hash ({fluxq}:breaker:<key>)
--   ARGV[1]  now, ms
--   ARGV[2]  current bucket of the rolling window
--   ARGV[3]  buckets in the window
--   ARGV[4]  how long to keep the hash past openUntil, ms
--   ARGV[5]  '1' for the probe
--   ARGV[6]  minRequests in the window before the ratio counts
--   ARGV[7]  failureRatio that opens it
--   ARGV[8]  base open period, ms
--   ARGV[9]  longest open period, ms
--   ARGV[10] streakToOpen: distinct sources failing in a row that open it (0 = off)
--   ARGV[11] what failed ('' = unnamed: counts as a source of its own)
-- Returns {state after, state before when this call changed it, else ''}.
if state == 'open' then
  if now < open_until then return {'open', ''} end
  if ARGV[5] ~= '1' then return {'half-open', ''} end
  local last = tonumber(redis.call('HGET', key, 'openMs') or ARGV[8])
  local period = math.min(last * 2, tonumber(ARGV[9]))
  open(now + period, period, 'probe failed')
  return {'open', 'half-open'}
end
local sums = window_sums(key, current, buckets)
local ok = sums['ok'] or 0
local fail = (sums['fail'] or 0) + 1
if ok + fail >= tonumber(ARGV[6]) and fail / (ok + fail) >= tonumber(ARGV[7]) - 1e-12 then
  open(now + tonumber(ARGV[8]), tonumber(ARGV[8]), 'failure ratio')
  return {'open', 'closed'}
end
-- The streak: distinct sources failing in a row. A source already in it adds nothing.
local to_open = tonumber(ARGV[10])
local source = ARGV[11]
if source == '' then source = '~' .. now .. '~' .. fail end
local streak = redis.call('HGET', key, 'streak') or ''
local members = 0
local seen = false
for member in string.gmatch(streak, '%S+') do
  members = members + 1
  if member == source then seen = true end
end
if not seen then
  members = members + 1
  -- Only the last streakToOpen members matter; keep the field short.
  if to_open > 0 and members > to_open then streak = string.gsub(streak, '^%S+ ?', '') ; members = to_open end
  streak = (streak == '' and source) or (streak .. ' ' .. source)
end
if to_open > 0 and members >= to_open then
  open(now + tonumber(ARGV[8]), tonumber(ARGV[8]), 'consecutive failures')
  return {'open', 'closed'}
end
redis.call('HSET', key, 'streak', streak)
redis.call('HINCRBY', key, 'fail:' .. ARGV[2], 1)
touch()
return {'closed', ''}
