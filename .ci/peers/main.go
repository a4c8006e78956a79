// Command peers runs the peers' own test suites against this module: the
// tests of golang.org/x/time/rate and golang.org/x/sync/semaphore, at pinned
// versions, against package ratelimit, and those of golang.org/x/sync/errgroup
// against package nursery, through a thin adapter. .ci/run runs it from the
// repository's root:
//
//	go run ./.ci/peers [-keep] [peer ...]
//
// For each peer it downloads the peer's module through the Go module proxy
// (go mod download), copies the peer package's test files into a package
// of a temporary module that requires this one (with a replace to this
// working tree), adds the adapter files of .ci/peers/<peer>/ if there are
// any, applies the edits of .ci/peers/<peer>.edits, and runs go test -race
// there. Nothing of the peers is kept, in the repository or after the run.
//
// The peer's tests are the judge: the run fails if a test fails that the
// peer's section of its list of failures does not name, if a test the list
// names passes, or if the tests do not build. A list is a Markdown file
// with a section per peer, "## <peer>: ...", whose failures are the lines
// "- TestName: why".
//
// An edits file is a list of edits, applied in order; each must apply, so
// that a new version of the peer that moves the lines it edits stops the
// run instead of running something else. An edit starts with a line
//
//	edit <file> [all]
//
// followed by the lines to find, each after "-", and the lines that take
// their place, each after "+" (the rest of the line verbatim, tabs
// included; a single line to find may be part of a line). With no lines
// after "+", the lines found are deleted. The lines to find must occur once
// in the file, or, with "all", at least once, and every occurrence is
// replaced. Blank lines and
// lines starting with "#" between edits are comments.
//
// To add a peer (errgroup against nursery, say), add it to peers below,
// with its edits file, adapters if it needs any, and a section in a list of
// failures that the package's doc links to.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// A peer is a package whose own tests run against this module.
type peer struct {
	name    string // the package's name, its section in the list, and the names of its edits and adapters
	module  string // the module it is in
	version string // pinned
	dir     string // the package's directory in the module
	list    string // the file of allowed failures, from the repository's root
}

var peers = []peer{
	{name: "rate", module: "golang.org/x/time", version: "v0.15.0", dir: "rate", list: "ratelimit/PEERS.md"},
	{name: "semaphore", module: "golang.org/x/sync", version: "v0.22.0", dir: "semaphore", list: "ratelimit/PEERS.md"},
	{name: "errgroup", module: "golang.org/x/sync", version: "v0.22.0", dir: "errgroup", list: "nursery/PEERS.md"},
}

// thisModule is the module path of the repository.
const thisModule = "github.com/structured-go/structured"

func main() {
	keep := flag.Bool("keep", false, "keep the temporary module, and print where it is")
	flag.Parse()
	root, err := os.Getwd()
	if err != nil {
		fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".ci", "peers")); err != nil {
		fatal(errors.New("run from the repository's root: go run ./.ci/peers"))
	}
	chosen := peers
	if flag.NArg() > 0 {
		chosen = nil
		for _, name := range flag.Args() {
			i := slices.IndexFunc(peers, func(p peer) bool { return p.name == name })
			if i < 0 {
				fatal(fmt.Errorf("no peer %q", name))
			}
			chosen = append(chosen, peers[i])
		}
	}
	tmp, err := os.MkdirTemp("", "peers-")
	if err != nil {
		fatal(err)
	}
	if *keep {
		fmt.Println("the temporary module:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	failed := false
	for _, p := range chosen {
		if err := run(root, tmp, p); err != nil {
			fmt.Printf("%s: FAIL: %v\n", p.name, err)
			failed = true
		}
	}
	if failed {
		if !*keep {
			os.RemoveAll(tmp)
		}
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "peers:", err)
	os.Exit(1)
}

// run runs one peer's tests in the temporary module tmp.
func run(root, tmp string, p peer) error {
	src, err := download(tmp, p.module+"@"+p.version)
	if err != nil {
		return err
	}
	dst := filepath.Join(tmp, "mod", p.name)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	tests, err := filepath.Glob(filepath.Join(src, p.dir, "*_test.go"))
	if err != nil || len(tests) == 0 {
		return fmt.Errorf("no test files in %s/%s@%s: %v", p.module, p.dir, p.version, err)
	}
	for _, f := range tests {
		if err := copyFile(f, filepath.Join(dst, filepath.Base(f))); err != nil {
			return err
		}
	}
	adapters, _ := filepath.Glob(filepath.Join(root, ".ci", "peers", p.name, "*.go"))
	for _, f := range adapters {
		if err := copyFile(f, filepath.Join(dst, filepath.Base(f))); err != nil {
			return err
		}
	}
	if err := applyEdits(filepath.Join(root, ".ci", "peers", p.name+".edits"), dst); err != nil {
		return err
	}
	gomod := fmt.Sprintf("module peers\n\ngo 1.25\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", thisModule, thisModule, root)
	if err := os.WriteFile(filepath.Join(tmp, "mod", "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	if out, err := goCmd(filepath.Join(tmp, "mod"), "mod", "tidy"); err != nil {
		return fmt.Errorf("go mod tidy: %v\n%s", err, out)
	}
	allowed, err := readList(filepath.Join(root, p.list), p.name)
	if err != nil {
		return err
	}
	results, out, err := goTest(filepath.Join(tmp, "mod"), "./"+p.name)
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	var unexpected, stale []string
	pass := 0
	for _, name := range sortedKeys(results) {
		switch ok := results[name]; {
		case ok && allowed[name] != "":
			stale = append(stale, name)
		case ok:
			pass++
		case allowed[name] == "":
			unexpected = append(unexpected, name)
		}
	}
	var missing []string
	for name := range allowed {
		if _, ok := results[name]; !ok {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	fmt.Printf("%s (%s@%s): %d tests: %d pass, %d fail as %s lists\n",
		p.name, p.module, p.version, len(results), pass, len(results)-pass-len(unexpected)-len(stale), p.list)
	var problems []string
	if len(unexpected) > 0 {
		problems = append(problems, fmt.Sprintf("failed, and %s does not list them: %s", p.list, strings.Join(unexpected, ", ")))
	}
	if len(stale) > 0 {
		problems = append(problems, fmt.Sprintf("passed, and %s lists them as failing: %s", p.list, strings.Join(stale, ", ")))
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%s lists tests that did not run: %s", p.list, strings.Join(missing, ", ")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\n%s", strings.Join(problems, "\n"), out)
	}
	return nil
}

// download fetches module@version through the module proxy, into the module
// cache, and returns its directory there.
func download(tmp, modVersion string) (string, error) {
	out, err := goCmd(tmp, "mod", "download", "-json", modVersion)
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %v\n%s", modVersion, err, out)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %v %s\n%s", modVersion, err, info.Error, out)
	}
	return info.Dir, nil
}

func goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	return cmd.CombinedOutput()
}

// goTest runs the tests of pkg under -race and returns whether each test
// passed, by its top-level name, and the output of those that failed.
func goTest(dir, pkg string) (map[string]bool, string, error) {
	cmd := exec.Command("go", "test", "-race", "-count=1", "-timeout=10m", "-json", pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	results := map[string]bool{}
	outputs := map[string]*strings.Builder{}
	var pkgOutput strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev.Test == "" {
			if ev.Action == "output" {
				pkgOutput.WriteString(ev.Output)
			}
			continue
		}
		top, _, _ := strings.Cut(ev.Test, "/")
		switch ev.Action {
		case "output":
			if outputs[top] == nil {
				outputs[top] = &strings.Builder{}
			}
			outputs[top].WriteString(ev.Output)
		case "pass", "skip":
			if ev.Test == top {
				results[top] = true
			}
		case "fail":
			results[top] = false
		}
	}
	if len(results) == 0 {
		return nil, pkgOutput.String() + stderr.String(), fmt.Errorf("no test ran (go test: %v)", err)
	}
	var failures strings.Builder
	for _, name := range sortedKeys(results) {
		if !results[name] && outputs[name] != nil {
			failures.WriteString(outputs[name].String())
		}
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, stderr.String(), err
	}
	return results, failures.String() + stderr.String(), nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readList returns the failures that the section of peer lists in the
// Markdown file at path: test name -> why.
func readList(path, peer string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	allowed := map[string]string{}
	in, found := false, false
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "## "), ":")
			in = strings.TrimSpace(name) == peer
			found = found || in
			continue
		}
		if !in || !strings.HasPrefix(line, "- ") {
			continue
		}
		name, why, ok := strings.Cut(strings.TrimPrefix(line, "- "), ": ")
		name = strings.Trim(name, "`")
		if !ok || !strings.HasPrefix(name, "Test") && !strings.HasPrefix(name, "Example") || strings.TrimSpace(why) == "" {
			return nil, fmt.Errorf("%s:%d: a failure is listed as \"- TestName: why\"", path, i+1)
		}
		allowed[name] = why
	}
	if !found {
		return nil, fmt.Errorf("%s has no section \"## %s: ...\"", path, peer)
	}
	return allowed, nil
}

// applyEdits applies the edits of the file at path to the files in dir.
func applyEdits(path, dir string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // no edits
		}
		return err
	}
	type edit struct {
		line     int
		file     string
		all      bool
		old, new []string
	}
	var edits []*edit
	var cur *edit
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "edit "):
			f := strings.Fields(line)
			if len(f) < 2 || len(f) > 3 || (len(f) == 3 && f[2] != "all") {
				return fmt.Errorf("%s:%d: want \"edit <file> [all]\"", path, i+1)
			}
			cur = &edit{line: i + 1, file: f[1], all: len(f) == 3}
			edits = append(edits, cur)
		case strings.HasPrefix(line, "-") && cur != nil && len(cur.new) == 0:
			cur.old = append(cur.old, line[1:])
		case strings.HasPrefix(line, "+") && cur != nil:
			cur.new = append(cur.new, line[1:])
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
			cur = nil
		default:
			return fmt.Errorf("%s:%d: neither an edit, a line to find (-), a line to put (+), nor a comment", path, i+1)
		}
	}
	for _, e := range edits {
		if len(e.old) == 0 {
			return fmt.Errorf("%s:%d: an edit with no lines to find", path, e.line)
		}
		target := filepath.Join(dir, e.file)
		src, err := os.ReadFile(target)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", path, e.line, err)
		}
		old, new := strings.Join(e.old, "\n"), strings.Join(e.new, "\n")
		if len(e.new) == 0 {
			old += "\n" // delete the lines, ends included
		}
		n := strings.Count(string(src), old)
		if n == 0 || (n > 1 && !e.all) {
			return fmt.Errorf("%s:%d: the lines to find occur %d times in %s, want %s", path, e.line, n, e.file,
				map[bool]string{true: "at least once", false: "once"}[e.all])
		}
		if err := os.WriteFile(target, []byte(strings.ReplaceAll(string(src), old, new)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
