package redislimit_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit/redislimit"
)

// fakeRedis is a RESP server on loopback that plays a broken or hostile
// Redis (or a proxy before one): it answers the connection's handshake as
// an old Redis would, and every script call with what the test's reply
// function returns for it.
type fakeRedis struct {
	ln    net.Listener
	reply func(script string, args []string) any
	calls sync.Map // script name -> *atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// respError is an error reply ("-ERR ...") of the fake.
type respError string

// raw is RESP sent as it is, to send what no Redis sends.
type raw string

// startFake starts a fake Redis answering scripts with reply; it stops at
// the end of the test.
func startFake(t *testing.T, reply func(script string, args []string) any) *fakeRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRedis{ln: ln, reply: reply, conns: map[net.Conn]struct{}{}}
	f.wg.Go(f.accept)
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeRedis) addr() string { return f.ln.Addr().String() }

// client returns a client of f, as the package doc advises.
func (f *fakeRedis) client(t *testing.T) *redis.Client { return newClient(t, f.addr()) }

// count returns how many times script was called.
func (f *fakeRedis) count(script string) int64 {
	n, _ := f.calls.LoadOrStore(script, new(atomic.Int64))
	return n.(*atomic.Int64).Load()
}

func (f *fakeRedis) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns[c] = struct{}{}
		f.mu.Unlock()
		f.wg.Go(func() {
			defer c.Close()
			f.serve(c)
		})
	}
}

func (f *fakeRedis) serve(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		cmd, err := readCommand(r)
		if err != nil {
			return
		}
		var out any
		switch strings.ToUpper(cmd[0]) {
		case "HELLO":
			out = respError("ERR unknown command 'HELLO'")
		case "CLIENT":
			out = raw("+OK\r\n")
		case "PING":
			out = raw("+PONG\r\n")
		case "EVALSHA", "EVAL":
			name := ""
			if strings.ToUpper(cmd[0]) == "EVALSHA" {
				name = redislimit.ScriptName(cmd[1])
			}
			n, _ := f.calls.LoadOrStore(name, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			nkeys, _ := strconv.Atoi(cmd[2])
			out = f.reply(name, cmd[3+nkeys:])
		default:
			out = respError("ERR unknown command")
		}
		if _, err := io.WriteString(c, encode(out)); err != nil {
			return
		}
	}
}

// readCommand reads one command, an array of bulk strings.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("not an array: %q", line)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil {
		return nil, err
	}
	cmd := make([]string, n)
	for i := range cmd {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
		if err != nil {
			return nil, err
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		cmd[i] = string(buf[:size])
	}
	return cmd, nil
}

// encode writes v in RESP2: int64 and int as integers, string as a bulk
// string, []any as an array, nil as a nil bulk string, respError as an
// error, raw as it is.
func encode(v any) string {
	switch v := v.(type) {
	case nil:
		return "$-1\r\n"
	case int:
		return fmt.Sprintf(":%d\r\n", v)
	case int64:
		return fmt.Sprintf(":%d\r\n", v)
	case string:
		return fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)
	case respError:
		return "-" + string(v) + "\r\n"
	case raw:
		return string(v)
	case []any:
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(v))
		for _, e := range v {
			b.WriteString(encode(e))
		}
		return b.String()
	}
	panic(errors.New("encode: unknown type"))
}
