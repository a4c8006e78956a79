//go:build go1.25

package asynciter_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/structured-go/structured/asynciter"
)

// The names and signatures of the design's contract, as its acceptance
// tests use them: this file fails to compile if one changes.
var (
	_ func(context.Context, func(context.Context, func(int) bool) error, ...asynciter.Option) iter.Seq2[int, error]                  = asynciter.Generate[int]
	_ func(context.Context, iter.Seq[int], func(context.Context, int) (string, error), ...asynciter.Option) iter.Seq2[string, error] = asynciter.Map[int, string]
	_ func(int) asynciter.Option                                                                                                     = asynciter.WithLimit
	_ func() asynciter.Option                                                                                                        = asynciter.WithUnordered
	_ func(int) asynciter.Option                                                                                                     = asynciter.WithBuffer
	_ func(context.Context, iter.Seq2[int, error], int, time.Duration) iter.Seq2[[]int, error]                                       = asynciter.Batch[int]
	_ func(context.Context, ...iter.Seq2[int, error]) iter.Seq2[int, error]                                                          = asynciter.Merge[int]
	_ func(int) (*asynciter.Sender[int], *asynciter.Receiver[int])                                                                   = asynciter.OpenChannel[int]
	_ func(*asynciter.Sender[int], context.Context, int) error                                                                       = (*asynciter.Sender[int]).Send
	_ func(*asynciter.Sender[int], int) error                                                                                        = (*asynciter.Sender[int]).TrySend
	_ func(*asynciter.Sender[int]) (*asynciter.Sender[int], error)                                                                   = (*asynciter.Sender[int]).Clone
	_ func(*asynciter.Sender[int]) error                                                                                             = (*asynciter.Sender[int]).Close
	_ func(*asynciter.Sender[int]) asynciter.ChannelStats                                                                            = (*asynciter.Sender[int]).Stats
	_ func(*asynciter.Receiver[int], context.Context) (int, error)                                                                   = (*asynciter.Receiver[int]).Recv
	_ func(*asynciter.Receiver[int]) (int, error)                                                                                    = (*asynciter.Receiver[int]).TryRecv
	_ func(*asynciter.Receiver[int]) (*asynciter.Receiver[int], error)                                                               = (*asynciter.Receiver[int]).Clone
	_ func(*asynciter.Receiver[int]) error                                                                                           = (*asynciter.Receiver[int]).Close
	_ func(*asynciter.Receiver[int], context.Context) iter.Seq2[int, error]                                                          = (*asynciter.Receiver[int]).All
	_ func(*asynciter.Receiver[int]) asynciter.ChannelStats                                                                          = (*asynciter.Receiver[int]).Stats
	_ func(int) *asynciter.Queue[int]                                                                                                = asynciter.NewQueue[int]
	_ func(*asynciter.Queue[int], context.Context, int) error                                                                        = (*asynciter.Queue[int]).Put
	_ func(*asynciter.Queue[int], context.Context) (int, error)                                                                      = (*asynciter.Queue[int]).Get
	_ func(*asynciter.Queue[int], int) error                                                                                         = (*asynciter.Queue[int]).TryPut
	_ func(*asynciter.Queue[int]) (int, error)                                                                                       = (*asynciter.Queue[int]).TryGet
	_ func(*asynciter.Queue[int]) int                                                                                                = (*asynciter.Queue[int]).Len
	_ func(*asynciter.Queue[int]) error                                                                                              = (*asynciter.Queue[int]).TaskDone
	_ func(*asynciter.Queue[int], context.Context) error                                                                             = (*asynciter.Queue[int]).Join
	_ func(*asynciter.Queue[int], bool)                                                                                              = (*asynciter.Queue[int]).Shutdown
	_                                                                                                                                = asynciter.ChannelStats{BufferUsed: 0, MaxBuffer: 0, OpenSenders: 0, OpenReceivers: 0, WaitingSenders: 0, WaitingReceivers: 0, PeakBufferUsed: 0}
	_                                                                                                                                = []error{asynciter.ErrWouldBlock, asynciter.ErrEndOfChannel, asynciter.ErrClosed, asynciter.ErrBroken, asynciter.ErrQueueShutDown, asynciter.ErrTaskDoneTooOften}
)

// Unbounded is -1, as the contract fixes it.
func TestUnboundedIsMinusOne(t *testing.T) {
	if asynciter.Unbounded != -1 {
		t.Fatalf("Unbounded = %d, want -1", asynciter.Unbounded)
	}
}
