-- The fal-capacity scheduler: one script for every change to the order, so each change and the
-- grants it allows happen in one atomic step shared by every process (design: packages/queue/README.md).
--
-- KEYS (all under the {fluxq} hash tag, the same set for every op):
--   1 slots         zset  fal slot leases: lease id -> expiry ms (the account's concurrency)
--   2 tenantLeases  zset  running-job leases: "<tenant>\0<job id>" -> expiry ms (max_running_jobs)
--   3 tenantRunning hash  tenant -> live running-job leases (kept with KEYS[2])
--   4 tickets       hash  ticket id -> JSON {t tenant, c class, s place ("<a|b><seq>"), k kind, r max running,
--                         p 1 (the dispatcher takes the grant), j job id (only when not the ticket id)}
--                         (tickets written before the compact form hold m, the wait member, and p, a JSON payload)
--   5 weights       hash  tenant -> DRR weight (integer >= 1)
--   6 transit       zset  job ids granted for the dispatcher -> ms, until BullMQ has them
--   7 transitData   hash  job id -> dispatch entry (what BullMQ gets: "<job>\0<tenant>\0<class>\0<max running>")
--   8 rate          hash  {v, t}: exponentially decayed grant rate per second, at time t
--   9 seq           string admission counter (FIFO order)
--   10..12 wait:<interactive|default|bulk>  zset, score 0, members "<tenant>\0<a|b><seq>\0<ticket>"
--   13..15 ring:<class>     list  tenants with waiting tickets, in turn order (head = current turn)
--   16..18 deficit:<class>  hash  tenant -> DRR deficit left in its current turn
--   19 limit        string FAL_MAX_CONCURRENCY as the workers last set it
--   20 prefetched   set   waiting job tickets already handed to BullMQ ahead of their grant
--
-- ARGV: 1 op, 2 now ms, 3 fal limit ('' = the stored one: the API does not configure it), 4 slot lease ms, 5 tenant lease ms, 6 grant channel, then per op:
--   admit   7.. groups of 9: ticket, job id, class (1..3), tenant, kind ('job'|'extra'), front ('1'|'0'),
--           max running ('' = none), weight ('' = keep the stored one), dispatch ('1' = the dispatcher hands the job to
--           BullMQ on its grant, '' = a waiter takes the grant)
--   release 7 n, then n slot lease ids, then "<tenant>\0<job id>" running leases to free
--   cancel  7.. ticket ids
--   grant   (nothing more)
--
-- Every op first takes back expired leases, then grants while fal slots are free, then (but for
-- cancel) tops up the prefetch: up to `limit` waiting new jobs, the likeliest next, go to BullMQ ahead of their
-- grant so a worker prepares them and submits the moment the grant wakes it (their ticket keeps
-- its place: the order is unchanged). Returns {dispatch entries for the dispatcher (granted and
-- prefetched jobs), granted waiter tickets, op result, every lease granted in grant order}.
-- A ticket's kind: 'job' needs its tenant's running-job lease (max_running_jobs is checked at the
-- grant); 'extra' (a hedge, a further chunk) belongs to a job that holds one already.

local slots, tenantLeases, tenantRunning, tickets = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefetched = KEYS[20]
local weights, transit, transitData, rate, seqKey = KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local op, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if limit then
  redis.call('SET', KEYS[19], ARGV[3])
else
  limit = tonumber(redis.call('GET', KEYS[19])) or 0
end
local slotLeaseMs, tenantLeaseMs, channel = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local SEP = '\0'
local RATE_TAU_MS = 30000

local function waitKey(c) return KEYS[9 + c] end

local function ticketOf(id) return ticket_of(tickets, id) end

local function saveTicket(id, info)
  local j, m = info.j, info.m
  if j == id then info.j = nil end
  if info.s then info.m = nil end
  redis.call('HSET', tickets, id, cjson.encode(info))
  info.j, info.m = j, m
end

-- What the dispatcher hands BullMQ for a job ticket (a pre-compact ticket's JSON payload as it is).
local function dispatchOf(info)
  if type(info.p) == 'string' then return info.p end
  return info.j .. SEP .. info.t .. SEP .. info.c .. SEP .. (info.r and string.format('%d', info.r) or '')
end
local function ringKey(c) return KEYS[12 + c] end
local function deficitKey(c) return KEYS[15 + c] end

local function tenantRange(t) return '[' .. t .. SEP, '(' .. t .. '\1' end

local function tenantWaiting(c, t)
  local lo, hi = tenantRange(t)
  return redis.call('ZLEXCOUNT', waitKey(c), lo, hi)
end

-- A tenant leaves a class's ring when its last ticket there goes.
local function dropIfEmpty(c, t)
  if tenantWaiting(c, t) == 0 then
    redis.call('LREM', ringKey(c), 0, t)
    redis.call('HDEL', deficitKey(c), t)
  end
end

local function releaseTenantLease(member)
  if redis.call('ZREM', tenantLeases, member) == 1 then
    local t = string.sub(member, 1, string.find(member, SEP, 1, true) - 1)
    if redis.call('HINCRBY', tenantRunning, t, -1) <= 0 then redis.call('HDEL', tenantRunning, t) end
  end
end

local function expireLeases()
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', tenantLeases, '-inf', now)) do
    releaseTenantLease(member)
  end
end

-- max_running_jobs: a job ticket whose job holds no running lease needs a free one.
local function tenantBlocked(info)
  if info.k ~= 'job' or not info.r then return false end
  if redis.call('ZSCORE', tenantLeases, info.t .. SEP .. info.j) then return false end
  return (tonumber(redis.call('HGET', tenantRunning, info.t)) or 0) >= info.r
end

-- The next ticket of class c by deficit round-robin over its ring, FIFO within a tenant, or nil.
-- A tenant whose head ticket is blocked by its running limit is passed over (keeping its deficit).
local function pick(c)
  local ring, deficits, wait = ringKey(c), deficitKey(c), waitKey(c)
  local blocked = 0
  local n = redis.call('LLEN', ring)
  while n > 0 and blocked < n do
    local t = redis.call('LINDEX', ring, 0)
    local d = tonumber(redis.call('HGET', deficits, t)) or 0
    if d < 1 then d = d + (tonumber(redis.call('HGET', weights, t)) or 1) end
    local lo, hi = tenantRange(t)
    local head = redis.call('ZRANGEBYLEX', wait, lo, hi, 'LIMIT', 0, 1)[1]
    if not head then
      redis.call('LPOP', ring)
      redis.call('HDEL', deficits, t)
      n = n - 1
    else
      local id = string.sub(head, string.find(head, SEP, #t + 2, true) + 1)
      local info = ticketOf(id)
      if tenantBlocked(info) then
        redis.call('HSET', deficits, t, d)
        redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
        blocked = blocked + 1
      else
        redis.call('ZREM', wait, head)
        redis.call('HDEL', tickets, id)
        redis.call('SREM', prefetched, id)
        d = d - 1
        if redis.call('ZLEXCOUNT', wait, lo, hi) == 0 then
          redis.call('LPOP', ring)
          redis.call('HDEL', deficits, t)
        elseif d < 1 then
          redis.call('HDEL', deficits, t)
          redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
        else
          redis.call('HSET', deficits, t, d)
        end
        return id, info
      end
    end
  end
  return nil
end

local function grantLoop()
  local dispatched, woken, order = {}, {}, {}
  local free = limit - redis.call('ZCARD', slots)
  while free > 0 do
    local id, info
    for c = 1, 3 do
      id, info = pick(c)
      if id then break end
    end
    if not id then break end
    redis.call('ZADD', slots, now + slotLeaseMs, id)
    order[#order + 1] = id
    if info.k == 'job' then
      local member = info.t .. SEP .. info.j
      if redis.call('ZADD', tenantLeases, now + tenantLeaseMs, member) == 1 then
        redis.call('HINCRBY', tenantRunning, info.t, 1)
      end
    end
    if info.p then
      local entry = dispatchOf(info)
      redis.call('ZADD', transit, now, info.j)
      redis.call('HSET', transitData, info.j, entry)
      dispatched[#dispatched + 1] = entry
    else
      woken[#woken + 1] = id
    end
    free = free - 1
  end
  local granted = #dispatched + #woken
  if granted > 0 then
    local r = redis.call('HMGET', rate, 'v', 't')
    local v, t = tonumber(r[1]) or 0, tonumber(r[2]) or now
    v = v * math.exp(-math.max(0, now - t) / RATE_TAU_MS) + granted * 1000 / RATE_TAU_MS
    redis.call('HSET', rate, 'v', tostring(v), 't', now)
  end
  -- Waiters wake on their lease ids; an empty message still tells event streams that places moved.
  if granted > 0 then redis.call('PUBLISH', channel, table.concat(woken, ' ')) end
  return dispatched, woken, order
end

local result = 0
expireLeases()
if op == 'admit' then
  for i = 7, #ARGV, 9 do
    local id, c, t, kind = ARGV[i], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4]
    -- Idempotent: a ticket already waiting or a lease already held is not queued twice.
    if redis.call('HEXISTS', tickets, id) == 0 and not redis.call('ZSCORE', slots, id) then
      local seq = redis.call('INCR', seqKey)
      local place = (ARGV[i + 5] == '1' and 'a' or 'b') .. string.format('%015d', seq)
      local info = { j = ARGV[i + 1], t = t, c = c, s = place, m = t .. SEP .. place .. SEP .. id, k = kind }
      if ARGV[i + 6] ~= '' then info.r = tonumber(ARGV[i + 6]) end
      if ARGV[i + 8] == '1' then info.p = 1 end
      if tenantWaiting(c, t) == 0 then redis.call('RPUSH', ringKey(c), t) end
      redis.call('ZADD', waitKey(c), 0, info.m)
      saveTicket(id, info)
      if ARGV[i + 7] ~= '' then redis.call('HSET', weights, t, ARGV[i + 7]) end
      result = result + 1
    end
  end
elseif op == 'release' then
  local n = tonumber(ARGV[7])
  for i = 8, 7 + n do result = result + redis.call('ZREM', slots, ARGV[i]) end
  for i = 8 + n, #ARGV do releaseTenantLease(ARGV[i]) end
elseif op == 'cancel' then
  for i = 7, #ARGV do
    local info = ticketOf(ARGV[i])
    if info then
      redis.call('ZREM', waitKey(info.c), info.m)
      redis.call('HDEL', tickets, ARGV[i])
      redis.call('SREM', prefetched, ARGV[i])
      dropIfEmpty(info.c, info.t)
      result = result + 1
    end
  end
end
-- The next waiting new jobs, by class and then one per tenant per round in ring order (near
-- enough to the grant order: a job prefetched out of turn only waits a little longer).
local function prefetch(dispatched)
  local want = limit - redis.call('SCARD', prefetched)
  if want <= 0 then return end
  for c = 1, 3 do
    local ring = redis.call('LRANGE', ringKey(c), 0, -1)
    local depth = 0
    while want > 0 and #ring > 0 do
      local any = false
      for _, t in ipairs(ring) do
        if want <= 0 then break end
        local lo, hi = tenantRange(t)
        local member = redis.call('ZRANGEBYLEX', waitKey(c), lo, hi, 'LIMIT', depth, 1)[1]
        if member then
          any = true
          local id = string.sub(member, string.find(member, SEP, #t + 2, true) + 1)
          local info = ticketOf(id)
          if info.p then
            local entry = dispatchOf(info)
            redis.call('ZADD', transit, now, info.j)
            redis.call('HSET', transitData, info.j, entry)
            dispatched[#dispatched + 1] = entry
            info.p = nil
            saveTicket(id, info)
            redis.call('SADD', prefetched, id)
            want = want - 1
          end
        end
      end
      if not any then break end
      depth = depth + 1
      if depth >= limit then break end
    end
  end
end

local dispatched, woken, order = grantLoop()
-- Not after a cancel: a batch cancelled chunk by chunk would pull each next chunk into BullMQ.
if op ~= 'cancel' then prefetch(dispatched) end
return { dispatched, woken, result, order }
