package asynciter

import (
	"context"

	"github.com/structured-go/structured/nursery"
)

// Settled turns fn into a function that never fails: it returns fn's
// value and error together as a nursery.Result, and a nil error. Given to
// Map or MapStream, it makes a stream that carries fn's errors as items
// and goes on past them, as conc's stream and rill's Try do, where an error
// of fn would end the stream:
//
//	for r, err := range asynciter.Map(ctx, urls, asynciter.Settled(fetch)) {
//		if err != nil {
//			return err // ctx ended, or the input failed: the stream is over
//		}
//		if r.Err != nil {
//			log.Print(r.Err) // this item failed; the others go on
//			continue
//		}
//		use(r.Value)
//	}
//
// The stream's own error, its last pair, is then only ever the end of ctx
// or an error of the input. A call that ctx cut short comes as an item
// whose Err is ctx's error, before the stream ends with it. A panic of fn
// is not a value: it goes up as Map says. Settled panics if fn is nil.
func Settled[T, U any](fn func(context.Context, T) (U, error)) func(context.Context, T) (nursery.Result[U], error) {
	if fn == nil {
		panic("asynciter: Settled called with a nil function")
	}
	return func(ctx context.Context, v T) (nursery.Result[U], error) {
		u, err := fn(ctx, v)
		return nursery.Result[U]{Value: u, Err: err}, nil
	}
}
