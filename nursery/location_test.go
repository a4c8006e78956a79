//go:build go1.25

package nursery

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

func locA(context.Context) error { return nil }
func locB(context.Context) error { return nil }
func locC(context.Context) error { return nil }
func locD(context.Context) error { return nil }

// location answers from its table of recent answers only for the function
// asked: functions whose entries share a slot, asked in turns from several
// goroutines, each get their own name and place.
func TestLocationOfFunctionsSharingASlot(t *testing.T) {
	fns := []func(context.Context) error{locA, locB, locC, locD}
	var pcs []uintptr
	for _, fn := range fns {
		pcs = append(pcs, funcPC(fn))
	}
	// Entries in one slot: pc and pc + 16*len(recent) collide. Ask for
	// made-up entries in the slots of the real ones first, so that every
	// real one finds its slot taken by another.
	for _, pc := range pcs {
		other := pc + 16*uintptr(len(locations.recent))
		if (other>>4)%uintptr(len(locations.recent)) != (pc>>4)%uintptr(len(locations.recent)) {
			t.Fatal("the made-up entry is not in the same slot")
		}
		location(other)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := (g + i) % len(pcs)
				pc := pcs[k]
				if i%3 == 0 {
					pc += 16 * uintptr(len(locations.recent)) // the slot's other tenant
					location(pc)
					continue
				}
				f := runtime.FuncForPC(pc)
				wantFile, wantLine := f.FileLine(pc)
				fn, file, line := location(pc)
				if fn != f.Name() || file != wantFile || line != wantLine {
					t.Errorf("location of %s = %s %s:%d, want %s:%d", f.Name(), fn, file, line, wantFile, wantLine)
					return
				}
			}
		})
	}
	wg.Wait()
}
