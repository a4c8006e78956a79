package structvet

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
)

// The rules look at one function at a time; what they need to know about
// the functions it calls, in its own package or another, comes from facts:
// a go/analysis fact per function, computed from its body where it is
// declared and read wherever it is called.

// funcFact is what the callers of a function need to know about it. Indices
// count the parameters, or the results, from 0, the receiver aside.
type funcFact struct {
	// Starts holds the parameters that are groups on which the function
	// starts goroutines (Go, Add) without waiting for them: calling it
	// starts goroutines on the caller's group.
	Starts []int
	// Waits holds the parameters that are groups the function waits on.
	Waits []int
	// Spawns holds the results that are channels a goroutine started by
	// the function signals (sends on, closes), which the function does not
	// wait on: the caller receives the goroutine with the channel.
	Spawns []int
	// SpawnEnds holds the results of Spawns that the goroutine signals as
	// its last act (a close, or a send that ends it): a receive from one
	// of them waits for its end; a receive from another may not.
	SpawnEnds []int
	// IgnoresCtx holds the context parameters whose cancellation the
	// function never uses: it does not use them, or only reads their
	// values (ctx.Value), or passes them to functions that ignore them.
	IgnoresCtx []int
	// JoinedBy, for a method, names the other methods of its receiver's
	// type that wait for what this one leaves running: a field of the receiver
	// that the method signals when it ends (close, Done) or on which it
	// starts goroutines (Add, Go), and that the other method waits on (Wait,
	// a receive, a loop polling a flag). srv.Exit waits for srv.Main's
	// goroutines, http.Server.Shutdown for Serve's listener.
	JoinedBy []string
	// Relays holds pairs of channel parameters (i, j), flattened: the
	// function closes j only once it, or goroutines it waits on before the
	// close, have read i to its end. A pool of workers that range over in
	// and a goroutine that closes out after their Wait relays in's end to
	// out.
	Relays []int
}

func (*funcFact) AFact() {}

func (f *funcFact) String() string {
	var parts []string
	add := func(name string, xs []int) {
		if len(xs) > 0 {
			parts = append(parts, fmt.Sprintf("%s%v", name, xs))
		}
	}
	add("starts", f.Starts)
	add("waits", f.Waits)
	add("spawns", f.Spawns)
	add("spawnEnds", f.SpawnEnds)
	add("ignoresCtx", f.IgnoresCtx)
	if len(f.JoinedBy) > 0 {
		parts = append(parts, "joinedBy("+strings.Join(f.JoinedBy, ",")+")")
	}
	add("relays", f.Relays)
	return strings.Join(parts, " ")
}

func (f *funcFact) empty() bool {
	return len(f.Starts) == 0 && len(f.Waits) == 0 && len(f.Spawns) == 0 && len(f.IgnoresCtx) == 0 && len(f.JoinedBy) == 0 && len(f.Relays) == 0
}

// factSet looks up the facts of functions, of this package and of those it
// imports.
type factSet struct {
	importFact func(types.Object, analysis.Fact) bool
	local      map[*types.Func]*funcFact
}

// of returns the facts of fn (empty ones if none are known).
func (s *factSet) of(fn *types.Func) *funcFact {
	if s == nil || fn == nil {
		return &funcFact{}
	}
	fn = fn.Origin()
	if f, ok := s.local[fn]; ok {
		return f
	}
	var f funcFact
	if fn.Pkg() != nil && s.importFact != nil {
		s.importFact(fn, &f)
	}
	return &f
}

// call returns the facts of the function that call calls, and the
// parameter index of each argument (-1 for none: the variadic tail).
func (s *factSet) call(info *types.Info, call *ast.CallExpr) (*funcFact, *types.Func) {
	fn := callee(info, call)
	if fn == nil {
		return &funcFact{}, nil
	}
	return s.of(fn), fn
}

// argAt reports whether the argument at index i of call is parameter p of
// the callee (variadic parameters are not followed).
func argAt(fn *types.Func, call *ast.CallExpr, i int) (int, bool) {
	sig, ok := fn.Type().(*types.Signature)
	if !ok || call.Ellipsis.IsValid() || i >= sig.Params().Len() || (sig.Variadic() && i >= sig.Params().Len()-1) {
		return 0, false
	}
	return i, true
}

// argsFor returns the parameter indices of call's callee at which the
// variable v is passed.
func argsFor(info *types.Info, fn *types.Func, call *ast.CallExpr, v *types.Var) []int {
	var out []int
	for i, a := range call.Args {
		if varOf(info, a) != v {
			continue
		}
		if p, ok := argAt(fn, call, i); ok {
			out = append(out, p)
		}
	}
	return out
}

// helperStarts reports whether call hands the group v to a function that
// starts goroutines on it.
func (s *factSet) helperStarts(info *types.Info, call *ast.CallExpr, v *types.Var) bool {
	f, fn := s.call(info, call)
	if fn == nil || len(f.Starts) == 0 {
		return false
	}
	for _, p := range argsFor(info, fn, call, v) {
		if slices.Contains(f.Starts, p) {
			return true
		}
	}
	return false
}

// helperWaits reports whether call hands the group v to a function that
// waits on it.
func (s *factSet) helperWaits(info *types.Info, call *ast.CallExpr, v *types.Var) bool {
	f, fn := s.call(info, call)
	if fn == nil || len(f.Waits) == 0 {
		return false
	}
	for _, p := range argsFor(info, fn, call, v) {
		if slices.Contains(f.Waits, p) {
			return true
		}
	}
	return false
}

// ignoresCtxArg reports whether the argument at index i of call is a
// context the callee never uses.
func (s *factSet) ignoresCtxArg(info *types.Info, call *ast.CallExpr, i int) bool {
	f, fn := s.call(info, call)
	if fn == nil || len(f.IgnoresCtx) == 0 {
		return false
	}
	p, ok := argAt(fn, call, i)
	return ok && slices.Contains(f.IgnoresCtx, p)
}

// Facts computes the facts of every function of a package. It reports
// nothing; the rules require it.
var factsAnalyzer = &analysis.Analyzer{
	Name:       "structvetfacts",
	Doc:        "compute what structvet's rules need to know about the functions a package declares",
	Requires:   []*analysis.Analyzer{inspect.Analyzer},
	FactTypes:  []analysis.Fact{new(funcFact)},
	ResultType: reflect.TypeFor[*factSet](),
	Run:        runFacts,
}

func runFacts(pass *analysis.Pass) (any, error) {
	info := pass.TypesInfo
	s := &factSet{importFact: pass.ImportObjectFact, local: make(map[*types.Func]*funcFact)}
	p := newPkgInfo(info, pass.Pkg, pass.Files)
	var decls []*ast.FuncDecl
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				if fn, _ := info.Defs[fd.Name].(*types.Func); fn != nil {
					decls = append(decls, fd)
					s.local[fn] = &funcFact{}
				}
			}
		}
	}
	// Starts, Waits and IgnoresCtx depend on the facts of the functions
	// called: iterate until nothing changes (each round only adds).
	for range 8 {
		changed := false
		for _, fd := range decls {
			fn := info.Defs[fd.Name].(*types.Func)
			f := s.local[fn]
			starts, waits := groupParams(info, s, fd)
			ign := ignoredCtxParams(info, s, fd)
			if !slices.Equal(starts, f.Starts) || !slices.Equal(waits, f.Waits) || !slices.Equal(ign, f.IgnoresCtx) {
				f.Starts, f.Waits, f.IgnoresCtx = starts, waits, ign
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	for _, fd := range decls {
		fn := info.Defs[fd.Name].(*types.Func)
		s.local[fn].Spawns, s.local[fn].SpawnEnds = spawnedResults(pass, p, s, fd)
		s.local[fn].Relays = relayedParams(info, fd)
	}
	joinedBy(info, s, decls)
	for _, fd := range decls {
		fn := info.Defs[fd.Name].(*types.Func)
		if f := s.local[fn]; !f.empty() {
			pass.ExportObjectFact(fn, f)
		}
	}
	return s, nil
}

// params returns the parameters of fd, in order.
func params(info *types.Info, fd *ast.FuncDecl) []*types.Var {
	fn, _ := info.Defs[fd.Name].(*types.Func)
	if fn == nil {
		return nil
	}
	sig := fn.Type().(*types.Signature)
	out := make([]*types.Var, sig.Params().Len())
	for i := range out {
		out[i] = sig.Params().At(i)
	}
	return out
}

// groupParams returns the group parameters of fd on which it starts
// goroutines without waiting, and those it waits on.
func groupParams(info *types.Info, s *factSet, fd *ast.FuncDecl) (starts, waits []int) {
	for i, v := range params(info, fd) {
		if groupOf(v.Type()) == notGroup {
			continue
		}
		started, waited := false, false
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if groupStart(info, call) == v || s.helperStarts(info, call, v) {
				started = true
			}
			if r, name, ok := methodCall(info, call); ok && r == v && isWaitName(name) || s.helperWaits(info, call, v) {
				waited = true
			}
			return true
		})
		switch {
		case waited:
			waits = append(waits, i)
		case started:
			starts = append(starts, i)
		}
	}
	return starts, waits
}

// ignoredCtxParams returns the context parameters of fd whose cancellation
// it never uses (see funcFact.IgnoresCtx).
func ignoredCtxParams(info *types.Info, s *factSet, fd *ast.FuncDecl) []int {
	var out []int
	for i, v := range params(info, fd) {
		if !isContext(v.Type()) {
			continue
		}
		used := false
		var stack []ast.Node
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			id, ok := n.(*ast.Ident)
			if !ok || info.Uses[id] != v || used {
				return !used
			}
			// Reading its values is no use of its cancellation.
			if sel, ok := stack[len(stack)-2].(*ast.SelectorExpr); ok && sel.Sel.Name == "Value" && len(stack) >= 3 {
				if call, ok := stack[len(stack)-3].(*ast.CallExpr); ok && call.Fun == sel {
					return true
				}
			}
			// An argument of a call that ignores it is no use.
			if call, ok := stack[len(stack)-2].(*ast.CallExpr); ok {
				for j, a := range call.Args {
					if a == id && s.ignoresCtxArg(info, call, j) {
						return true
					}
				}
			}
			used = true
			return false
		})
		if !used {
			out = append(out, i)
		}
	}
	return out
}

// spawnedResults returns the results of fd that are channels a goroutine
// it starts signals and that fd itself does not wait on.
func spawnedResults(pass *analysis.Pass, p *pkgInfo, s *factSet, fd *ast.FuncDecl) (spawns, ends []int) {
	info := pass.TypesInfo
	fn := &function{node: fd, body: fd.Body, typ: fd.Type}
	signalled := make(map[*types.Var]bool)
	final := make(map[*types.Var]bool)
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.GoStmt:
			for _, sg := range goSignals(info, p, fn, n) {
				if sg.kind == sigChan && !sg.handshake && isLocal(sg.v, fd.Body) {
					signalled[sg.v] = true
					final[sg.v] = final[sg.v] || sg.final
				}
			}
		}
		return true
	})
	if len(signalled) == 0 {
		return nil, nil
	}
	var out []int
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		ret, ok := n.(*ast.ReturnStmt)
		if !ok {
			return true
		}
		for i, r := range ret.Results {
			v := varOf(info, r)
			if v != nil && signalled[v] && !slices.Contains(out, i) && !anyWait(info, fd.Body, map[*types.Var]bool{v: true}) {
				out = append(out, i)
			}
			if v != nil && final[v] && slices.Contains(out, i) && !slices.Contains(ends, i) {
				ends = append(ends, i)
			}
		}
		return true
	})
	sort.Ints(out)
	sort.Ints(ends)
	return out, ends
}

// joinedBy sets the JoinedBy fact of the methods of the package's types:
// for a method M, the other methods W of the same type that wait on a
// field of the receiver that M ties its end to (see fieldUse).
func joinedBy(info *types.Info, s *factSet, decls []*ast.FuncDecl) {
	byType := make(map[*types.TypeName][]*ast.FuncDecl)
	for _, fd := range decls {
		if tn := recvTypeName(info, fd); tn != nil {
			byType[tn] = append(byType[tn], fd)
		}
	}
	for _, methods := range byType {
		byName := make(map[string]*ast.FuncDecl)
		for _, fd := range methods {
			byName[fd.Name.Name] = fd
		}
		tokens := tokenChans(info, methods)
		ties := make(map[string]map[*types.Var]bool)
		waits := make(map[string]map[*types.Var]bool)
		for _, fd := range methods {
			ties[fd.Name.Name] = receiverFields(info, fd, byName, tiesTo, tokens)
			waits[fd.Name.Name] = receiverFields(info, fd, byName, waitsFor, tokens)
		}
		names := make([]string, 0, len(byName))
		for n := range byName {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, fd := range methods {
			m := fd.Name.Name
			f := s.local[info.Defs[fd.Name].(*types.Func)]
			for _, w := range names {
				if w == m {
					continue
				}
				for v := range ties[m] {
					if waits[w][v] {
						f.JoinedBy = append(f.JoinedBy, w)
						break
					}
				}
			}
		}
	}
}

// recvTypeName returns the named type of a method's receiver.
func recvTypeName(info *types.Info, fd *ast.FuncDecl) *types.TypeName {
	if fd.Recv == nil {
		return nil
	}
	fn, _ := info.Defs[fd.Name].(*types.Func)
	if fn == nil {
		return nil
	}
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil {
		return nil
	}
	if n, ok := types.Unalias(deref(recv.Type())).(*types.Named); ok {
		return n.Origin().Obj()
	}
	return nil
}

// receiverVar returns the receiver variable of a method.
func receiverVar(info *types.Info, fd *ast.FuncDecl) *types.Var {
	fn, _ := info.Defs[fd.Name].(*types.Func)
	if fn == nil {
		return nil
	}
	return fn.Type().(*types.Signature).Recv()
}

// fieldOfRecv returns the field that e selects from recv (recv.f,
// recv.a.f, &recv.f), or nil.
func fieldOfRecv(info *types.Info, e ast.Expr, recv *types.Var) *types.Var {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = ast.Unparen(u.X)
	}
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	root := sel.X
	for {
		inner, ok := ast.Unparen(root).(*ast.SelectorExpr)
		if !ok {
			break
		}
		root = inner.X
	}
	id, ok := ast.Unparen(root).(*ast.Ident)
	if !ok || info.Uses[id] != recv {
		return nil
	}
	return varOf(info, sel)
}

// fieldUse tells which uses of a receiver's fields receiverFields collects.
type fieldUse int

const (
	// tiesTo: what says the method is ending (close(f), f.Done(), a
	// deferred send on f, f.Fire(), a flag set to 1 or true with a
	// deferred atomic store or one as its last statement), in its body
	// or in the methods of the receiver it calls, two levels deep; and the
	// groups it starts goroutines on (f.Add, f.Go, a wrapper's f.Wrap) in
	// its own body, when that body is not a loop that runs until told to
	// stop (then it is not its goroutines that it waits for).
	tiesTo fieldUse = iota
	// waitsFor: f.Wait(), <-f, range f, a loop polling f, in the body or
	// in the methods of the receiver it calls, two levels deep.
	waitsFor
)

// receiverFields returns the fields of fd's receiver that fd uses as use
// says (see fieldUse), following calls of other methods on the same
// receiver (byName), into the function literals and goroutines of their
// bodies. Channels used as locks (sent on and received from by one
// method) are left out.
func receiverFields(info *types.Info, fd *ast.FuncDecl, byName map[string]*ast.FuncDecl, use fieldUse, tokens map[*types.Var]bool) map[*types.Var]bool {
	out := make(map[*types.Var]bool)
	visited := make(map[string]bool)
	var walk func(fd *ast.FuncDecl, depth int)
	walk = func(fd *ast.FuncDecl, depth int) {
		if visited[fd.Name.Name] || depth > 2 {
			return
		}
		visited[fd.Name.Name] = true
		recv := receiverVar(info, fd)
		if recv == nil {
			return
		}
		field := func(e ast.Expr) *types.Var {
			if f := fieldOfRecv(info, e, recv); f != nil && !tokens[f] {
				return f
			}
			return nil
		}
		starts := depth == 0 && !loopsForever(fd.Body)
		polls := nonBlockingComms(fd.Body)
		if use == tiesTo && len(fd.Body.List) > 0 {
			// A flag set as the last thing the method does.
			if es, ok := fd.Body.List[len(fd.Body.List)-1].(*ast.ExprStmt); ok {
				if call, ok := es.X.(*ast.CallExpr); ok {
					if f := doneFlag(info, call); f != nil && fieldOfRecvVar(info, call, recv) && !tokens[f] {
						out[f] = true
					}
				}
			}
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.DeferStmt:
				if use == tiesTo {
					if s, ok := deferredSend(n); ok {
						if f := field(s.Chan); f != nil {
							out[f] = true
						}
					}
					if f := doneFlag(info, n.Call); f != nil && fieldOfRecvVar(info, n.Call, recv) && !tokens[f] {
						out[f] = true
					}
				}
			case *ast.CallExpr:
				if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
					if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok && info.Uses[id] == recv {
						if next := byName[sel.Sel.Name]; next != nil {
							walk(next, depth+1)
						}
					}
				}
				switch use {
				case tiesTo:
					if isBuiltin(info, n, "close") && len(n.Args) == 1 {
						if f := field(n.Args[0]); f != nil {
							out[f] = true
						}
					}
					if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
						if f := field(sel.X); f != nil {
							g := groupOf(f.Type())
							switch {
							case g != notGroup && sel.Sel.Name == "Done":
								out[f] = true
							case g != notGroup && !isWaitName(sel.Sel.Name) && starts:
								out[f] = true // Add, Go, a wrapper's Wrap
							case g == notGroup && finalMethods[sel.Sel.Name] && !isContext(f.Type()):
								out[f] = true // an event's Fire
							}
						}
					}
				case waitsFor:
					if r, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok && isWaitName(r.Sel.Name) {
						if f := field(r.X); f != nil && groupOf(f.Type()) != notGroup {
							out[f] = true
						}
					}
				}
			case *ast.UnaryExpr:
				if use == waitsFor && n.Op == token.ARROW && !polls[n] {
					x := ast.Unparen(n.X)
					if call, ok := x.(*ast.CallExpr); ok {
						if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
							x = sel.X // <-f.Done()
						}
					}
					if f := field(x); f != nil {
						out[f] = true
					}
				}
			case *ast.RangeStmt:
				if use == waitsFor && isChan(info.TypeOf(n.X)) {
					if f := field(n.X); f != nil {
						out[f] = true
					}
				}
			case *ast.ForStmt:
				if use == waitsFor {
					for _, f := range polledFlags(info, n, field) {
						out[f] = true
					}
				}
			}
			return true
		})
	}
	walk(fd, 0)
	return out
}

// nonBlockingComms returns the receives that are cases of a select with a
// default case: they look, they do not wait.
func nonBlockingComms(body ast.Node) map[ast.Node]bool {
	out := make(map[ast.Node]bool)
	ast.Inspect(body, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectStmt)
		if !ok {
			return true
		}
		hasDefault := false
		for _, c := range sel.Body.List {
			if cc, ok := c.(*ast.CommClause); ok && cc.Comm == nil {
				hasDefault = true
			}
		}
		if !hasDefault {
			return true
		}
		for _, c := range sel.Body.List {
			if cc, ok := c.(*ast.CommClause); ok && cc.Comm != nil {
				ast.Inspect(cc.Comm, func(m ast.Node) bool {
					if u, ok := m.(*ast.UnaryExpr); ok && u.Op == token.ARROW {
						out[u] = true
					}
					return true
				})
			}
		}
		return true
	})
	return out
}

// loopsForever reports whether body has, among its own statements, a for
// loop with no condition: a method that runs until told to stop.
func loopsForever(body *ast.BlockStmt) bool {
	for _, st := range body.List {
		if l, ok := st.(*ast.LabeledStmt); ok {
			st = l.Stmt
		}
		if f, ok := st.(*ast.ForStmt); ok && f.Cond == nil {
			return true
		}
	}
	return false
}

// tokenChans returns the channel fields that one of the methods both sends
// on and receives from: a lock or a semaphore, not a signal.
func tokenChans(info *types.Info, methods []*ast.FuncDecl) map[*types.Var]bool {
	out := make(map[*types.Var]bool)
	for _, fd := range methods {
		recv := receiverVar(info, fd)
		if recv == nil {
			continue
		}
		sent, recvd := make(map[*types.Var]bool), make(map[*types.Var]bool)
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SendStmt:
				if f := fieldOfRecv(info, n.Chan, recv); f != nil {
					sent[f] = true
				}
			case *ast.UnaryExpr:
				if n.Op == token.ARROW {
					if f := fieldOfRecv(info, n.X, recv); f != nil {
						recvd[f] = true
					}
				}
			}
			return true
		})
		for f := range sent {
			if recvd[f] {
				out[f] = true
			}
		}
	}
	return out
}

// deferredSend returns the send of `defer func() { ch <- v }()`.
func deferredSend(d *ast.DeferStmt) (*ast.SendStmt, bool) {
	lit, ok := ast.Unparen(d.Call.Fun).(*ast.FuncLit)
	if !ok || len(lit.Body.List) == 0 {
		return nil, false
	}
	s, ok := lit.Body.List[len(lit.Body.List)-1].(*ast.SendStmt)
	return s, ok
}

// doneFlag returns the variable that call sets to say something is done:
// an atomic store (atomicStore) of a constant that is not zero (1, true).
func doneFlag(info *types.Info, call *ast.CallExpr) *types.Var {
	v := atomicStore(info, call)
	if v == nil || len(call.Args) == 0 {
		return nil
	}
	tv, ok := info.Types[call.Args[len(call.Args)-1]]
	if !ok || tv.Value == nil {
		return nil
	}
	switch {
	case tv.Value.Kind() == constant.Bool && constant.BoolVal(tv.Value):
		return v
	case tv.Value.Kind() == constant.Int && constant.Sign(tv.Value) != 0:
		return v
	}
	return nil
}

// atomicStore returns the variable that call stores into atomically:
// atomic.StoreInt32(&x.f, v), x.f.Store(v) on a sync/atomic type.
func atomicStore(info *types.Info, call *ast.CallExpr) *types.Var {
	fn := callee(info, call)
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "sync/atomic" || !strings.HasPrefix(fn.Name(), "Store") && fn.Name() != "Swap" && !strings.HasPrefix(fn.Name(), "CompareAndSwap") {
		return nil
	}
	if fn.Type().(*types.Signature).Recv() != nil {
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
			return varOf(info, sel.X)
		}
		return nil
	}
	if len(call.Args) > 0 {
		return varOf(info, call.Args[0])
	}
	return nil
}

// fieldOfRecvVar reports whether the variable an atomic call stores into
// is a field of recv.
func fieldOfRecvVar(info *types.Info, call *ast.CallExpr, recv *types.Var) bool {
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		if fn := callee(info, call); fn != nil && fn.Type().(*types.Signature).Recv() != nil {
			return fieldOfRecv(info, sel.X, recv) != nil
		}
	}
	return len(call.Args) > 0 && fieldOfRecv(info, call.Args[0], recv) != nil
}

// polledFlags returns the variables that the loop polls while it pauses
// (time.Sleep, a timer's receive): loads of them, atomic, in its condition
// or in the condition of an if among its statements that leaves the loop
// (return, break): a loop that waits for a flag. pick returns the variable
// an operand denotes (nil to leave it out).
func polledFlags(info *types.Info, loop *ast.ForStmt, pick func(ast.Expr) *types.Var) []*types.Var {
	pauses := false
	ast.Inspect(loop.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			fn := callee(info, n)
			if isFunc(fn, "time", "Sleep") || isFunc(fn, "runtime", "Gosched") {
				pauses = true
			}
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				if t, ok := info.TypeOf(n.X).(*types.Chan); ok && isNamed(t.Elem(), "time", "Time") {
					pauses = true
				}
			}
		}
		return true
	})
	if !pauses {
		return nil
	}
	var flags []*types.Var
	loads := func(cond ast.Expr) {
		ast.Inspect(cond, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn := callee(info, call)
			if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "sync/atomic" || !strings.HasPrefix(fn.Name(), "Load") {
				return true
			}
			var x ast.Expr
			if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && fn.Type().(*types.Signature).Recv() != nil {
				x = sel.X
			} else if len(call.Args) > 0 {
				x = call.Args[0]
			}
			if x != nil {
				if f := pick(x); f != nil {
					flags = append(flags, f)
				}
			}
			return true
		})
	}
	if loop.Cond != nil {
		loads(loop.Cond)
	}
	for _, st := range loop.Body.List {
		ifs, ok := st.(*ast.IfStmt)
		if !ok || len(ifs.Body.List) == 0 {
			continue
		}
		switch last := ifs.Body.List[len(ifs.Body.List)-1].(type) {
		case *ast.ReturnStmt:
			loads(ifs.Cond)
		case *ast.BranchStmt:
			if last.Tok == token.BREAK {
				loads(ifs.Cond)
			}
		}
	}
	return flags
}

// relayedParams returns the pairs of channel parameters (i, j) of fd, as
// funcFact.Relays has them: every close(j) in fd, its function literals
// included, follows, in the statements before it in its block or in the
// body of the function or literal that defers it, a loop that reads i to
// its end, or a Wait on a group whose goroutines read i to their end.
func relayedParams(info *types.Info, fd *ast.FuncDecl) []int {
	ps := params(info, fd)
	var out []int
	for j, pj := range ps {
		if !isChan(pj.Type()) {
			continue
		}
		for i, pi := range ps {
			if i == j || !isChan(pi.Type()) {
				continue
			}
			if relays(info, fd.Body, pi, pj) {
				out = append(out, i, j)
			}
		}
	}
	return out
}

// relays reports whether every close of to in body follows the end of
// from (see relayedParams), and there is one.
func relays(info *types.Info, body *ast.BlockStmt, from, to *types.Var) bool {
	// The groups whose goroutines read from to its end.
	drainers := make(map[*types.Var]bool)
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr: // g.Go(func() { for range from {} })
			if v, name, ok := methodCall(info, n); ok && v != nil && name == "Go" && len(n.Args) == 1 {
				if lit, ok := ast.Unparen(n.Args[0]).(*ast.FuncLit); ok && readsToEnd(info, lit.Body, from) {
					drainers[v] = true
				}
			}
		case *ast.GoStmt: // go func() { defer g.Done(); for range from {} }()
			if lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok && readsToEnd(info, lit.Body, from) {
				for _, sg := range signalsDone(info, lit.Body) {
					drainers[sg] = true
				}
			}
		}
		return true
	})
	// ended reports whether the statements list end from, before any of
	// them may return (a deferred close runs on that return too).
	ended := func(list []ast.Stmt) bool {
		for _, st := range list {
			if hasReturn(st) {
				return false
			}
			switch st := st.(type) {
			case *ast.RangeStmt:
				if varOf(info, st.X) == from && drainsAll(st) {
					return true
				}
			case *ast.ExprStmt:
				if call, ok := ast.Unparen(st.X).(*ast.CallExpr); ok {
					if v, name, ok := methodCall(info, call); ok && v != nil && name == "Wait" && drainers[v] {
						return true
					}
				}
			}
		}
		return false
	}
	closes, ok := 0, true
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		call, isCall := n.(*ast.CallExpr)
		if !isCall || !isBuiltin(info, call, "close") || len(call.Args) != 1 || varOf(info, call.Args[0]) != to {
			return true
		}
		closes++
		// The statement that holds the close, and its block.
		for k := len(stack) - 2; k >= 0; k-- {
			switch b := stack[k].(type) {
			case *ast.DeferStmt:
				// Deferred: it runs at the end of its function's body.
				for m := k - 1; m >= 0; m-- {
					var fb *ast.BlockStmt
					switch f := stack[m].(type) {
					case *ast.FuncLit:
						fb = f.Body
					case *ast.BlockStmt:
						if m == 0 {
							fb = f
						}
					}
					if fb != nil {
						ok = ok && ended(fb.List)
						return true
					}
				}
			case *ast.BlockStmt:
				st := stack[k+1]
				i := slices.IndexFunc(b.List, func(s ast.Stmt) bool { return s == st })
				ok = ok && i >= 0 && ended(b.List[:i])
				return true
			}
		}
		ok = false
		return true
	})
	return ok && closes > 0
}

// readsToEnd reports whether body, a goroutine's, has among its statements
// a loop that reads ch to its end, with no return before it.
func readsToEnd(info *types.Info, body *ast.BlockStmt, ch *types.Var) bool {
	for _, st := range body.List {
		if rs, ok := st.(*ast.RangeStmt); ok && varOf(info, rs.X) == ch && drainsAll(rs) {
			return true
		}
		if hasReturn(st) {
			return false
		}
	}
	return false
}

// drainsAll reports whether the range loop rs can only end when its
// channel is closed: nothing in its body returns or breaks out of it.
func drainsAll(rs *ast.RangeStmt) bool {
	out := false
	var walk func(n ast.Node, inner bool)
	walk = func(n ast.Node, inner bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				out = true
			case *ast.BranchStmt:
				if m.Tok == token.GOTO || m.Label != nil || m.Tok == token.BREAK && !inner {
					out = true
				}
			case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				if m != n {
					walk(m, true)
					return false
				}
			}
			return !out
		})
	}
	walk(rs.Body, false)
	return !out
}

// hasReturn reports whether n holds a return statement, function literals
// aside.
func hasReturn(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		switch m.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			found = true
		}
		return !found
	})
	return found
}

// signalsDone returns the wait groups on which body calls Done.
func signalsDone(info *types.Info, body *ast.BlockStmt) []*types.Var {
	var out []*types.Var
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if v, name, ok := methodCall(info, call); ok && v != nil && name == "Done" && groupOf(v.Type()) != notGroup {
				out = append(out, v)
			}
		}
		return true
	})
	return out
}
