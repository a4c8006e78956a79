// Package redistest runs a real redis-server on a loopback port, for tests
// and examples that need one: it starts the server, waits until it answers,
// and can kill it, restart it on the same port, or pause it to play a server
// that has stopped answering.
//
// The server keeps nothing on disk (--save "" --appendonly no): a restart
// starts empty, as a crashed Redis without persistence does.
//
// # Rules
//
// redis-server must be on PATH; if it is not, Start fails with an error
// saying how to install it. A Server's methods are safe for concurrent use.
// Whoever starts a Server must Close it: the server is a separate process,
// which outlives the test binary if left running. A Server starts no
// goroutine.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is wrapped by the error of Start when redis-server is not
// on PATH.
var ErrNotInstalled = errors.New("redistest: redis-server is not installed (on Debian or Ubuntu: apt-get install -y redis-server)")

// startTimeout bounds how long Start and Restart wait for the server to
// answer PING.
const startTimeout = 10 * time.Second

// A Server is one redis-server process on 127.0.0.1.
type Server struct {
	mu     sync.Mutex
	path   string
	port   int
	cmd    *exec.Cmd // nil while killed
	paused bool
	log    *os.File
}

// Start starts redis-server on a free loopback port and returns once it
// answers PING. It fails with an error wrapping ErrNotInstalled if
// redis-server is not on PATH.
func Start() (*Server, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotInstalled, err)
	}
	log, err := os.CreateTemp("", "redistest-*.log")
	if err != nil {
		return nil, fmt.Errorf("redistest: the server's log: %w", err)
	}
	s := &Server{path: path, log: log}
	// The port is free when we look, and may be taken before the server
	// binds it: try a few.
	var last error
	for range 5 {
		port, err := freePort()
		if err != nil {
			last = err
			continue
		}
		s.port = port
		if last = s.start(); last == nil {
			return s, nil
		}
	}
	log.Close()
	os.Remove(log.Name())
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server on s.port and waits for its PONG. It must be called
// with mu held (or before s is shared).
func (s *Server) start() error {
	cmd := exec.Command(s.path,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--protected-mode", "yes",
	)
	// Files, not pipes: exec copies nothing, so no goroutine runs for it.
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: starting %s: %w", s.path, err)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		err := ping(s.Addr())
		if err == nil {
			s.cmd = cmd
			return nil
		}
		if time.Now().After(deadline) || exited(cmd) {
			cmd.Process.Kill()
			cmd.Wait()
			return fmt.Errorf("redistest: redis-server on port %d did not answer PING (see %s): %w", s.port, s.log.Name(), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exited reports whether the process has already ended (it could not bind
// its port, say), reaping it if so.
func exited(cmd *exec.Cmd) bool {
	var ws syscall.WaitStatus
	pid, err := syscall.Wait4(cmd.Process.Pid, &ws, syscall.WNOHANG, nil)
	return err == nil && pid == cmd.Process.Pid
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// Addr returns the server's address, 127.0.0.1:port; it stays the same
// across Kill and Restart.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Kill kills the server (SIGKILL) and waits for it to exit: its clients see
// their connections reset and new ones refused, and everything it held is
// lost. Killing a killed server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kill()
}

func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill() // a stopped process dies of SIGKILL too
	s.cmd.Wait()
	s.cmd, s.paused = nil, false
}

// Restart starts a killed server again on the same port, empty, and returns
// once it answers PING. Restarting a running server kills it first.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kill()
	var err error
	// The port was ours a moment ago; another process may take it in
	// between, which no retry can help, but a slow exit can.
	for range 3 {
		if err = s.start(); err == nil {
			return nil
		}
	}
	return err
}

// Pause stops the server (SIGSTOP) without closing anything: connections
// stay open and new ones are accepted by the kernel, but nothing is
// answered, as with a server stalled by a long command or a swapping host.
// Resume makes it go on.
func (s *Server) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("redistest: Pause: the server is not running")
	}
	s.paused = true
	return s.cmd.Process.Signal(syscall.SIGSTOP)
}

// Resume makes a paused server go on (SIGCONT).
func (s *Server) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("redistest: Resume: the server is not running")
	}
	s.paused = false
	return s.cmd.Process.Signal(syscall.SIGCONT)
}

// Close kills the server and removes its log. Close is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kill()
	if s.log != nil {
		s.log.Close()
		os.Remove(s.log.Name())
		s.log = nil
	}
}
