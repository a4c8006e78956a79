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
//
// It returns {granted, wait, empty, tat}: granted 1 or 0; wait, the µs
// until the grant may act (rounded up; 0 now); empty, the µs from now at
// which the bucket was or will be empty after this call (rounded down,
// negative while it holds tokens), which a client adds n×T to for the time
// n tokens come; tat, the TAT this grant set, exactly as stored (Redis
// writes a number argument in its shortest exact form), to give the tokens
// back.
const gcraSrc = `
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1577836800) * 1000000 + tonumber(t[2])
local T = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local maxwait = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local tau = burst * T
local new = tat + n * T
local wait = new - tau - now
if wait > maxwait then
	return {0, math.ceil(wait), math.floor(tat - tau - now), ''}
end
redis.call('SET', KEYS[1], new, 'PX', math.ceil((new - now) / 1000) + 1)
if wait < 0 then wait = 0 end
return {1, math.ceil(wait), math.floor(new - tau - now), redis.call('GET', KEYS[1])}
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
// It returns 1 if it gave the tokens back, 0 if not.
const giveBackSrc = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1577836800) * 1000000 + tonumber(t[2])
local tat = tonumber(ARGV[1])
local T = tonumber(ARGV[2])
if tat - tonumber(ARGV[3]) * T <= now then return 0 end
local back = tat - tonumber(ARGV[4]) * T
if back <= now then
	redis.call('DEL', KEYS[1])
else
	redis.call('SET', KEYS[1], back, 'PX', math.ceil((back - now) / 1000) + 1)
end
return 1
`

var (
	gcraScript     = newScript(gcraSrc)
	giveBackScript = newScript(giveBackSrc)
)
