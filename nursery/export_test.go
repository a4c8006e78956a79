//go:build go1.25

package nursery

import (
	"io"
	"unsafe"
)

// SetStuckErrOutput makes the stuck report write to w when its logger
// panics, until the returned function restores standard error.
func SetStuckErrOutput(w io.Writer) (restore func()) {
	old := stuckErrOutput
	stuckErrOutput = w
	return func() { stuckErrOutput = old }
}

// TrackedConfigSize is the size of the allocation a tracked nursery makes
// for its options and its record in the tree.
const TrackedConfigSize = unsafe.Sizeof(trackedConfig{})
