package timeout

// An Option configures a timeout.
type Option interface {
	apply(*config)
}

type config struct {
	shield bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithShield runs the work shielded from the parent's cancellation and
// deadline: only the timeout's own deadline ends it. Use it for cleanup that
// must run, for a bounded time, after the work around it was cancelled (trio's
// move_on_after(..., shield=True)).
func WithShield() Option {
	return optionFunc(func(c *config) { c.shield = true })
}

func parseOptions(opts []Option, name string) config {
	var c config
	for _, o := range opts {
		if o == nil {
			panic("timeout: " + name + " called with a nil Option")
		}
		o.apply(&c)
	}
	return c
}
