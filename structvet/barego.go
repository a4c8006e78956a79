package structvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/cfg"
)

// BareGo is rule SV002: a go statement whose goroutine nothing waits for
// before the function that started it returns; also a call of a function
// that starts a goroutine and returns the channel it signals (a fact),
// whose caller does not wait on that channel on every path. It is on by
// default: on modules it was not tuned on (round 4 of the README), 91% of
// its findings were true, 97% in shipping code.
//
// A goroutine is owned, and not reported, when
//   - it signals the function (wg.Done, close(ch), ch <- v on a local group
//     or channel) and the function waits for that signal (wg.Wait, <-ch,
//     range ch, a select case on ch, also deferred) on every path from the
//     go statement to a return; a signal made on the way, before more work
//     that waits (close(started) before a loop), is a handshake, not a
//     join;
//   - it signals a group or channel that the function did not declare (a
//     parameter, a variable of an enclosing function): the caller owns it;
//   - it signals, as it ends, a field or package variable that some code of
//     the package waits on (a struct whose Close waits for its goroutines,
//     as the nursery itself does), following calls within the package;
//   - its work is a method of a value whose type has another method that
//     waits for it (facts: srv.Exit for srv.Main): the holder of the value
//     owns it;
//   - the local it signals is handed on (returned, stored, passed to a
//     call): whoever gets it owns the goroutine;
//   - it signals a wait group on which this function calls Add: rule SV001
//     checks that one;
//   - its last act closes a channel that another goroutine of the function
//     reads to its end, a goroutine the function itself waits for (a stage
//     of a pipeline, also through a function whose Relays fact says it
//     closes its output only after reading its input to the end);
//   - its last act is Close on a value of the function's, and the function
//     returns only in the branch of a test that an error from that value
//     says it was closed (errors.Is(err, ErrClosed), err == ErrClosed);
//   - it cancels, as its last act and nowhere else, a context that nothing
//     else cancels (context.WithCancel(context.Background())), and the
//     function waits on that context's Done;
//   - it returns at once on a receive from an unbuffered channel of a
//     struct or the package that some code sends on outside a select (a
//     stop method's x.stop <- v meets it at its end), and is not started
//     in a loop;
//   - a test polls with testify's Eventually exactly the atomic flag it
//     sets, as its last act and nowhere else.
//
// A function that never returns (for {}, for ; true; {}, select {}) leaves
// nothing behind.
//
// A method AfterFunc(f func()) (stop func() bool) of a Context, which
// context.AfterFunc calls and whose contract is to run f in a goroutine of
// its own, is not reported either, nor a goroutine in a synctest bubble.
//
// The flags -barego.main and -barego.tests allow go statements in func main
// (a program's goroutines end with it) and in _test.go files.
var BareGo = &analysis.Analyzer{
	Name:     "barego",
	Doc:      "report a go statement whose goroutine is not waited for before the function returns (SV002)",
	URL:      docURL + "sv002",
	Requires: append([]*analysis.Analyzer{factsAnalyzer}, requires...),
	Run:      runBareGo,
}

var (
	bareGoMain  bool
	bareGoTests bool
)

func init() {
	BareGo.Flags.BoolVar(&bareGoMain, "main", false, "allow go statements in func main of package main")
	BareGo.Flags.BoolVar(&bareGoTests, "tests", false, "allow go statements in _test.go files")
}

func runBareGo(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "SV002")
	info := pass.TypesInfo
	p := newPkgInfo(info, pass.Pkg, pass.Files)
	facts := pass.ResultOf[factsAnalyzer].(*factSet)
	var mains []ast.Node       // func main of package main, if allowed
	var bubbles []*ast.FuncLit // functions run by synctest.Test
	functions(pass, func(fn *function) {
		if d, ok := fn.node.(*ast.FuncDecl); ok && bareGoMain && pass.Pkg.Name() == "main" && d.Name.Name == "main" && d.Recv == nil {
			mains = append(mains, d)
		}
		if bareGoTests && isTestFile(pass, fn.node.Pos()) {
			return
		}
		for _, m := range mains {
			if m.Pos() <= fn.node.Pos() && fn.node.End() <= m.End() {
				return
			}
		}
		if isAfterFuncMethod(info, fn.node) {
			return // the contract of context.AfterFunc: f runs in a goroutine of its own
		}
		inBubble := func(n ast.Node) bool {
			for _, b := range bubbles {
				if b.Pos() <= n.Pos() && n.End() <= b.End() {
					return true // the bubble waits for every goroutine in it
				}
			}
			return false
		}
		ast.Inspect(fn.body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false // checked as a function of its own
			case *ast.CallExpr:
				if c := callee(info, n); isFunc(c, "testing/synctest", "Test") || isFunc(c, "testing/synctest", "Run") {
					for _, a := range n.Args {
						if lit, ok := a.(*ast.FuncLit); ok {
							bubbles = append(bubbles, lit)
						}
					}
				}
			case *ast.AssignStmt:
				if inBubble(n) {
					return true
				}
				for _, st := range helperStarts(info, facts, n) {
					v := goOwned(pass, p, facts, fn, st)
					if v.owned {
						continue
					}
					name := callee(info, st.node.(*ast.CallExpr)).Name()
					var names []string
					for _, sg := range st.sigs {
						names = append(names, sg.v.Name())
					}
					ch := strings.Join(names, " or ")
					if v.rets == nil {
						r.reportNode(st.node, fmt.Sprintf("nothing waits for the goroutine that %s starts before %s returns: receive from %s on every path, or start the work in nursery.Run",
							name, funcName(fn.node), ch))
					} else {
						r.reportNode(st.node, fmt.Sprintf("the goroutine that %s starts outlives %s: %s without waiting for it; receive from %s on every path, or start the work in nursery.Run",
							name, funcName(fn.node), fn.whereAll(pass, v.rets), ch))
					}
				}
			case *ast.GoStmt:
				if inBubble(n) {
					return true
				}
				st := goStart{node: n, sigs: goSignals(info, p, fn, n), joins: goJoins(info, facts, n)}
				v := goOwned(pass, p, facts, fn, st)
				if v.owned {
					return true
				}
				var note string
				if v.handshake != nil {
					note = fmt.Sprintf(" (the wait on %s sees it start, not end)", v.handshake.v.Name())
				}
				if v.rets == nil {
					r.report(n.Pos(), n.Call.Pos(), fmt.Sprintf("nothing waits for this goroutine before %s returns%s: start it in nursery.Run, whose tasks end before it returns, or join it (sync.WaitGroup, a done channel) on every path",
						funcName(fn.node), note))
				} else {
					r.report(n.Pos(), n.Call.Pos(), fmt.Sprintf("this goroutine outlives %s: %s without waiting for it%s; start it in nursery.Run, or wait for it on every path",
						funcName(fn.node), fn.whereAll(pass, v.rets), note))
				}
			}
			return true
		})
	})
	return nil, nil
}

// A goStart is a goroutine that a function starts: with a go statement, or
// by calling a function that starts one and returns the channel it
// signals.
type goStart struct {
	node ast.Node // the *ast.GoStmt, or the *ast.CallExpr of the helper
	sigs []signal // what the goroutine signals
	// joins are the calls x.M() the goroutine makes where a method of x
	// waits for M's work (M's JoinedBy fact).
	joins []*ast.CallExpr
}

// ownership is what goOwned finds out about a goroutine.
type ownership struct {
	owned bool
	// ended says that the function itself has seen it end, or handed what
	// it signals to code that waits for it, before it returns: its waits
	// were on every path, or what it signals was handed on. (An owner of
	// another kind, a caller or a struct, may wait for it later.)
	ended bool
	// rets are the returns reached without waiting for it; nil if nothing
	// ever waits for it.
	rets []*ast.ReturnStmt
	// handshake is a signal the function waits on that only says the
	// goroutine started.
	handshake *signal
}

// helperStarts returns the goroutines that the assignment starts by
// calling a function whose result is the channel of a goroutine it
// started (its Spawns fact): ch := fetchAsync(url).
func helperStarts(info *types.Info, facts *factSet, as *ast.AssignStmt) []goStart {
	if len(as.Rhs) != 1 {
		return nil
	}
	call, ok := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
	if !ok {
		return nil
	}
	f, fn := facts.call(info, call)
	if fn == nil || len(f.Spawns) == 0 {
		return nil
	}
	// Of several channels it returns (events, errs := stream()), a
	// receive from one its goroutine signals as it ends (errs) waits for
	// it; one from another (events) may leave it behind.
	sigsOf := func(idx []int) []signal {
		var sigs []signal
		for _, i := range idx {
			if i >= len(as.Lhs) {
				continue
			}
			v := varOf(info, as.Lhs[i])
			if v == nil || v.IsField() {
				continue
			}
			sigs = append(sigs, signal{v: v, kind: sigChan, final: true})
		}
		return sigs
	}
	if len(f.Spawns) > 1 {
		if ends := sigsOf(f.SpawnEnds); len(ends) > 0 {
			return []goStart{{node: call, sigs: ends}}
		}
	}
	// One channel, or none of those kept ends it: each is a start of its
	// own, waited for by a receive from it.
	var out []goStart
	for _, sg := range sigsOf(f.Spawns) {
		out = append(out, goStart{node: call, sigs: []signal{sg}})
	}
	return out
}

// goJoins returns the calls x.M() that make the work of the goroutine of
// g, where M has a JoinedBy fact: its call (go srv.Serve(l)), or a call
// among the statements of its function literal, outside loops and selects
// (go func() { err := srv.Main(); ... }()).
func goJoins(info *types.Info, facts *factSet, g *ast.GoStmt) []*ast.CallExpr {
	var out []*ast.CallExpr
	check := func(call *ast.CallExpr) {
		if _, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); !ok {
			return
		}
		if f, fn := facts.call(info, call); fn != nil && len(f.JoinedBy) > 0 {
			out = append(out, call)
		}
	}
	lit, ok := ast.Unparen(g.Call.Fun).(*ast.FuncLit)
	if !ok {
		check(g.Call)
		return out
	}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit, *ast.GoStmt, *ast.ForStmt, *ast.RangeStmt, *ast.SelectStmt:
			return false
		case *ast.CallExpr:
			check(n)
		}
		return true
	})
	return out
}

// goOwned tells whether the goroutine st has an owner; if not, which
// returns leave it behind.
func goOwned(pass *analysis.Pass, p *pkgInfo, facts *factSet, fn *function, st goStart) ownership {
	info := pass.TypesInfo
	if addsToOthersGroup(info, fn) {
		return ownership{owned: true} // counted in a group the caller waits on
	}
	if body := goBody(info, p, fn, st.node); body != nil && !inLoop(fn.body, st.node) && endsOnRendezvous(info, p, body) {
		return ownership{owned: true} // the sender on the unbuffered channel meets it at its end
	}
	locals := make(map[*types.Var]bool)
	cancels := make(map[*types.Var]bool)
	eofReaders := make(map[*types.Var]bool)
	var handshake *signal
	// The value whose method the goroutine runs (srv in srv.Serve(l)) is
	// not a signal of its own: what its methods do is in the join facts.
	joined := make(map[*types.Var]bool)
	for _, call := range st.joins {
		if v := varOf(info, ast.Unparen(call.Fun).(*ast.SelectorExpr).X); v != nil {
			joined[v] = true
		}
	}
	for _, s := range st.sigs {
		v := s.v
		if joined[v] && s.kind == sigMethod {
			continue
		}
		shared := v.IsField() || v.Parent() == pass.Pkg.Scope()
		if !shared && (v.Parent() == nil || !v.Parent().Contains(st.node.Pos())) {
			continue // a variable of the goroutine itself, or of a callee
		}
		local := isLocal(v, fn.body)
		switch {
		case s.handshake:
			if local && handshake == nil && anyWait(info, fn.body, map[*types.Var]bool{v: true}) {
				handshake = &s
			}
			// Not a join: the goroutine goes on after it.
		case shared:
			if s.final && (p.waited[v] || p.fromParam[v]) {
				return ownership{owned: true} // a struct, the package, or the caller that gave it waits for it
			}
		case s.kind == sigMethod:
			if !local {
				if isNamed(deref(v.Type()), "io", "PipeWriter") {
					return ownership{owned: true} // the caller's pipe: it reads the other end
				}
				continue
			}
			if w := pipeReader(info, fn.body, v); w != nil && handedOut(info, fn.body, w) {
				return ownership{owned: true} // the caller reads the pipe to its end
			} else if w != nil && s.final {
				eofReaders[w] = true // reading the pipe to its end waits for the writer's Close
			}
			if (s.final || s.waits) && handedOut(info, fn.body, v) {
				return ownership{owned: true} // the caller holds what the goroutine ends or waits on
			}
			locals[v] = true // an event the function may wait on
		case s.kind == sigCancel:
			if local && !cancelledElsewhere(info, fn.body, p.cancelFor[v], st.node, goBody(info, p, fn, st.node)) {
				cancels[v] = true // the function may wait on <-ctx.Done()
			}
		case !local:
			return ownership{owned: true} // the caller's, or an enclosing function's
		case s.kind == sigGroup && hasStart(info, fn, v):
			return ownership{owned: true} // rule SV001's
		case localEscapes(info, fn.body, v, facts):
			return ownership{owned: true, ended: true} // handed on
		default:
			locals[v] = true
		}
	}
	// A method of the value the goroutine works on waits for that work
	// (srv.Shutdown for srv.Serve): whoever holds the value owns the
	// goroutine; if the function holds it alone, calling that method is
	// its wait.
	joiners := make(map[*types.Var][]string)
	joins := st.joins
	if len(locals) > 0 || handshake != nil {
		joins = nil // it signals the function after the call: that is the join
	}
	for _, call := range joins {
		sel := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		x := varOf(info, sel.X)
		if x == nil {
			continue
		}
		if x.IsField() || !isLocal(x, fn.body) || valueKept(info, fn.body, x, st.node) {
			return ownership{owned: true}
		}
		f, _ := facts.call(info, call)
		joiners[x] = f.JoinedBy
	}
	// The channels of the function's that the goroutine closes as its last
	// act: another goroutine that reads one to its end, and is waited for,
	// waits for this one.
	endCloses := make(map[*types.Var]bool)
	if g, ok := st.node.(*ast.GoStmt); ok {
		// A function that closes a channel only after reading another to
		// its end (a stage of a pipeline): its close is the end of its
		// work.
		if f, c := facts.call(info, g.Call); c != nil {
			for k := 0; k+1 < len(f.Relays); k += 2 {
				for i, a := range g.Call.Args {
					if v := varOf(info, a); v != nil && locals[v] {
						if j, ok := argAt(c, g.Call, i); ok && j == f.Relays[k+1] {
							endCloses[v] = true
						}
					}
				}
			}
		}
	}
	if body := goBody(info, p, fn, st.node); body != nil {
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			if call, ok := n.(*ast.CallExpr); ok && isBuiltin(info, call, "close") && len(call.Args) == 1 && atEnd(body, call) {
				if v := chanVarOf(info, call.Args[0]); v != nil && locals[v] {
					endCloses[v] = true
				}
			}
			return true
		})
	}
	// The values of the function's that the goroutine closes as its last
	// act, and the errors the function gets from them.
	closed := make(map[*types.Var]bool)
	if body := goBody(info, p, fn, st.node); body != nil {
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			if call, ok := n.(*ast.CallExpr); ok {
				if v, name, ok := methodCall(info, call); ok && v != nil && locals[v] && (name == "Close" || name == "CloseWithError") && callEnds(body, call) {
					closed[v] = true
				}
			}
			return true
		})
	}
	closedErrs := errorsFrom(info, fn.body, closed)
	// The flags it sets as its last act (done.Store(true)), and sets to
	// nothing else.
	flagsSetLast := make(map[*types.Var]bool)
	if body := goBody(info, p, fn, st.node); body != nil {
		for v := range locals {
			if setsFlagLast(info, body, v) {
				flagsSetLast[v] = true
			}
		}
	}
	closes := len(closedErrs) > 0 // the goroutine ends by closing a value the function reads
	waits := func(n ast.Node) bool {
		if len(locals) > 0 && waitsOn(info, n, locals) {
			return true
		}
		if len(cancels) > 0 && ctxDoneRecv(info, n, cancels) {
			return true // the goroutine cancels ctx as it ends
		}
		if call, ok := n.(*ast.CallExpr); ok && len(flagsSetLast) > 0 && eventuallyLoads(info, call, flagsSetLast) {
			return true // a test polling the flag the goroutine sets as it ends
		}
		if g, ok := n.(*ast.GoStmt); ok && g != st.node && len(endCloses) > 0 && readsOnToEnd(info, facts, g, endCloses) && goOwnedOnce(pass, p, facts, fn, g) {
			return true // another goroutine, waited for, that reads to its end what this one closes
		}
		if call, ok := n.(*ast.CallExpr); ok && len(eofReaders) > 0 && readsToEOF(info, call, eofReaders) {
			return true
		}
		if call, ok := n.(*ast.CallExpr); ok && len(joiners) > 0 {
			if x, name, ok := methodCall(info, call); ok && x != nil && slices.Contains(joiners[x], name) {
				return true
			}
		}
		return false
	}
	f := &flow{
		start: func(n ast.Node) bool { return n == st.node },
		wait:  waits,
		blockWait: func(b *cfg.Block) bool {
			return len(locals) > 0 && (blockWaitsOn(info, b, locals) || loopWaits(info, b, locals)) || closes && seesClosed(info, b, closedErrs) ||
				len(cancels) > 0 && blockRecvsDone(info, b, cancels)
		},
		info: info,
	}
	_, rets := f.leak(fn.g, fn.body, selectComms(fn.body))
	if rets == nil {
		return ownership{owned: true, ended: true} // waited for on every path, or never returns
	}
	found := false
	ast.Inspect(fn.body, func(n ast.Node) bool {
		if n == st.node {
			return false // the goroutine's own code waits for nothing of the function's
		}
		found = found || waits(n)
		if ifs, ok := n.(*ast.IfStmt); ok && closes && testsClosed(info, ifs.Cond, closedErrs) {
			found = true
		}
		return !found
	})
	if !found {
		return ownership{handshake: handshake}
	}
	return ownership{rets: rets, handshake: handshake}
}

// chanOfParam reports whether the callee decl signals, as a channel, its
// i-th parameter: through a channel one of its methods gives.
func chanOfParam(info *types.Info, decl *ast.FuncDecl, i int, byParam map[*types.Var]signal) bool {
	if decl == nil {
		return false
	}
	c, _ := info.Defs[decl.Name].(*types.Func)
	if c == nil || i >= c.Type().(*types.Signature).Params().Len() {
		return false
	}
	s, ok := byParam[c.Type().(*types.Signature).Params().At(i)]
	return ok && s.kind == sigChan
}

// readsToEOF reports whether call reads one of the pipe readers rs to its
// end: io.ReadAll(r), io.Copy(w, r), ioutil.ReadAll(r). The end comes from
// the writer's Close, the goroutine's last act.
func readsToEOF(info *types.Info, call *ast.CallExpr, rs map[*types.Var]bool) bool {
	fn := callee(info, call)
	var arg ast.Expr
	switch {
	case (isFunc(fn, "io", "ReadAll") || isFunc(fn, "io/ioutil", "ReadAll")) && len(call.Args) == 1:
		arg = call.Args[0]
	case isFunc(fn, "io", "Copy") && len(call.Args) == 2:
		arg = call.Args[1]

	default:
		return false
	}
	return rs[varOf(info, arg)]
}

// valueKept reports whether the local x leaves the function or can be
// reached by code that runs later: returned or stored (handedOut), passed
// to a call, or used in a function literal other than the goroutine start.
func valueKept(info *types.Info, body *ast.BlockStmt, x *types.Var, start ast.Node) bool {
	if handedOut(info, body, x) {
		return true
	}
	return anyUse(info, body, x, func(stack []ast.Node) bool {
		if slices.Contains(stack, start) {
			return false // the goroutine's own use
		}
		id := stack[len(stack)-1]
		for _, n := range stack[:len(stack)-1] {
			if _, ok := n.(*ast.FuncLit); ok {
				return true // a closure that may run later
			}
		}
		switch p := stack[len(stack)-2].(type) {
		case *ast.CallExpr:
			for _, a := range p.Args {
				if ast.Unparen(a) == id {
					return true // passed to a call
				}
			}
		case *ast.UnaryExpr:
			return p.Op == token.AND // its address, taken
		}
		return false
	})
}

// goSignals returns what the goroutine of g signals: in its function
// literal, in the body of the same-package function it calls, and the
// groups and channels passed to it as arguments.
func goSignals(info *types.Info, p *pkgInfo, fn *function, g *ast.GoStmt) []signal {
	var sigs []signal
	call := g.Call
	var decl *ast.FuncDecl
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.FuncLit:
		sigs = p.signalsOf(f.Body)
	default:
		if lit := localFuncLit(info, fn, f); lit != nil {
			sigs = p.signalsOf(lit.Body)
		} else if c := callee(info, call); c != nil && c.Pkg() == p.pkg {
			if d := p.decls[c]; d != nil && d.Body != nil {
				decl = d
				sigs = p.signalsOf(d.Body)
			}
		}
	}
	// What the callee does with a parameter, it does with the argument.
	byParam := make(map[*types.Var]signal)
	if decl != nil {
		if c, _ := info.Defs[decl.Name].(*types.Func); c != nil {
			ps := c.Type().(*types.Signature).Params()
			for _, sg := range sigs {
				for i := range ps.Len() {
					if ps.At(i) == sg.v {
						byParam[ps.At(i)] = sg
					}
				}
			}
		}
	}
	for i, a := range call.Args {
		v := varOf(info, a)
		var kind signalKind
		switch {
		case v == nil:
			continue
		case groupOf(v.Type()) != notGroup:
			kind = sigGroup
		case isChan(v.Type()):
			kind = sigChan
		case isNamed(deref(v.Type()), "io", "PipeWriter"):
			kind = sigMethod
		case chanOfParam(info, decl, i, byParam):
			kind = sigChan // the callee closes a channel the argument gives
		default:
			continue
		}
		sg := signal{v: v, kind: kind, final: true}
		if decl != nil {
			if c, _ := info.Defs[decl.Name].(*types.Func); c != nil && i < c.Type().(*types.Signature).Params().Len() {
				if ps, ok := byParam[c.Type().(*types.Signature).Params().At(i)]; ok {
					sg.final = sg.final || ps.final
					sg.handshake = ps.handshake
					sg.at = ps.at
				}
			}
		}
		sigs = append(sigs, sg)
	}
	return sigs
}

// localFuncLit returns the function literal that the local variable e
// denotes, if e is declared in fn as `f := func(...) {...}` and never
// assigned again.
func localFuncLit(info *types.Info, fn *function, e ast.Expr) *ast.FuncLit {
	id, ok := e.(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := info.Uses[id].(*types.Var)
	if v == nil || !isLocal(v, fn.body) {
		return nil
	}
	var lit *ast.FuncLit
	assigned := 0
	ast.Inspect(fn.body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok {
			return true
		}
		for i, l := range as.Lhs {
			lid, ok := l.(*ast.Ident)
			if !ok || info.ObjectOf(lid) != v {
				continue
			}
			assigned++
			if len(as.Rhs) == len(as.Lhs) {
				lit, _ = ast.Unparen(as.Rhs[i]).(*ast.FuncLit)
			}
		}
		return true
	})
	if assigned != 1 {
		return nil
	}
	return lit
}

// hasStart reports whether fn calls Add or Go on the group v.
func hasStart(info *types.Info, fn *function, v *types.Var) bool {
	found := false
	ast.Inspect(fn.body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && groupStart(info, call) == v {
			found = true
		}
		return !found
	})
	return found
}

// pipeReader returns r if w was declared with `r, w := io.Pipe()` in body.
func pipeReader(info *types.Info, body *ast.BlockStmt, w *types.Var) *types.Var {
	var r *types.Var
	ast.Inspect(body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 2 || len(as.Rhs) != 1 {
			return r == nil
		}
		call, ok := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
		if !ok || !isFunc(callee(info, call), "io", "Pipe") {
			return true
		}
		if varOf(info, as.Lhs[1]) == w {
			r = varOf(info, as.Lhs[0])
		}
		return r == nil
	})
	return r
}

// handedOut reports whether body returns v (or something built from it) or
// stores it in a field or a variable declared outside body: then the caller
// holds it.
func handedOut(info *types.Info, body *ast.BlockStmt, v *types.Var) bool {
	// mentions reports whether the value of e carries v: v itself, or v
	// inside a composite literal, or wrapped by a call that returns
	// something other than an error or a basic value (io.NopCloser(pr), not
	// parse(pr)).
	var mentions func(e ast.Expr) bool
	mentions = func(e ast.Expr) bool {
		switch e := ast.Unparen(e).(type) {
		case *ast.Ident:
			return usedVar(info, e) == v
		case *ast.UnaryExpr:
			return mentions(e.X)
		case *ast.KeyValueExpr:
			return mentions(e.Value)
		case *ast.CompositeLit:
			for _, el := range e.Elts {
				if mentions(el) {
					return true
				}
			}
		case *ast.CallExpr:
			t := info.TypeOf(e)
			if t == nil || types.Identical(t, types.Universe.Lookup("error").Type()) {
				return false
			}
			if _, basic := t.Underlying().(*types.Basic); basic {
				return false
			}
			for _, a := range e.Args {
				if mentions(a) {
					return true
				}
			}
		}
		return false
	}
	out := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			for _, r := range n.Results {
				out = out || mentions(r)
			}
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				if i >= len(n.Rhs) || !mentions(n.Rhs[i]) {
					continue
				}
				if lv := varOf(info, l); lv != nil && (lv.IsField() || !isLocal(lv, body)) {
					out = true
				}
			}
		}
		return !out
	})
	return out
}

// anyWait reports whether body waits on one of vs anywhere.
func anyWait(info *types.Info, body *ast.BlockStmt, vs map[*types.Var]bool) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		found = found || waitsOn(info, n, vs)
		return !found
	})
	return found
}

// addsToOthersGroup reports whether fn calls Add on a wait group that it
// did not declare (a parameter, a field): its goroutines are counted there,
// and whoever holds that group waits for them.
func addsToOthersGroup(info *types.Info, fn *function) bool {
	found := false
	ast.Inspect(fn.body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		if call, ok := n.(*ast.CallExpr); ok {
			if v, name, ok := methodCall(info, call); ok && v != nil && isAddName(name) && groupOf(v.Type()) == waitGroup && !isLocal(v, fn.body) {
				found = true
			}
		}
		return !found
	})
	return found
}

// loopWaits reports whether b is where a loop that waits on one of vs in its
// body ends. Leaving such a loop counts as a wait: a loop that collects one
// result per item usually runs once per goroutine, and the search, blind to
// conditions, would otherwise take the path on which it runs no time.
func loopWaits(info *types.Info, b *cfg.Block, vs map[*types.Var]bool) bool {
	var body *ast.BlockStmt
	switch b.Kind {
	case cfg.KindForDone:
		if s, ok := b.Stmt.(*ast.ForStmt); ok {
			body = s.Body
		}
	case cfg.KindRangeDone:
		if s, ok := b.Stmt.(*ast.RangeStmt); ok {
			body = s.Body
		}
	}
	if body == nil {
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		found = found || waitsOn(info, n, vs)
		return !found
	})
	return found
}

// isAfterFuncMethod reports whether n is a method AfterFunc(func()) func() bool:
// a Context's side of context.AfterFunc.
func isAfterFuncMethod(info *types.Info, n ast.Node) bool {
	d, ok := n.(*ast.FuncDecl)
	if !ok || d.Recv == nil || d.Name.Name != "AfterFunc" {
		return false
	}
	fn, _ := info.Defs[d.Name].(*types.Func)
	if fn == nil {
		return false
	}
	sig := fn.Type().(*types.Signature)
	if sig.Params().Len() != 1 || sig.Results().Len() != 1 {
		return false
	}
	arg, ok1 := sig.Params().At(0).Type().Underlying().(*types.Signature)
	res, ok2 := sig.Results().At(0).Type().Underlying().(*types.Signature)
	return ok1 && ok2 && arg.Params().Len() == 0 && arg.Results().Len() == 0 &&
		res.Params().Len() == 0 && res.Results().Len() == 1 && types.Identical(res.Results().At(0).Type(), types.Typ[types.Bool])
}

// goOwnedOnce reports whether the function waits for the go statement g of
// fn to end before it returns, as a wait of another goroutine's: false
// while g is being looked at already (a cycle). The answer is kept: a
// chain of stages asks about each once.
func goOwnedOnce(pass *analysis.Pass, p *pkgInfo, facts *factSet, fn *function, g *ast.GoStmt) bool {
	if v, ok := p.endedGo[g]; ok {
		return v
	}
	if p.visitingGo[g] {
		return false
	}
	p.visitingGo[g] = true
	defer delete(p.visitingGo, g)
	info := pass.TypesInfo
	v := goOwned(pass, p, facts, fn, goStart{node: g, sigs: goSignals(info, p, fn, g), joins: goJoins(info, facts, g)})
	p.endedGo[g] = v.owned && v.ended
	return p.endedGo[g]
}

// readsOnToEnd reports whether the goroutine of g reads one of the
// channels vs to its end before it ends: a function literal whose body
// ranges over it with no way out but the close, or a function whose
// Relays fact says it closes another channel only after that.
func readsOnToEnd(info *types.Info, facts *factSet, g *ast.GoStmt, vs map[*types.Var]bool) bool {
	if lit, ok := ast.Unparen(g.Call.Fun).(*ast.FuncLit); ok {
		for v := range vs {
			if isChan(v.Type()) && readsToEnd(info, lit.Body, v) {
				return true
			}
		}
		return false
	}
	f, fn := facts.call(info, g.Call)
	if fn == nil {
		return false
	}
	for k := 0; k+1 < len(f.Relays); k += 2 {
		for v := range vs {
			if slices.Contains(argsFor(info, fn, g.Call, v), f.Relays[k]) {
				return true
			}
		}
	}
	return false
}

// seesClosed reports whether entering b is taking the branch of a test
// that a value was closed: if errors.Is(err, X.ErrClosed), or err ==
// ErrClosed. Such an error only comes once Close was called: when a
// goroutine's last act is that Close, the branch has waited for it.
func seesClosed(info *types.Info, b *cfg.Block, errs map[*types.Var]bool) bool {
	if b.Kind != cfg.KindIfThen {
		return false
	}
	ifs, ok := b.Stmt.(*ast.IfStmt)
	return ok && testsClosed(info, ifs.Cond, errs)
}

// testsClosed reports whether cond is errors.Is(err, X.ErrClosed) or err
// == ErrClosed, with err one of errs.
func testsClosed(info *types.Info, cond ast.Expr, errs map[*types.Var]bool) bool {
	isErrClosed := func(e ast.Expr) bool {
		var id *ast.Ident
		switch e := ast.Unparen(e).(type) {
		case *ast.Ident:
			id = e
		case *ast.SelectorExpr:
			id = e.Sel
		}
		return id != nil && id.Name == "ErrClosed"
	}
	switch c := ast.Unparen(cond).(type) {
	case *ast.CallExpr:
		return isFunc(callee(info, c), "errors", "Is") && len(c.Args) == 2 && isErrClosed(c.Args[1]) && errs[varOf(info, c.Args[0])]
	case *ast.BinaryExpr:
		return c.Op == token.EQL && (isErrClosed(c.X) && errs[varOf(info, c.Y)] || isErrClosed(c.Y) && errs[varOf(info, c.X)])
	}
	return false
}

// errorsFrom returns the variables of body assigned the results of a
// method call on one of vs (n, err := rd.Read()): the errors that can say
// one of vs was closed.
func errorsFrom(info *types.Info, body *ast.BlockStmt, vs map[*types.Var]bool) map[*types.Var]bool {
	out := make(map[*types.Var]bool)
	if len(vs) == 0 {
		return out
	}
	ast.Inspect(body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Rhs) != 1 {
			return true
		}
		call, ok := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
		if !ok {
			return true
		}
		if v, _, ok := methodCall(info, call); ok && vs[v] {
			for _, l := range as.Lhs {
				if e := varOf(info, l); e != nil && isErrorType(e.Type()) {
					out[e] = true
				}
			}
		}
		return true
	})
	return out
}

// isErrorType reports whether t is the error interface.
func isErrorType(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

// setsFlagLast reports whether every atomic store to v in body sets it
// (to true, or a number other than 0) as body's last act, and there is
// one.
func setsFlagLast(info *types.Info, body *ast.BlockStmt, v *types.Var) bool {
	sets, others := 0, 0
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || atomicStore(info, call) != v {
			return true
		}
		if doneFlag(info, call) == v && callEnds(body, call) {
			sets++
		} else {
			others++
		}
		return true
	})
	return sets > 0 && others == 0
}

// eventuallyLoads reports whether call is testify's Eventually (assert or
// require, function or method) polling a condition that is exactly one of
// the flags vs, loaded atomically (func() bool { return done.Load() }): on
// the paths where the test goes on, the flag was set.
func eventuallyLoads(info *types.Info, call *ast.CallExpr, vs map[*types.Var]bool) bool {
	fn := callee(info, call)
	if fn == nil || fn.Pkg() == nil || fn.Name() != "Eventually" {
		return false
	}
	if p := fn.Pkg().Path(); p != "github.com/stretchr/testify/assert" && p != "github.com/stretchr/testify/require" {
		return false
	}
	for _, a := range call.Args {
		lit, ok := ast.Unparen(a).(*ast.FuncLit)
		if !ok {
			continue
		}
		if len(lit.Body.List) != 1 {
			continue
		}
		ret, ok := lit.Body.List[0].(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			continue
		}
		c, ok := ast.Unparen(ret.Results[0]).(*ast.CallExpr)
		if !ok {
			continue
		}
		if f := callee(info, c); f != nil && f.Pkg() != nil && f.Pkg().Path() == "sync/atomic" && strings.HasPrefix(f.Name(), "Load") {
			if sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr); ok && vs[varOf(info, sel.X)] {
				return true
			}
		}
	}
	return false
}

// cancelledElsewhere reports whether the cancel function is used in body
// other than by defer cancel() and, in the goroutine's own body (goBody),
// by calls that end it: then ctx.Done() does not say that the goroutine
// has ended.
func cancelledElsewhere(info *types.Info, body *ast.BlockStmt, cancel *types.Var, start ast.Node, goBody *ast.BlockStmt) bool {
	if cancel == nil || goBody == nil {
		return true
	}
	inGoroutine := func(stack []ast.Node) bool {
		n := len(stack)
		call, ok := stack[n-2].(*ast.CallExpr)
		if !ok || ast.Unparen(call.Fun) != stack[n-1] {
			return true // handed on: AfterFunc(d, cancel)
		}
		lits := 0
		for _, m := range stack {
			if _, ok := m.(*ast.FuncLit); ok {
				lits++
			}
		}
		if lits > 0 {
			return true // in a callback the goroutine hands on
		}
		return !callEnds(goBody, call)
	}
	if anyUse(info, goBody, cancel, inGoroutine) {
		return true
	}
	return anyUse(info, body, cancel, func(stack []ast.Node) bool {
		if slices.Contains(stack, start) {
			return false
		}
		n := len(stack)
		if n >= 3 {
			if call, ok := stack[n-2].(*ast.CallExpr); ok && ast.Unparen(call.Fun) == stack[n-1] {
				if _, ok := stack[n-3].(*ast.DeferStmt); ok {
					return false
				}
			}
		}
		return true
	})
}

// goBody returns the body of the code the goroutine started by n runs: its
// function literal's, or that of the function of the package it calls; nil
// for another start.
func goBody(info *types.Info, p *pkgInfo, fn *function, n ast.Node) *ast.BlockStmt {
	g, ok := n.(*ast.GoStmt)
	if !ok {
		return nil
	}
	switch f := ast.Unparen(g.Call.Fun).(type) {
	case *ast.FuncLit:
		return f.Body
	default:
		if lit := localFuncLit(info, fn, f); lit != nil {
			return lit.Body
		}
		if c := callee(info, g.Call); c != nil && c.Pkg() == p.pkg {
			if d := p.decls[c]; d != nil {
				return d.Body
			}
		}
	}
	return nil
}

// inLoop reports whether n is inside a loop of body (function literals
// aside): started more than once, its goroutines are more than one
// sender's rendezvous meets.
func inLoop(body *ast.BlockStmt, n ast.Node) bool {
	for _, m := range pathTo(body, n) {
		switch m.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			return true
		case *ast.FuncLit:
			return false
		}
	}
	return false
}

// stopsTimer reports whether st is t.Stop() on a *time.Ticker or
// *time.Timer.
func stopsTimer(info *types.Info, st ast.Stmt) bool {
	es, ok := st.(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := callee(info, call)
	if fn == nil || fn.Name() != "Stop" || fn.Pkg() == nil || fn.Pkg().Path() != "time" {
		return false
	}
	recv := fn.Type().(*types.Signature).Recv()
	return recv != nil && (isNamed(deref(recv.Type()), "time", "Ticker") || isNamed(deref(recv.Type()), "time", "Timer"))
}

// endsOnRendezvous reports whether the goroutine's body returns on a
// receive from a shared channel that is unbuffered and that some code of
// the package sends on: select { case <-x.stop: return }, as a stop
// method's x.stop <- struct{}{} completes only when the goroutine takes
// it, its last act.
func endsOnRendezvous(info *types.Info, p *pkgInfo, body *ast.BlockStmt) bool {
	met := func(e ast.Expr) bool {
		u, ok := ast.Unparen(e).(*ast.UnaryExpr)
		if !ok || u.Op != token.ARROW {
			return false
		}
		v := varOf(info, u.X)
		return v != nil && p.sentOn[v] && p.unbuffered[v]
	}
	// The case must end the goroutine at once: return, after no more than
	// stopping a ticker or a timer, or closing a channel (the reply the
	// stop method waits on).
	endsThen := func(list []ast.Stmt) bool {
		if len(list) == 0 {
			return false
		}
		if _, ok := list[len(list)-1].(*ast.ReturnStmt); !ok {
			return false
		}
		for _, st := range list[:len(list)-1] {
			if stopsTimer(info, st) {
				continue
			}
			if es, ok := st.(*ast.ExprStmt); ok {
				if call, ok := ast.Unparen(es.X).(*ast.CallExpr); ok && isBuiltin(info, call, "close") {
					continue
				}
			}
			return false
		}
		return true
	}
	// Or it takes a reply channel (case q := <-x.quit) and closes it just
	// before it returns: whatever it does first, the stop method that sent
	// it waits on the reply.
	repliesThen := func(cc *ast.CommClause) bool {
		as, ok := cc.Comm.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 1 || len(cc.Body) < 2 {
			return false
		}
		q := varOf(info, as.Lhs[0])
		if _, ok := cc.Body[len(cc.Body)-1].(*ast.ReturnStmt); !ok || q == nil {
			return false
		}
		es, ok := cc.Body[len(cc.Body)-2].(*ast.ExprStmt)
		if !ok {
			return false
		}
		call, ok := ast.Unparen(es.X).(*ast.CallExpr)
		return ok && isBuiltin(info, call, "close") && len(call.Args) == 1 && varOf(info, call.Args[0]) == q
	}
	// Nor may a deferred call do more than that, mark a group done or close
	// a channel.
	for _, st := range body.List {
		if d, ok := st.(*ast.DeferStmt); ok && !stopsTimer(info, &ast.ExprStmt{X: d.Call}) && !isBuiltin(info, d.Call, "close") {
			if v, name, ok := methodCall(info, d.Call); !ok || v == nil || name != "Done" || groupOf(v.Type()) == notGroup {
				return false
			}
		}
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CommClause:
			var e ast.Expr
			switch c := n.Comm.(type) {
			case *ast.ExprStmt:
				e = c.X
			case *ast.AssignStmt:
				if len(c.Rhs) == 1 {
					e = c.Rhs[0]
				}
			}
			if e != nil && met(e) && (endsThen(n.Body) || repliesThen(n)) {
				found = true
			}
		}
		return !found
	})
	if !found && len(body.List) > 0 {
		if es, ok := body.List[len(body.List)-1].(*ast.ExprStmt); ok && met(es.X) {
			found = true // <-x.stop, the body's last statement
		}
	}
	return found
}
