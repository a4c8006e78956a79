package redislimit

import "time"

// SetClock makes l read its local clock from now: a test plays a replica
// whose clock is off, or moves a replica's clock by hand.
func SetClock(l *Limiter, now func() time.Time) { l.clock = now }

// TrustFor is how long an answer may be used to refuse without Redis.
const TrustFor = trustFor

// MinPoll is the shortest time between two polls of a Semaphore.
const MinPoll = minPoll

// ScriptName names the script whose SHA1 is sha, for a fake Redis: "gcra",
// "giveBack", "acquire", "poll", "renew", "release", or "".
func ScriptName(sha string) string {
	for name, s := range map[string]*script{
		"gcra": gcraScript, "giveBack": giveBackScript,
		"acquire": acquireScript, "poll": pollScript, "renew": renewScript, "release": releaseScript,
	} {
		if s.hash == sha {
			return name
		}
	}
	return ""
}

// DownFor is how long after a failure a Limiter answers by its policy
// without asking Redis.
const DownFor = downFor

// LocalTokens returns the tokens of l's FailLocal limiter now.
func LocalTokens(l *Limiter) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.local.Tokens()
}
