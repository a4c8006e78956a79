// Package cancel is a stand-in with the signatures of the real one.
package cancel

import (
	"context"
	"time"
)

type Scope struct{}

func New() *Scope { return &Scope{} }

func (s *Scope) Run(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }

func Sleep(ctx context.Context, d time.Duration) error { return nil }
