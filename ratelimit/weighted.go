package ratelimit

// Weighted is Semaphore under the name golang.org/x/sync/semaphore gives
// it, so that moving from that package is a change of import: its
// programs, and its own tests, work unchanged with
//
//	import semaphore "github.com/structured-go/structured/ratelimit"
//
// A Semaphore differs in two ways that such programs do not notice unless
// they count on the difference: a request larger than the capacity fails
// at once with ErrExceedsCapacity instead of waiting until its context
// ends, and the capacity can be changed (Resize).
type Weighted = Semaphore

// NewWeighted is NewSemaphore, under golang.org/x/sync/semaphore's name.
func NewWeighted(n int64) *Weighted { return NewSemaphore(n) }
