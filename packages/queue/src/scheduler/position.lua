-- A waiting ticket's place in line: how many tickets the scheduler grants before it if nothing
-- new arrives, by the same rules as schedule.lua (class, then deficit round-robin, then FIFO, and
-- a tenant at its max_running_jobs passed over), given the running-job leases held now: another
-- tenant's tickets count only as far as its free running leases reach (README, "Status and place
-- in line", for what this leaves out). Computed from the waiting counts, deficits, weights and
-- leases, never stored per job.
--
-- KEYS: 1 tickets, 2 weights, 3..5 wait:<class>, 6..8 ring:<class>, 9..11 deficit:<class>,
--       12 rate, 13 slots, 14 limit, 15 tenantLeases, 16 tenantRunning (same keys as schedule.lua)
-- ARGV: 1 ticket id, 2 now ms
-- Returns nil when the ticket is not waiting, else {position, free slots, rate v, rate t, limit}.

local SEP = '\0'
local function ticketOf(id) return ticket_of(KEYS[1], id) end

local info = ticketOf(ARGV[1])
if not info then return nil end
local c, me = info.c, info.t

local tenantLeases, tenantRunning = KEYS[15], KEYS[16]

local function infoOf(member, t)
  return ticketOf(string.sub(member, string.find(member, SEP, #t + 2, true) + 1))
end

-- Running-job leases a tenant may still take (nil = no limit), shared by its tickets of every
-- class: spent in grant order, higher classes first.
local leasesLeft = {}
local function leftFor(info)
  if not info.r then return nil end
  if leasesLeft[info.t] == nil then
    leasesLeft[info.t] = math.max(0, info.r - (tonumber(redis.call('HGET', tenantRunning, info.t)) or 0))
  end
  return leasesLeft[info.t]
end

-- How many of another tenant's `count` tickets of class cls are granted before its running limit
-- stops it (pick() passes a tenant over while its head ticket is blocked), given the leases now.
local function grantable(cls, t, count)
  if count == 0 then return 0 end
  local wait = KEYS[2 + cls]
  local n = 0
  -- Started jobs' tickets (retries, resumes, hedges, chunks) go first; few, so one by one.
  local front = redis.call('ZRANGEBYLEX', wait, '[' .. t .. SEP .. 'a', '(' .. t .. SEP .. 'b')
  for _, member in ipairs(front) do
    local info = infoOf(member, t)
    if info.k == 'job' and not redis.call('ZSCORE', tenantLeases, t .. SEP .. info.j) then
      local left = leftFor(info)
      if left ~= nil then
        if left <= 0 then return n end
        leasesLeft[t] = left - 1
      end
    end
    n = n + 1
  end
  local rest = count - #front
  if rest <= 0 then return n end
  -- First attempts: job tickets that all need a lease, under the same limit.
  local head = redis.call('ZRANGEBYLEX', wait, '[' .. t .. SEP .. 'b', '(' .. t .. '\1', 'LIMIT', 0, 1)[1]
  local left = head and leftFor(infoOf(head, t)) or nil
  if left == nil then return n + rest end
  local take = math.min(rest, left)
  leasesLeft[t] = left - take
  return n + take
end

local position = 0
for higher = 1, c - 1 do
  for _, t in ipairs(redis.call('LRANGE', KEYS[5 + higher], 0, -1)) do
    local count = redis.call('ZLEXCOUNT', KEYS[2 + higher], '[' .. t .. SEP, '(' .. t .. '\1')
    position = position + (t == me and count or grantable(higher, t, count))
  end
end

local wait, ring, deficits = KEYS[2 + c], KEYS[5 + c], KEYS[8 + c]
-- Our tenant's tickets up to and including this one.
local need = redis.call('ZLEXCOUNT', wait, '[' .. me .. SEP, '(' .. info.m) + 1

local tenants = {}
for _, t in ipairs(redis.call('LRANGE', ring, 0, -1)) do
  local count = redis.call('ZLEXCOUNT', wait, '[' .. t .. SEP, '(' .. t .. '\1')
  if t ~= me then count = grantable(c, t, count) end
  local w = tonumber(redis.call('HGET', KEYS[2], t)) or 1
  local d = tonumber(redis.call('HGET', deficits, t)) or 0
  tenants[#tenants + 1] = { t = t, count = count, w = w, quota = d >= 1 and d or w }
end

-- One turn each in ring order with each tenant's first quota (the head may be mid-turn), then
-- whole rounds of w each are skipped in bulk until a tenant runs out or ours is reached.
local function turn()
  local left = {}
  for _, x in ipairs(tenants) do
    local served = math.min(x.count, x.quota)
    if x.t == me then
      if need <= served then return true end
      need = need - served
    else
      x.count = x.count - served
    end
    position = position + served
    x.quota = x.w
    if x.count > 0 or x.t == me then left[#left + 1] = x end
  end
  tenants = left
  return false
end

while not turn() do
  local rounds = math.huge
  for _, x in ipairs(tenants) do
    if x.t == me then
      rounds = math.min(rounds, math.ceil(need / x.w) - 1)
    else
      rounds = math.min(rounds, math.floor(x.count / x.w))
    end
  end
  if rounds > 0 then
    for _, x in ipairs(tenants) do
      position = position + rounds * x.w
      if x.t == me then need = need - rounds * x.w else x.count = x.count - rounds * x.w end
    end
  end
end
position = position + need - 1

local r = redis.call('HMGET', KEYS[12], 'v', 't')
local live = redis.call('ZCOUNT', KEYS[13], '(' .. ARGV[2], '+inf')
local limit = tonumber(redis.call('GET', KEYS[14])) or 0
return { position, math.max(0, limit - live), r[1] or '0', r[2] or ARGV[2], limit }
