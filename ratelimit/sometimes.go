package ratelimit

import (
	"sync"
	"time"
)

// Sometimes runs a function now and then: to log a frequent event without
// flooding the log, say. It is golang.org/x/time/rate's Sometimes, with the
// same fields and the same behaviour, so that moving from it is a change of
// import.
//
// Do runs its function on the first call, and on later ones if any of the
// fields that are set allows it: the first First calls, every Every-th call
// (the first, the 1+Every-th, ...), and any call made once Interval has
// passed since the function last returned. The zero Sometimes runs the
// function once, on the first call.
//
// A Sometimes must not be copied after first use. Its Do is safe for
// concurrent use: calls run one at a time, each waiting for the function
// that another is running to return; so the function must not call Do on
// the same Sometimes, which would wait for ever.
type Sometimes struct {
	First    int           // if not 0, the first First calls run the function
	Every    int           // if not 0, every Every-th call runs it, from the first
	Interval time.Duration // if not 0, a call runs it if Interval has passed since it last ran

	mu    sync.Mutex
	calls int       // the calls to Do so far
	last  time.Time // when the function last returned
}

// Do runs f if the fields of s allow this call to, as the type's doc says,
// and returns when f has. If f panics, the call does not count, and the
// panic goes on. Do panics if f is nil.
func (s *Sometimes) Do(f func()) {
	if f == nil {
		panic("ratelimit: Sometimes.Do called with a nil function")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.calls == 0 ||
		(s.First > 0 && s.calls < s.First) ||
		(s.Every > 0 && s.calls%s.Every == 0) ||
		(s.Interval > 0 && time.Since(s.last) >= s.Interval)
	if run {
		f()
		if s.Interval > 0 {
			s.last = time.Now()
		}
	}
	s.calls++
}
