package structvet

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"slices"

	"golang.org/x/tools/go/cfg"
)

// The operations by which goroutines and their owners meet: a group's
// start (Add, Go) and Wait, a goroutine's Done, close or send, and an
// owner's receive.

// groupStart returns the group on which call starts goroutines (x.Add,
// x.Go, x.TryGo), or nil.
func groupStart(info *types.Info, call *ast.CallExpr) *types.Var {
	v, name, ok := methodCall(info, call)
	if !ok || v == nil {
		return nil
	}
	switch groupOf(v.Type()) {
	case waitGroup:
		if isAddName(name) || name == "Go" {
			return v
		}
	case errGroup:
		if name == "Go" || name == "TryGo" {
			return v
		}
	}
	return nil
}

// recvChan returns the channel variable that a receive expression <-x
// reads, or, for <-x.M(), the variable x whose method returns the channel
// (an event's Done, say). It returns nil for other nodes.
func recvChan(info *types.Info, n ast.Node) *types.Var {
	u, ok := n.(*ast.UnaryExpr)
	if !ok || u.Op != token.ARROW {
		return nil
	}
	if call, ok := ast.Unparen(u.X).(*ast.CallExpr); ok {
		if v, _, ok := methodCall(info, call); ok && v != nil && !isContext(v.Type()) {
			return v
		}
		return nil
	}
	return varOf(info, u.X)
}

// waitsOn reports whether n waits for one of vs: v.Wait(), <-v, <-v.M(),
// or a range over v (met in deferred literals, which the CFG does not
// show).
func waitsOn(info *types.Info, n ast.Node, vs map[*types.Var]bool) bool {
	if rs, ok := n.(*ast.RangeStmt); ok {
		v := varOf(info, rs.X)
		return v != nil && vs[v] && isChan(v.Type())
	}
	if call, ok := n.(*ast.CallExpr); ok {
		v, name, ok := methodCall(info, call)
		return ok && v != nil && isWaitName(name) && vs[v] && (groupOf(v.Type()) != notGroup || name == "Wait")
	}
	if v := recvChan(info, n); v != nil && vs[v] {
		return true
	}
	return false
}

// blockWaitsOn reports whether entering b receives from one of vs: the
// body of a select case `case <-v:` or the head of `for range v`.
func blockWaitsOn(info *types.Info, b *cfg.Block, vs map[*types.Var]bool) bool {
	switch b.Kind {
	case cfg.KindSelectCaseBody:
		cc, _ := b.Stmt.(*ast.CommClause)
		if cc == nil || cc.Comm == nil {
			return false
		}
		found := false
		ast.Inspect(cc.Comm, func(n ast.Node) bool {
			if v := recvChan(info, n); v != nil && vs[v] {
				found = true
			}
			return !found
		})
		return found
	case cfg.KindRangeLoop:
		rs, _ := b.Stmt.(*ast.RangeStmt)
		if rs == nil || !isChan(info.TypeOf(rs.X)) {
			return false
		}
		v := varOf(info, rs.X)
		return v != nil && vs[v]
	}
	return false
}

// signal is how a goroutine tells its owner it is done.
type signal struct {
	v    *types.Var
	kind signalKind
	// final is true for Done and close (and methods named like them),
	// which say the goroutine is finishing; false for a send, which may be
	// one of many.
	final bool
	// waits is true for a method named Wait: the goroutine lasts as long
	// as the value it waits on.
	waits bool
	// handshake is true when every signal of v is made on the way, not at
	// the end: outside any loop and defer, and followed by more waiting
	// work (a loop, a select, a channel operation, a Wait or a sleep).
	// close(started) at the top of a pump: a receive from it sees the
	// goroutine start, not end.
	handshake bool
	// at is where the goroutine signals v first.
	at ast.Node
}

type signalKind int

const (
	sigGroup  signalKind = iota // wg.Done()
	sigChan                     // close(ch), ch <- v, ch passed on
	sigMethod                   // ev.Fire(), pw.Close(): a method of some other value
	sigCancel                   // cancel() of ctx, cancel := context.WithCancel(...): v is ctx
)

// finalMethods are the names of methods that end something: a goroutine
// that calls one on an event its owner waits for has signalled its end.
var finalMethods = map[string]bool{
	"Done": true, "Fire": true, "Close": true, "CloseWithError": true, "Finish": true,
	"Signal": true, "Broadcast": true, "Set": true, "Stop": true, "Release": true,
}

// signalsOf returns what the code in body signals: Done on a wait group,
// close of a channel, a send on a channel; following calls of functions
// of the same package, a few levels deep.
func (p *pkgInfo) signalsOf(body ast.Node) []signal {
	var out []signal
	index := make(map[*types.Var]int)
	var top *ast.BlockStmt // the body, when it is a function's
	if b, ok := body.(*ast.BlockStmt); ok {
		top = b
	}
	var depth0 bool
	add := func(v *types.Var, kind signalKind, final bool, at ast.Node, waits ...bool) {
		if v == nil {
			return
		}
		if a := p.alias[v]; a != nil && kind != sigMethod && depth0 {
			v = a // closing a local copy of x.done closes x.done
		}
		hs := depth0 && top != nil && p.isHandshake(top, at)
		if i, ok := index[v]; ok {
			// The first signal says what it is; a later one can only say
			// that it is not a handshake, or, as the last statement of the
			// goroutine's own body, that it is final: a close after the
			// sends of a pool of workers ends the goroutine, whichever
			// comes first in the source. (A close elsewhere, in a closure
			// kept for later, does not.)
			out[i].handshake = out[i].handshake && hs
			if final && depth0 && top != nil && isLastStmt(top, at) {
				out[i].final = true
			}
			return
		}
		index[v] = len(out)
		out = append(out, signal{v: v, kind: kind, final: final, waits: len(waits) > 0 && waits[0], handshake: hs, at: at})
	}
	var walk func(n ast.Node, depth int)
	walk = func(n ast.Node, depth int) {
		ast.Inspect(n, func(m ast.Node) bool {
			depth0 = depth == 0
			switch m := m.(type) {
			case *ast.SendStmt:
				// A send as the goroutine's last act (its last statement, or
				// one followed by return) says it is ending, as close does.
				add(chanVarOf(p.info, m.Chan), sigChan, depth == 0 && top != nil && lastAct(top, m), m)
			case *ast.CallExpr:
				if isBuiltin(p.info, m, "close") && len(m.Args) == 1 {
					add(chanVarOf(p.info, m.Args[0]), sigChan, true, m)
					return true
				}
				if id, ok := ast.Unparen(m.Fun).(*ast.Ident); ok && len(m.Args) <= 1 {
					if v, _ := p.info.Uses[id].(*types.Var); v != nil && p.cancelOf[v] != nil {
						if depth == 0 && top != nil && callEnds(top, m) {
							add(p.cancelOf[v], sigCancel, true, m) // closes ctx.Done() as it ends
						}
						return true
					}
				}
				if v := doneFlag(p.info, m); v != nil {
					if depth == 0 && top != nil && atEnd(top, m) {
						add(v, sigMethod, true, m) // a flag set as it ends: done
					}
					return true
				}
				if v, name, ok := methodCall(p.info, m); ok && v != nil {
					switch g := groupOf(v.Type()); {
					case g == waitGroup && name == "Done":
						add(v, sigGroup, true, m)
					case g == notGroup && !isContext(v.Type()) && !isChan(v.Type()):
						add(v, sigMethod, finalMethods[name], m, name == "Wait")
					}
				}
				for _, a := range m.Args {
					// A channel or group handed to a call: it may be
					// signalled there.
					if v := varOf(p.info, a); v != nil {
						if isChan(v.Type()) {
							add(v, sigChan, false, m)
						} else if groupOf(v.Type()) == waitGroup {
							add(v, sigGroup, false, m)
						}
					}
				}
				// A group's own methods (c.Done()) are the signal itself: their
				// bodies are the group's business.
				if v, _, ok := methodCall(p.info, m); ok && v != nil && groupOf(v.Type()) != notGroup {
					return true
				}
				if depth < 4 {
					if fn := callee(p.info, m); fn != nil && fn.Pkg() == p.pkg {
						if decl := p.decls[fn]; decl != nil && decl.Body != nil && !p.visiting[fn] {
							p.visiting[fn] = true
							walk(decl.Body, depth+1)
							delete(p.visiting, fn)
						}
					}
				}
			}
			return true
		})
	}
	walk(body, 0)
	return out
}

// isHandshake reports whether the signal at is made on the way through
// body rather than at its end: not in a loop, a defer or a function
// literal, and followed, in body, by work that waits (a for loop with no
// condition; a range over a channel or an iterator; a select; a receive; a
// Wait; a sleep; a call of a function of the package that does one of
// these). A send that follows is another signal, not work.
func (p *pkgInfo) isHandshake(body *ast.BlockStmt, at ast.Node) bool {
	path := pathTo(body, at)
	if path == nil {
		return false
	}
	for _, n := range path {
		switch n.(type) {
		case *ast.ForStmt, *ast.RangeStmt, *ast.DeferStmt, *ast.FuncLit, *ast.GoStmt:
			return false
		}
	}
	for i, n := range path {
		if _, ok := n.(*ast.BlockStmt); ok && i > 0 {
			switch path[i-1].(type) {
			case *ast.SelectStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt:
				continue // its clauses are alternatives, not what comes next
			}
		}
		switch n.(type) {
		case *ast.BlockStmt, *ast.CaseClause, *ast.CommClause:
			// The statements after the one on the path, in this list.
			var list []ast.Stmt
			switch n := n.(type) {
			case *ast.BlockStmt:
				list = n.List
			case *ast.CaseClause:
				list = n.Body
			case *ast.CommClause:
				list = n.Body
			}
			if i+1 >= len(path) {
				continue
			}
			for j, st := range list {
				if st != path[i+1] {
					continue
				}
				for _, after := range list[j+1:] {
					if p.waitsInside(after, 0) {
						return true
					}
				}
			}
		}
	}
	return false
}

// waitsInside reports whether n does work that waits: see isHandshake.
func (p *pkgInfo) waitsInside(n ast.Node, depth int) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if found {
			return false
		}
		switch m := m.(type) {
		case *ast.FuncLit, *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.ForStmt:
			found = m.Cond == nil // a loop that ends from its body; others wait if their body does
		case *ast.RangeStmt:
			switch p.info.TypeOf(m.X).Underlying().(type) {
			case *types.Slice, *types.Array, *types.Map, *types.Basic, *types.Pointer:
			default:
				found = true // a channel, or an iterator that may wait
			}
		case *ast.SelectStmt:
			found = true
		case *ast.UnaryExpr:
			found = m.Op == token.ARROW
		case *ast.CallExpr:
			fn := callee(p.info, m)
			if _, name, ok := methodCall(p.info, m); ok && name == "Wait" || isFunc(fn, "time", "Sleep") {
				found = true
			}
			if !found && depth < 3 && fn != nil && fn.Pkg() == p.pkg && !p.visiting[fn] {
				if d := p.decls[fn]; d != nil && d.Body != nil {
					p.visiting[fn] = true
					found = p.waitsInside(d.Body, depth+1)
					delete(p.visiting, fn)
				}
			}
		}
		return !found
	})
	return found
}

// isLastStmt reports whether the call at is body's last statement.
func isLastStmt(body *ast.BlockStmt, at ast.Node) bool {
	if len(body.List) == 0 {
		return false
	}
	st, ok := body.List[len(body.List)-1].(*ast.ExprStmt)
	return ok && st.X == at
}

// lastAct reports whether the statement st is the last thing body does on
// its path: body's last statement, a statement followed by a return in its
// block, or a deferred one.
func lastAct(body *ast.BlockStmt, st ast.Stmt) bool {
	if len(body.List) > 0 && body.List[len(body.List)-1] == st {
		return true
	}
	path := pathTo(body, st)
	for i, n := range path {
		switch n := n.(type) {
		case *ast.DeferStmt:
			return true
		case *ast.BlockStmt:
			if i+1 < len(path) && path[i+1] == st {
				for j, x := range n.List {
					if x == st && j+1 < len(n.List) {
						_, ret := n.List[j+1].(*ast.ReturnStmt)
						return ret
					}
				}
			}
		case *ast.CaseClause, *ast.CommClause:
			var list []ast.Stmt
			if cc, ok := n.(*ast.CaseClause); ok {
				list = cc.Body
			} else {
				list = n.(*ast.CommClause).Body
			}
			for j, x := range list {
				if x == st && j+1 < len(list) {
					_, ret := list[j+1].(*ast.ReturnStmt)
					return ret
				}
				if x == st && i >= 2 {
					// The last statement of a case: the last act if the
					// select or switch is.
					if sw, ok := path[i-2].(ast.Stmt); ok {
						switch sw.(type) {
						case *ast.SelectStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt:
							return lastAct(body, sw)
						}
					}
				}
			}
		}
	}
	return false
}

// atEnd reports whether the call is deferred in body, or is its last
// statement.
func atEnd(body *ast.BlockStmt, call *ast.CallExpr) bool {
	if len(body.List) > 0 {
		if es, ok := body.List[len(body.List)-1].(*ast.ExprStmt); ok && es.X == call {
			return true
		}
	}
	for _, n := range pathTo(body, call) {
		if d, ok := n.(*ast.DeferStmt); ok && d.Call == call {
			return true
		}
	}
	return false
}

// pathTo returns the nodes from root down to n, both included, or nil.
func pathTo(root, n ast.Node) []ast.Node {
	var path, stack []ast.Node
	ast.Inspect(root, func(m ast.Node) bool {
		if path != nil {
			return false
		}
		if m == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if m.Pos() > n.Pos() || m.End() < n.End() {
			return false
		}
		stack = append(stack, m)
		if m == n {
			path = slices.Clone(stack)
			return false
		}
		return true
	})
	return path
}

// pkgInfo is what the rules need to know about the package as a whole.
type pkgInfo struct {
	info     *types.Info
	pkg      *types.Package
	decls    map[*types.Func]*ast.FuncDecl
	visiting map[*types.Func]bool
	// visitingGo holds the go statements whose ownership is being worked
	// out, for the goroutines that wait on them.
	visitingGo map[*ast.GoStmt]bool
	endedGo    map[*ast.GoStmt]bool // goOwnedOnce's answers
	// waited holds the fields and package variables that some code of
	// the package waits on: x.f.Wait(), <-x.f, range x.f, a loop that
	// polls x.f.
	waited map[*types.Var]bool
	// fromParam holds the fields set from a parameter (T{done: done},
	// x.done = done): the channel or group is the caller's, who waits on it.
	fromParam map[*types.Var]bool
	// alias maps a local copy of a shared channel or group (done :=
	// x.done) to the shared one.
	alias map[*types.Var]*types.Var
	// cancelOf maps the cancel function of ctx, cancel :=
	// context.WithCancel(context.Background()) (or WithCancelCause, or
	// TODO: a context that only its cancel ends) to ctx.
	// sentOn holds the shared channels that some code of the package sends
	// on, and unbuffered those for which every channel made is
	// unbuffered: a send there completes only once a receiver took it.
	sentOn, unbuffered map[*types.Var]bool
	cancelOf           map[*types.Var]*types.Var
	cancelFor          map[*types.Var]*types.Var // the other way
}

func newPkgInfo(info *types.Info, pkg *types.Package, files []*ast.File) *pkgInfo {
	p := &pkgInfo{
		info:       info,
		pkg:        pkg,
		decls:      make(map[*types.Func]*ast.FuncDecl),
		visiting:   make(map[*types.Func]bool),
		visitingGo: make(map[*ast.GoStmt]bool),
		endedGo:    make(map[*ast.GoStmt]bool),
		waited:     make(map[*types.Var]bool),

		fromParam: make(map[*types.Var]bool),
	}
	shared := func(v *types.Var) bool {
		return v != nil && (v.IsField() || (v.Parent() != nil && v.Parent() == pkg.Scope()))
	}
	syncish := func(v *types.Var) bool {
		return v != nil && (isChan(v.Type()) || groupOf(v.Type()) != notGroup)
	}
	params := make(map[*types.Var]bool)
	// Whether every channel made for a shared variable is unbuffered.
	p.sentOn = make(map[*types.Var]bool)
	p.unbuffered = make(map[*types.Var]bool)
	buffered := make(map[*types.Var]bool)
	makes := func(v *types.Var, e ast.Expr) {
		call, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok || !isBuiltin(info, call, "make") || !isChan(info.TypeOf(call)) {
			return
		}
		if len(call.Args) > 1 {
			if tv, ok := info.Types[call.Args[1]]; !ok || tv.Value == nil || constant.Sign(tv.Value) != 0 {
				buffered[v] = true
			}
		}
		p.unbuffered[v] = !buffered[v]
	}
	// A local copy of a shared channel or group (done := x.done; <-done)
	// waits on the shared one.
	alias := make(map[*types.Var]*types.Var)
	p.alias = alias
	p.cancelOf = make(map[*types.Var]*types.Var)
	p.cancelFor = make(map[*types.Var]*types.Var)
	selectSends := make(map[*ast.SendStmt]bool) // sends that a select may give up
	assigned := make(map[*types.Var]int)        // how often each local is assigned
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CommClause:
				if s, ok := n.Comm.(*ast.SendStmt); ok {
					selectSends[s] = true
				}
			case *ast.FuncType:
				for _, fld := range n.Params.List {
					for _, id := range fld.Names {
						if v, ok := info.Defs[id].(*types.Var); ok {
							params[v] = true
						}
					}
				}
			case *ast.AssignStmt:
				if len(n.Lhs) == 2 && len(n.Rhs) == 1 {
					if call, ok := ast.Unparen(n.Rhs[0]).(*ast.CallExpr); ok {
						// Only a context nothing else cancels: its Done says
						// cancel was called, not that a parent gave up.
						if fn := callee(info, call); (isFunc(fn, "context", "WithCancel") || isFunc(fn, "context", "WithCancelCause")) && len(call.Args) == 1 && isFreshContext(info, call.Args[0]) {
							ctx, cancel := varOf(info, n.Lhs[0]), varOf(info, n.Lhs[1])
							if ctx != nil && cancel != nil && !ctx.IsField() && !cancel.IsField() {
								p.cancelOf[cancel] = ctx
								p.cancelFor[ctx] = cancel
							}
						}
					}
				}
				if len(n.Lhs) != len(n.Rhs) {
					return true
				}
				for i, r := range n.Rhs {
					src, dst := varOf(info, r), varOf(info, n.Lhs[i])
					if shared(src) && dst != nil && !shared(dst) && syncish(src) {
						alias[dst] = src
					}
					if params[src] && dst != nil && dst.IsField() && syncish(dst) {
						p.fromParam[dst] = true
					}
				}
			case *ast.KeyValueExpr:
				if key, ok := n.Key.(*ast.Ident); ok {
					if fv := usedVar(info, key); fv != nil && fv.IsField() && syncish(fv) && params[varOf(info, n.Value)] {
						p.fromParam[fv] = true
					}
					if fv := usedVar(info, key); shared(fv) {
						makes(fv, n.Value)
					}
				}
			case *ast.SendStmt:
				if v := varOf(info, n.Chan); shared(v) && !selectSends[n] {
					p.sentOn[v] = true // a plain send: it waits for its receiver
				}
			}
			if as, ok := n.(*ast.AssignStmt); ok {
				for _, l := range as.Lhs {
					if v := varOf(info, l); v != nil && !shared(v) {
						assigned[v]++
					}
				}
			}
			if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) > 0 {
				for _, id := range vs.Names {
					if v, _ := info.Defs[id].(*types.Var); v != nil {
						assigned[v]++
					}
				}
			}
			if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
				for i, l := range as.Lhs {
					if v := varOf(info, l); shared(v) {
						makes(v, as.Rhs[i])
					}
				}
			}
			return true
		})
	}
	for v := range alias {
		if assigned[v] > 1 {
			delete(alias, v) // done := x.done, then done = make(...): not only x.done
		}
	}
	wait := func(v *types.Var) {
		if a := alias[v]; a != nil {
			v = a
		}
		if shared(v) {
			p.waited[v] = true
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				if fn, _ := info.Defs[fd.Name].(*types.Func); fn != nil {
					p.decls[fn] = fd
				}
			}
		}
		polls := nonBlockingComms(f)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if v, name, ok := methodCall(info, n); ok && (name == "Wait" || isWaitName(name) && v != nil && groupOf(v.Type()) != notGroup) {
					wait(v)
				}
			case *ast.ReturnStmt:
				// A done channel handed out (func (x *T) Done() <-chan
				// struct{} { return x.done }) is waited on by callers.
				for _, r := range n.Results {
					if v := varOf(info, r); shared(v) && isChan(v.Type()) {
						p.waited[v] = true
					}
				}
			case *ast.UnaryExpr:
				if v := recvChan(info, n); v != nil && !polls[n] {
					wait(v)
				}
			case *ast.RangeStmt:
				if isChan(info.TypeOf(n.X)) {
					if v := varOf(info, n.X); v != nil {
						wait(v)
					}
				}
			case *ast.ForStmt:
				// A loop that polls a flag: for !x.done.Load() { sleep }.
				for _, v := range polledFlags(info, n, func(e ast.Expr) *types.Var { return varOf(info, e) }) {
					wait(v)
				}
			}
			return true
		})
	}
	// A channel that one function both sends on and receives from is a
	// lock or a semaphore: its receives wait for no goroutine's end.
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			sent, recvd := make(map[*types.Var]bool), make(map[*types.Var]bool)
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SendStmt:
					if v := varOf(info, n.Chan); shared(v) {
						sent[v] = true
					}
				case *ast.UnaryExpr:
					if n.Op == token.ARROW {
						if v := varOf(info, n.X); shared(v) {
							recvd[v] = true
						}
					}
				}
				return true
			})
			for v := range sent {
				if recvd[v] {
					delete(p.waited, v)
				}
			}
		}
	}
	return p
}

// ctxDoneRecv returns ctx, if n is <-ctx.Done() with ctx one of vs.
func ctxDoneRecv(info *types.Info, n ast.Node, vs map[*types.Var]bool) bool {
	u, ok := n.(*ast.UnaryExpr)
	if !ok || u.Op != token.ARROW {
		return false
	}
	call, ok := ast.Unparen(u.X).(*ast.CallExpr)
	if !ok {
		return false
	}
	v, name, ok := methodCall(info, call)
	return ok && v != nil && name == "Done" && vs[v]
}

// blockRecvsDone reports whether entering b is a select case on
// <-ctx.Done() with ctx one of vs.
func blockRecvsDone(info *types.Info, b *cfg.Block, vs map[*types.Var]bool) bool {
	if b.Kind != cfg.KindSelectCaseBody {
		return false
	}
	cc, _ := b.Stmt.(*ast.CommClause)
	if cc == nil || cc.Comm == nil {
		return false
	}
	found := false
	ast.Inspect(cc.Comm, func(n ast.Node) bool {
		found = found || ctxDoneRecv(info, n, vs)
		return !found
	})
	return found
}

// isFreshContext reports whether e is context.Background() or
// context.TODO().
func isFreshContext(info *types.Info, e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := callee(info, call)
	return isFunc(fn, "context", "Background") || isFunc(fn, "context", "TODO")
}

// callEnds reports whether call is the last thing body does on its path:
// deferred, body's last statement, or a statement followed by a return.
func callEnds(body *ast.BlockStmt, call *ast.CallExpr) bool {
	if atEnd(body, call) {
		return true
	}
	path := pathTo(body, call)
	if len(path) < 2 {
		return false
	}
	switch st := path[len(path)-2].(type) {
	case *ast.ExprStmt:
		return lastAct(body, st)
	case *ast.AssignStmt:
		// if err := x.Close(); err != nil { log.Fatal(err) }: what follows
		// only reports the call's error.
		if len(path) >= 3 {
			if ifs, ok := path[len(path)-3].(*ast.IfStmt); ok && ifs.Init == st && ifs.Else == nil && !hasReturn(ifs.Body) && lastAct(body, ifs) {
				return true
			}
		}
	}
	return false
}
