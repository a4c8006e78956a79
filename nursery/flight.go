//go:build go1.25

package nursery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/trace"
	"sync"
	"time"
)

// flightWindow is how long a snapshot stands for the stuck reports that
// follow it: the flight recorder's default MinAge, the seconds a snapshot
// holds.
const flightWindow = 10 * time.Second

// WithStuckTrace makes the stuck report (WithStuckReport, which it needs)
// write a snapshot of the program's flight recorder, fr, to a file in dir
// when it fires, and name the file in the same log record (the attribute
// "trace"; "trace_error" if it could not be written): the seconds of
// execution trace before the Run was reported, with the stuck tasks' open
// regions and what their goroutines blocked on (see runtime/trace: while
// the recorder runs, every Run is a trace task and every task a region).
// Open it with go tool trace.
//
// The nursery never starts a recorder (a process may run only one): start
// fr yourself, and keep it running. If it is not running when the report
// fires, no snapshot is written. Stuck reports within 10 seconds of a
// snapshot, concurrent ones among them, name the same file rather than
// write another. WithStuckTrace panics if fr is nil or dir is empty; Run
// panics if it is given without WithStuckReport.
func WithStuckTrace(fr *trace.FlightRecorder, dir string) Option {
	if fr == nil {
		panic("nursery: WithStuckTrace(nil, ...): a *trace.FlightRecorder is needed")
	}
	if dir == "" {
		panic("nursery: WithStuckTrace(fr, \"\"): a directory is needed")
	}
	s := flightFor(fr, dir)
	return optionFunc(func(c *config) { c.stuckTrace = s })
}

// A flightSink writes the snapshots of one recorder to one directory.
type flightSink struct {
	fr  *trace.FlightRecorder
	dir string

	mu   sync.Mutex
	file string // the last snapshot
	at   time.Time
	err  error
}

// flightSinks holds one sink per recorder and directory, so that the stuck
// reports of every Run share its window.
var flightSinks struct {
	mu    sync.Mutex
	sinks map[flightKey]*flightSink
}

type flightKey struct {
	fr  *trace.FlightRecorder
	dir string
}

func flightFor(fr *trace.FlightRecorder, dir string) *flightSink {
	flightSinks.mu.Lock()
	defer flightSinks.mu.Unlock()
	if flightSinks.sinks == nil {
		flightSinks.sinks = map[flightKey]*flightSink{}
	}
	k := flightKey{fr, dir}
	s := flightSinks.sinks[k]
	if s == nil {
		s = &flightSink{fr: fr, dir: dir}
		flightSinks.sinks[k] = s
	}
	return s
}

func (s *flightSink) snapshot() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if !s.at.IsZero() && now.Sub(s.at) < flightWindow {
		return s.file, s.err
	}
	if !s.fr.Enabled() {
		return "", errors.New("nursery: the flight recorder is not running")
	}
	name := filepath.Join(s.dir, fmt.Sprintf("nursery-stuck-%d-%s.trace", os.Getpid(), now.UTC().Format("20060102T150405.000")))
	s.file, s.at, s.err = name, now, writeSnapshot(s.fr, name)
	return s.file, s.err
}

func writeSnapshot(fr *trace.FlightRecorder, name string) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("nursery: the stuck trace: %w", err)
	}
	_, err = fr.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("nursery: the stuck trace: %w", err)
	}
	return nil
}
