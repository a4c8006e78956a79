//go:build go1.25 && unix

package nursery_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/structured-go/structured/nursery"
)

const signalHelperEnv = "NURSERY_SIGNAL_HELPER"

// The first signal cancels the whole nursery, with a cause naming it, and
// Run returns that cause.
func TestSignalCancelsNursery(t *testing.T) {
	var mu sync.Mutex
	var causes []error
	ready := make(chan struct{}, 2)
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 2 {
			n.Go(func(ctx context.Context) error {
				ready <- struct{}{}
				<-ctx.Done()
				mu.Lock()
				defer mu.Unlock()
				causes = append(causes, context.Cause(ctx))
				return ctx.Err()
			})
		}
		<-ready
		<-ready
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
			return err
		}
		<-ctx.Done()
		return context.Cause(ctx)
	}, nursery.WithSignals(syscall.SIGUSR1))
	var se *nursery.SignalError
	if !errors.As(err, &se) || se.Signal != syscall.SIGUSR1 {
		t.Fatalf("Run() = %v, want *SignalError{SIGUSR1}", err)
	}
	if !strings.Contains(err.Error(), "user defined signal 1") {
		t.Fatalf("the error does not name the signal: %q", err)
	}
	if len(causes) != 2 {
		t.Fatalf("%d tasks saw the cancellation, want 2", len(causes))
	}
	for _, c := range causes {
		if c != err {
			t.Fatalf("a task saw cause %v, want the signal", c)
		}
	}
}

// A real error wins over the signal.
func TestSignalRealErrorWins(t *testing.T) {
	errBoom := errors.New("boom")
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
			return err
		}
		<-ctx.Done()
		return errBoom
	}, nursery.WithSignals(syscall.SIGUSR1))
	if err != errBoom {
		t.Fatalf("Run() = %v, want errBoom", err)
	}
}

// The second signal gets the default action: a shutdown that hangs can be
// interrupted. The nursery runs in a child process (see TestMain).
func TestSignalSecondEndsProcess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), signalHelperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			_ = cmd.Process.Kill()
			t.Fatalf("child said %q, want %q", lines.Text(), want)
		}
	}
	expect("ready")
	_ = cmd.Process.Signal(os.Interrupt)
	expect("cancelled: nursery: received interrupt")
	_ = cmd.Process.Signal(os.Interrupt)

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("child ended with %v, want death by SIGINT", err)
		}
		if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
			t.Fatalf("child ended with %v, want death by SIGINT", err)
		}
	case <-time.After(time.Minute): // a bound on a process, not a timing claim
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("the second SIGINT did not end the child")
	}
}

// signalHelper is the child: a nursery whose shutdown hangs.
func signalHelper() {
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			fmt.Println("cancelled:", context.Cause(ctx))
			select {} // a cleanup that never ends
		})
		fmt.Println("ready")
		return nil
	}, nursery.WithSignals())
	fmt.Println("Run returned")
	os.Exit(3)
}

// The tasks' echoes of the signal's cancellation, wrapped or not, leave the
// *SignalError as Run's error, and it matches context.Canceled.
func TestSignalWithWrappedEchoes(t *testing.T) {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("serve: %w", ctx.Err())
		})
		return syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}, nursery.WithSignals())
	var se *nursery.SignalError
	if !errors.As(err, &se) || se.Signal != syscall.SIGTERM || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v, want the *SignalError, matching context.Canceled", err)
	}
}
