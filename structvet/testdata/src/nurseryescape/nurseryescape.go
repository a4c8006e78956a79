package nurseryescape

import (
	"context"

	"github.com/structured-go/structured/nursery"
)

type server struct{ n *nursery.Nursery }

var global *nursery.Nursery

func task(ctx context.Context) error { return nil }

func (s *server) run(ctx context.Context) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		s.n = n // want `^SV005: the \*nursery.Nursery escapes into s.n: once Run returns, Go on it panics; pass it down as an argument instead$`
		return nil
	})
}

func toGlobal(ctx context.Context) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		global = n // want `SV005: the \*nursery.Nursery escapes into the package variable global`
		return nil
	})
}

func captured(ctx context.Context) *nursery.Nursery {
	var kept *nursery.Nursery
	_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		kept = n // want `SV005: the \*nursery.Nursery escapes into the variable kept, declared outside this function`
		return nil
	})
	return kept // want `SV005: the \*nursery.Nursery is returned`
}

func sent(ctx context.Context, ch chan<- *nursery.Nursery) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		ch <- n // want `SV005: the \*nursery.Nursery is sent on a channel`
		return nil
	})
}

func wrapped(n *nursery.Nursery) *server {
	return &server{n: n} // want `SV005: the \*nursery.Nursery is returned`
}

func closure(ctx context.Context, spawn *func(func(context.Context) error)) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		*spawn = func(f func(context.Context) error) { n.Go(f) } // want `SV005: the \*nursery.Nursery escapes into \*spawn`
		return nil
	})
}

func appended(ctx context.Context, s *[]*nursery.Nursery) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		*s = append(*s, n) // want `SV005`
		return nil
	})
}

// Not reported: the nursery is passed down, kept in locals.
func passedDown(ctx context.Context) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		spawnAll(n)
		local := n
		w := &server{n: n}
		w.n.Go(task)
		local.Go(task)
		var m *nursery.Nursery
		m = n
		m.Go(task)
		spawn := func() { n.Go(task) }
		spawn()
		return nil
	})
}

func spawnAll(n *nursery.Nursery) {
	n.Go(task)
	n = nil
}
