package redislimit

// The limiter's state in Redis is one string: the bucket's theoretical
// arrival time (TAT) of the generic cell rate algorithm, in µs since
// redisEpoch by Redis's clock. With T the µs per token and burst b, the
// bucket holds (now - (TAT - b×T)) / T tokens, at most b; a missing key is
// a full bucket. Taking n tokens moves the TAT n×T later; the grant may act
// when TAT - b×T <= now. Every time is Redis's own (TIME), so replicas whose
// clocks disagree still agree on the bucket, and no client's clock is sent.
// The key expires when the bucket is full again, so an idle key costs
// nothing.

// gcraSrc takes n tokens if they come within maxwait µs.
//
//	KEYS[1]  the limiter's key
//	ARGV[1]  T, µs per token (a float, as Go formats it)
//	ARGV[2]  burst
//	ARGV[3]  n
//	ARGV[4]  maxwait: the most µs the grant may wait (0: now or never)
//	ARGV[5]  charge: tokens to take first, whatever the wait (0: none); a
//	         replica charges what its local limiter handed out while
//	         Redis was unavailable
//	ARGV[6]  floor: a TAT to restore first if the key's is earlier (0:
//	         none): the bucket as the replica last knew it, lost if Redis
//	         restarted
//
// It returns {granted, wait, empty, tat, now}: granted 1 or 0; wait, the
// µs until the grant may act (rounded up; 0 now), or for a refusal until n
// tokens would come; empty, the µs from now at which the bucket was or will
// be empty after this call (rounded down, negative while it holds tokens);
// tat, the TAT this grant set, exactly as stored (Redis writes a number
// argument in its shortest exact form), to give the tokens back (empty for a
// refusal); now, Redis's clock, in µs since redisEpoch, which orders the
// answers.
const gcraSrc = `
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1577836800) * 1000000 + tonumber(t[2])
local T = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local maxwait = tonumber(ARGV[4])
local charge = tonumber(ARGV[5])
local floor = tonumber(ARGV[6])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local tau = burst * T
if floor > tat or charge > 0 then
	if floor > tat then tat = floor end
	tat = tat + charge * T
	redis.call('SET', KEYS[1], tat, 'PX', math.ceil((tat - now) / 1000) + 1)
end
local new = tat + n * T
local wait = new - tau - now
if wait > maxwait then
	return {0, math.ceil(wait), math.floor(tat - tau - now), '', now}
end
redis.call('SET', KEYS[1], new, 'PX', math.ceil((new - now) / 1000) + 1)
if wait < 0 then wait = 0 end
return {1, math.ceil(wait), math.floor(new - tau - now), redis.call('GET', KEYS[1]), now}
`

// giveBackSrc gives the tokens of a grant back, if nothing has been taken
// since (the TAT is still the one it set) and it has not acted yet;
// otherwise nothing, so that no later grant can be moved earlier than the
// rate allows.
//
//	KEYS[1]  the limiter's key
//	ARGV[1]  the TAT the grant set
//	ARGV[2]  T
//	ARGV[3]  burst
//	ARGV[4]  n
//
// It returns {back, empty, now}: back 1 if it gave the tokens back, 0 if
// not; empty and now as gcraSrc returns them, after the call.
const giveBackSrc = `
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1577836800) * 1000000 + tonumber(t[2])
local T = tonumber(ARGV[2])
local tau = tonumber(ARGV[3]) * T
local cur = redis.call('GET', KEYS[1])
local tat = tonumber(cur) or now
if tat < now then tat = now end
local mine = tonumber(ARGV[1])
if cur ~= ARGV[1] or mine - tau <= now then
	return {0, math.floor(tat - tau - now), now}
end
local back = mine - tonumber(ARGV[4]) * T
if back <= now then
	redis.call('DEL', KEYS[1])
	back = now
else
	redis.call('SET', KEYS[1], back, 'PX', math.ceil((back - now) / 1000) + 1)
end
return {1, math.floor(back - tau - now), now}
`

var (
	gcraScript     = newScript(gcraSrc)
	giveBackScript = newScript(giveBackSrc)
)
