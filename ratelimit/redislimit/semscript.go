package redislimit

// A Semaphore's state in Redis, all times in µs since redisEpoch by Redis's
// clock:
//
//	key:holders  sorted set: lease id -> when the lease expires
//	key:queue    sorted set: waiting id -> its ticket (order of arrival)
//	key:waiting  sorted set: group -> when its waiters are forgotten
//	key:ticket   counter handing out tickets
//
// An id is "group/random": the group is one Semaphore value in one
// process, whose waiters are all kept in the queue by one poll, which
// renews the group's patience. Every call first drops the expired leases
// and groups, and the waiters at the front of the queue whose group is
// gone; a forgotten waiter deeper in the queue is dropped when it reaches
// the front. A waiter is granted a slot when it is among the first
// (capacity - holders) of the queue, so nobody overtakes an earlier waiter.
// The four keys expire when nothing has touched them for longer than a
// lease and a waiter's patience; the counter is touched whenever the queue
// is, so a queue never outlives its counter and tickets never start again
// below a waiter's.

// semPrelude reads the time and drops what has expired.
const semPrelude = `
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1577836800) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
for _ = 1, 100 do
	local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
	if not first then break end
	local group = string.match(first, '^([^/]*)/')
	if group and redis.call('ZSCORE', KEYS[3], group) then break end
	redis.call('ZREM', KEYS[2], first)
end
local function keep(key, ms)
	if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
`

// acquireSrc asks for a slot for a lease id, queueing it if there is none.
//
//	KEYS  holders, queue, waiting, ticket
//	ARGV[1]  the lease id
//	ARGV[2]  capacity
//	ARGV[3]  the lease's TTL, µs
//	ARGV[4]  how long a group that does not poll stays queued, µs
//	ARGV[5]  "wait" to queue if no slot is free, "try" not to
//	ARGV[6]  the id's group
//
// It returns {1, ttl} when the id holds a slot (ttl: the µs it is leased
// for), or {0, position, hint, ticket}: its place in the queue (0 first; -1
// if not queued), the µs until the first lease expires (-1 if none is
// held), and its ticket (0 if not queued).
const acquireSrc = semPrelude + `
local id = ARGV[1]
local cap = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local patience = tonumber(ARGV[4])
local life = math.ceil((ttl + patience) / 1000) + 1
local exp = redis.call('ZSCORE', KEYS[1], id)
if exp then
	return {1, math.floor(tonumber(exp) - now)}
end
local free = cap - redis.call('ZCARD', KEYS[1])
local rank = redis.call('ZRANK', KEYS[2], id)
if not rank then
	if free > 0 and redis.call('ZCARD', KEYS[2]) == 0 then
		rank = 0
	elseif ARGV[5] == 'wait' then
		redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), id)
		rank = redis.call('ZRANK', KEYS[2], id)
	end
end
if rank and rank < free then
	redis.call('ZREM', KEYS[2], id)
	redis.call('ZADD', KEYS[1], now + ttl, id)
	keep(KEYS[1], life)
	return {1, ttl}
end
local hint = -1
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then hint = math.ceil(tonumber(first[2]) - now) end
if not rank then
	return {0, -1, hint, 0}
end
redis.call('ZADD', KEYS[3], now + patience, ARGV[6])
keep(KEYS[2], life)
keep(KEYS[3], life)
keep(KEYS[4], life)
return {0, rank, hint, tonumber(redis.call('ZSCORE', KEYS[2], id))}
`

// pollSrc renews a group's patience, takes the ids of its waiters that
// left out of the queue and the holders, and asks for slots for its first
// waiters, in the order of their tickets; a waiter that is no longer queued
// (Redis restarted, or the group was forgotten) is queued again, at the
// back.
//
//	KEYS  holders, queue, waiting, ticket
//	ARGV[1]  the group
//	ARGV[2]  capacity
//	ARGV[3]  the lease's TTL, µs
//	ARGV[4]  how long a group that does not poll stays queued, µs
//	ARGV[5]  g, the number of ids that left
//	ARGV[6…] the g ids that left, then the waiters' ids
//
// It returns {hint, s1, v1, s2, v2, …}: hint as acquireSrc's; for each id,
// s = 1 and v the µs its lease has left if it holds a slot, or s = 0 and v
// its place in the queue.
const pollSrc = semPrelude + `
local cap = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local patience = tonumber(ARGV[4])
local life = math.ceil((ttl + patience) / 1000) + 1
redis.call('ZADD', KEYS[3], now + patience, ARGV[1])
local gone = tonumber(ARGV[5])
for i = 6, 5 + gone do
	redis.call('ZREM', KEYS[2], ARGV[i])
	redis.call('ZREM', KEYS[1], ARGV[i])
end
local out = {-1}
for i = 6 + gone, #ARGV do
	local id = ARGV[i]
	local exp = redis.call('ZSCORE', KEYS[1], id)
	if exp then
		out[#out + 1] = 1
		out[#out + 1] = math.floor(tonumber(exp) - now)
	else
		local rank = redis.call('ZRANK', KEYS[2], id)
		if not rank then
			redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), id)
			rank = redis.call('ZRANK', KEYS[2], id)
		end
		if rank < cap - redis.call('ZCARD', KEYS[1]) then
			redis.call('ZREM', KEYS[2], id)
			redis.call('ZADD', KEYS[1], now + ttl, id)
			out[#out + 1] = 1
			out[#out + 1] = ttl
		else
			out[#out + 1] = 0
			out[#out + 1] = rank
		end
	end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then out[1] = math.ceil(tonumber(first[2]) - now) end
keep(KEYS[1], life)
keep(KEYS[2], life)
keep(KEYS[3], life)
keep(KEYS[4], life)
return out
`

// renewSrc extends a lease by its TTL from now, if it is still held.
//
//	KEYS  holders, queue, waiting, ticket
//	ARGV[1]  the lease id
//	ARGV[2]  the lease's TTL, µs
//	ARGV[3]  a group's patience, µs
//
// It returns 1 if the lease is renewed, 0 if it was lost.
const renewSrc = semPrelude + `
local id = ARGV[1]
if not redis.call('ZSCORE', KEYS[1], id) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), id)
keep(KEYS[1], math.ceil((tonumber(ARGV[2]) + tonumber(ARGV[3])) / 1000) + 1)
return 1
`

// releaseSrc gives leases' slots back, or waiters' places in the queue.
//
//	KEYS  holders, queue, waiting, ticket
//	ARGV[1…] the ids
//
// It returns 1 if the first id held a slot that had not expired, else 0.
const releaseSrc = semPrelude + `
local held = 0
for i = 1, #ARGV do
	redis.call('ZREM', KEYS[2], ARGV[i])
	local h = redis.call('ZREM', KEYS[1], ARGV[i])
	if i == 1 then held = h end
end
return held
`

var (
	acquireScript = newScript(acquireSrc)
	pollScript    = newScript(pollSrc)
	renewScript   = newScript(renewSrc)
	releaseScript = newScript(releaseSrc)
)
