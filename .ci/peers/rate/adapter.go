// Package rate puts package ratelimit under the names of
// golang.org/x/time/rate, so that x/time/rate's own tests can run against
// it (see .ci/peers). Besides the exported names, which ratelimit has, it
// gives the tests the one unexported method they call, reserveN.
package rate

import (
	"time"

	"github.com/structured-go/structured/ratelimit"
)

type (
	Limit     = ratelimit.Limit
	Limiter   = ratelimit.Limiter
	Sometimes = ratelimit.Sometimes
)

const (
	Inf         = ratelimit.Inf
	InfDuration = ratelimit.InfDuration
)

func Every(interval time.Duration) Limit { return ratelimit.Every(interval) }

func NewLimiter(r Limit, b int) *Limiter { return ratelimit.NewLimiter(r, b) }

// Reservation is a ratelimit.Reservation with the two fields of
// x/time/rate's that the tests read.
type Reservation struct {
	*ratelimit.Reservation
	ok        bool
	timeToAct time.Time
}

// reserveN is x/time/rate's unexported Limiter.reserveN(t, n,
// maxFutureReserve): ReserveNAt(t, n), cancelled at t if it would act more
// than maxFutureReserve after t. Being the latest reservation, it gives all
// its tokens back.
func reserveN(lim *Limiter, t time.Time, n int, maxFutureReserve time.Duration) Reservation {
	r := lim.ReserveNAt(t, n)
	if !r.OK() || r.DelayFrom(t) > maxFutureReserve {
		r.CancelAt(t)
		return Reservation{Reservation: r}
	}
	return Reservation{Reservation: r, ok: true, timeToAct: t.Add(r.DelayFrom(t))}
}
