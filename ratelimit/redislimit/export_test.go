package redislimit

import "time"

// SetClock makes l read its local clock from now: a test plays a replica
// whose clock is off.
func SetClock(l *Limiter, now func() time.Time) { l.clock = now }
