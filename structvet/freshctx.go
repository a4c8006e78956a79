package structvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// FreshCtx is rule SV004, experimental (off by default):
// context.Background() or context.TODO() in a function that has a
// context.Context in scope. The work started with the
// fresh context is not cancelled with the caller's, and its values (trace
// IDs, deadlines) are lost. Pass the context in scope; for cleanup that
// must outlive it, context.WithoutCancel(ctx) keeps its values and says so.
//
// Not reported: defaulting a nil context (if ctx == nil { ctx =
// context.Background() }), a comparison with context.Background(), a fresh
// context where the context in scope is itself a fresh one (also derived
// from one, or a test's t.Context()), a fresh context made after the
// function has waited for <-ctx.Done() (cleanup that must outlive ctx, such
// as srv.Shutdown after cancellation), a fresh context passed to a call that
// does not use it (a function that ignores that parameter, a logger's
// Printf: a log line is not work to cancel), and a fresh context returned by
// a function that returns a context derived from the caller's on its other
// paths (a choice, made on purpose, of which to use).
var FreshCtx = &analysis.Analyzer{
	Name:     "freshctx",
	Doc:      "report context.Background() or context.TODO() where a context.Context is in scope (SV004)",
	URL:      docURL + "sv004",
	Requires: []*analysis.Analyzer{inspect.Analyzer, factsAnalyzer},
	Run:      runFreshCtx,
}

func runFreshCtx(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "SV004")
	info := pass.TypesInfo
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	fresh := freshContexts(pass)
	facts := pass.ResultOf[factsAnalyzer].(*factSet)
	ins.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		if !isFreshCtx(info, call) {
			return true
		}
		ctx := ctxInScope(pass, call.Pos())
		if ctx == nil || fresh.at(ctx, call.Pos()) || defaultsNil(info, stack) || compared(stack) || afterDone(info, stack, ctx, call.Pos()) ||
			unneeded(info, facts, stack) || chosen(info, fresh, stack) {
			return true
		}
		fn := callee(info, call).Name()
		msg := fmt.Sprintf("context.%s() cuts the chain of cancellation from %s: pass %s, or context.WithoutCancel(%s) for work that must outlive it",
			fn, ctx.Name(), ctx.Name(), ctx.Name())
		fix := analysis.SuggestedFix{
			Message:   fmt.Sprintf("Use %s", ctx.Name()),
			TextEdits: []analysis.TextEdit{{Pos: call.Pos(), End: call.End(), NewText: []byte(ctx.Name())}},
		}
		r.reportNode(call, msg, fix)
		return true
	})
	return nil, nil
}

// isFreshCtx reports whether call is context.Background() or context.TODO().
func isFreshCtx(info *types.Info, call *ast.CallExpr) bool {
	fn := callee(info, call)
	return isFunc(fn, "context", "Background") || isFunc(fn, "context", "TODO")
}

// defaultsNil reports whether the call at the top of stack is the default
// for a nil context: `if ctx == nil { ctx = context.Background() }`, or
// `if ctx == nil { return f(context.Background()) }`.
func defaultsNil(info *types.Info, stack []ast.Node) bool {
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return false
		case *ast.IfStmt:
			if nilCheckOfCtx(info, n.Cond) {
				return true
			}
		}
	}
	return false
}

// nilCheckOfCtx reports whether cond compares a context with nil.
func nilCheckOfCtx(info *types.Info, cond ast.Expr) bool {
	found := false
	ast.Inspect(cond, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryExpr)
		if !ok || b.Op != token.EQL {
			return !found
		}
		for _, pair := range [][2]ast.Expr{{b.X, b.Y}, {b.Y, b.X}} {
			if id, ok := ast.Unparen(pair[1]).(*ast.Ident); ok && id.Name == "nil" && isContext(info.TypeOf(pair[0])) {
				found = true
			}
		}
		return !found
	})
	return found
}

// afterDone reports whether the function around the call at the top of
// stack has already waited for ctx to be done (<-ctx.Done(), also as a
// select case) before the call, in the order of the source: a fresh context
// there is for cleanup that must outlive ctx (srv.Shutdown after
// cancellation), which is what it is for.
func afterDone(info *types.Info, stack []ast.Node, ctx *types.Var, pos token.Pos) bool {
	body := enclosingFuncBody(stack)
	if body == nil {
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if found || n == nil || n.Pos() >= pos {
			return false
		}
		if lit, ok := n.(*ast.FuncLit); ok && !(lit.Pos() <= pos && pos < lit.End()) {
			return false // another function's wait
		}
		u, ok := n.(*ast.UnaryExpr)
		if !ok || u.Op != token.ARROW {
			return true
		}
		if call, ok := ast.Unparen(u.X).(*ast.CallExpr); ok {
			if v, name, ok := methodCall(info, call); ok && v == ctx && name == "Done" {
				found = true
			}
		}
		return !found
	})
	return found
}

// enclosingFuncBody returns the body of the innermost function on stack.
func enclosingFuncBody(stack []ast.Node) *ast.BlockStmt {
	for i := len(stack) - 1; i >= 0; i-- {
		if b, _ := funcBody(stack[i]); b != nil {
			return b
		}
	}
	return nil
}

// unneeded reports whether the call at the top of stack is an argument of
// a call that does not use it: a parameter the callee ignores (facts), or a
// logging call (a method or function named like a log level or Printf, of
// a type or package whose name says log): a log line is not work to
// cancel.
func unneeded(info *types.Info, facts *factSet, stack []ast.Node) bool {
	if len(stack) < 2 {
		return false
	}
	arg := stack[len(stack)-1]
	call, ok := stack[len(stack)-2].(*ast.CallExpr)
	if !ok {
		return false
	}
	for i, a := range call.Args {
		if a == arg && facts.ignoresCtxArg(info, call, i) {
			return true
		}
	}
	return isLogCall(info, call)
}

// logVerbs are the names of logging functions and methods, lower case,
// without a Context or Ctx suffix.
var logVerbs = map[string]bool{
	"print": true, "printf": true, "println": true, "log": true, "logf": true, "logattrs": true,
	"debug": true, "debugf": true, "info": true, "infof": true, "warn": true, "warnf": true,
	"warning": true, "warningf": true, "error": true, "errorf": true, "trace": true, "tracef": true,
	"notice": true, "noticef": true, "fatal": true, "fatalf": true,
}

// isLogCall reports whether call logs: its function is named like a log
// level or Printf, and it or its receiver's type belongs to something
// named for logging (a Logger, package log, slog, logrus, zap's logger).
func isLogCall(info *types.Info, call *ast.CallExpr) bool {
	fn := callee(info, call)
	var name, owner string
	if fn != nil {
		name = fn.Name()
		if sig, _ := fn.Type().(*types.Signature); sig != nil && sig.Recv() != nil {
			if n, ok := types.Unalias(deref(sig.Recv().Type())).(*types.Named); ok {
				owner = n.Obj().Name()
			}
		}
		if fn.Pkg() != nil {
			owner += " " + fn.Pkg().Name()
		}
	} else if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		name = sel.Sel.Name // a func-typed field or variable
		owner = types.ExprString(sel.X)
	}
	name = strings.ToLower(name)
	name = strings.TrimSuffix(strings.TrimSuffix(name, "context"), "ctx")
	return logVerbs[name] && strings.Contains(strings.ToLower(owner), "log")
}

// chosen reports whether the call at the top of stack is returned, as a
// context, by a function that returns a context that is not fresh on
// another path: it chooses, on purpose, which context its callers get.
func chosen(info *types.Info, fresh *freshness, stack []ast.Node) bool {
	if len(stack) < 2 {
		return false
	}
	ret, ok := stack[len(stack)-2].(*ast.ReturnStmt)
	if !ok {
		return false
	}
	idx := slices.Index(ret.Results, ast.Expr(stack[len(stack)-1].(*ast.CallExpr)))
	body := enclosingFuncBody(stack)
	if idx < 0 || body == nil {
		return false
	}
	other := false
	ast.Inspect(body, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		r, ok := n.(*ast.ReturnStmt)
		if !ok || r == ret || len(r.Results) <= idx {
			return !other
		}
		e := r.Results[idx]
		if isContext(info.TypeOf(e)) && !fresh.freshExpr(info, e, e.Pos()) {
			if id, ok := ast.Unparen(e).(*ast.Ident); !ok || id.Name != "nil" {
				other = true
			}
		}
		return !other
	})
	return other
}

// compared reports whether the call at the top of stack is an operand of ==
// or != (o.ctx != context.Background()): a test, not new work.
func compared(stack []ast.Node) bool {
	if len(stack) < 2 {
		return false
	}
	b, ok := stack[len(stack)-2].(*ast.BinaryExpr)
	return ok && (b.Op == token.EQL || b.Op == token.NEQ)
}

// freshness tells which context variables carry no caller's cancellation
// at a point of the code: declared without a value or with
// context.Background(), TODO() or a test's t.Context(), or derived from one
// (ctx, stop := context.WithTimeout(context.Background(), d), also through
// a variable: base := context.Background(); ctx, stop :=
// context.WithCancel(base)), and, before that point in the source, only
// ever assigned such contexts. Parameters are never fresh. A fresh context
// more where one of them is in scope cuts nothing, and a sleep that ignores
// one delays nothing that a caller asked for.
type freshness struct {
	params  map[*types.Var]bool
	assigns map[*types.Var][]assign
}

type assign struct {
	pos   token.Pos
	fresh bool // Background(), TODO(), t.Context(), nil, or derived from one
	never bool // Background(), TODO() or nil itself: never done
	// own is set for a context derived from a fresh one whose cancel
	// function the function that made it only calls itself, directly (not
	// in a closure, not handed on): while that function runs, only its own
	// deadline can end the context, or a test's end for t.Context().
	own bool
	fn  ast.Node // the function whose body holds the assignment
}

// at reports whether v is fresh at pos: it carries no caller's
// cancellation.
func (f *freshness) at(v *types.Var, pos token.Pos) bool {
	return f.all(v, pos, func(a assign) bool { return a.fresh })
}

// neverDone reports whether v, at pos, can never be done: it holds
// context.Background(), TODO() or nil, not even with a deadline or a cancel
// function of its own.
func (f *freshness) neverDone(v *types.Var, pos token.Pos) bool {
	return f.all(v, pos, func(a assign) bool { return a.never })
}

// ownIn reports whether v, at pos in the body of fn, is a context that fn
// made itself and that nothing else cancels: a sleep there delays no one's
// cancellation but fn's own.
func (f *freshness) ownIn(v *types.Var, pos token.Pos, fn ast.Node) bool {
	return f.all(v, pos, func(a assign) bool { return a.never || a.own && a.fn == fn })
}

func (f *freshness) all(v *types.Var, pos token.Pos, ok func(assign) bool) bool {
	if v == nil || f.params[v] {
		return false
	}
	seen := false
	for _, a := range f.assigns[v] {
		if a.pos >= pos {
			continue
		}
		if !ok(a) {
			return false
		}
		seen = true
	}
	return seen
}

func freshContexts(pass *analysis.Pass) *freshness {
	info := pass.TypesInfo
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	f := &freshness{params: make(map[*types.Var]bool), assigns: make(map[*types.Var][]assign)}
	// In the order of the source, so that a context derived from a
	// variable sees that variable's assignments first.
	ins.WithStack([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.FuncType)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		var lhs, rhs []ast.Expr
		fn := enclosingFunc(stack)
		switch n := n.(type) {
		case *ast.FuncType:
			for _, fld := range n.Params.List {
				for _, id := range fld.Names {
					if v, ok := info.Defs[id].(*types.Var); ok {
						f.params[v] = true
					}
				}
			}
			return true
		case *ast.AssignStmt:
			lhs, rhs = n.Lhs, n.Rhs
		case *ast.ValueSpec:
			for _, id := range n.Names {
				lhs = append(lhs, id)
			}
			rhs = n.Values
			if len(rhs) == 0 {
				for _, id := range n.Names {
					if v, ok := info.Defs[id].(*types.Var); ok && isContext(v.Type()) {
						f.assigns[v] = append(f.assigns[v], assign{pos: id.Pos(), fresh: true, never: true, fn: fn}) // nil
					}
				}
				return true
			}
		}
		for i, l := range lhs {
			v := varOf(info, l)
			if v == nil || !isContext(v.Type()) {
				continue
			}
			var e ast.Expr
			switch {
			case len(lhs) == len(rhs):
				e = rhs[i]
			case len(rhs) == 1:
				e = rhs[0] // ctx, stop := context.WithCancel(...); g, ctx := errgroup.WithContext(...)
			}
			a := assign{pos: l.Pos(), fresh: e != nil && f.freshExpr(info, e, l.Pos()), fn: fn}
			if call, ok := ast.Unparen(e).(*ast.CallExpr); ok && len(lhs) == len(rhs) {
				a.never = isFreshCtx(info, call)
				a.own = a.fresh && isTestContext(info, call)
			}
			if a.fresh && len(lhs) == 2 && len(rhs) == 1 && i == 0 && fn != nil {
				if stop := varOf(info, lhs[1]); stop != nil && calledOnlyBy(info, fn, stop) {
					a.own = true
				}
			}
			f.assigns[v] = append(f.assigns[v], a)
		}
		return true
	})
	return f
}

// calledOnlyBy reports whether the function in stop is only called, by
// fn itself (stop(), defer stop()), and used no other way.
func calledOnlyBy(info *types.Info, fn ast.Node, stop *types.Var) bool {
	body, _ := funcBody(fn)
	if body == nil {
		return false
	}
	return !anyUse(info, body, stop, func(stack []ast.Node) bool {
		id := stack[len(stack)-1]
		if call, ok := stack[len(stack)-2].(*ast.CallExpr); !ok || call.Fun != id {
			return true // handed on, stored, or compared
		}
		for _, s := range stack {
			if _, lit := s.(*ast.FuncLit); lit {
				return true // called by a closure, which may run at any time
			}
		}
		return false
	})
}

// isTestContext reports whether call is t.Context() of a *testing.T, B or
// F: done only when the test ends.
func isTestContext(info *types.Info, call *ast.CallExpr) bool {
	fn := callee(info, call)
	return isMethodOf(fn, "testing", "T", "Context") || isMethodOf(fn, "testing", "B", "Context") ||
		isMethodOf(fn, "testing", "F", "Context") || isMethodOf(fn, "testing", "common", "Context")
}

// freshExpr reports whether e, assigned at pos, is a fresh context:
// context.Background(), TODO(), t.Context(), a variable fresh at pos, or a
// call whose first argument is one (context.WithCancel(context.Background())).
func (f *freshness) freshExpr(info *types.Info, e ast.Expr, pos token.Pos) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		v, _ := info.Uses[e].(*types.Var)
		return v != nil && isContext(v.Type()) && f.at(v, pos)
	case *ast.CallExpr:
		if isFreshCtx(info, e) || isTestContext(info, e) {
			return true
		}
		if len(e.Args) > 0 && isContext(info.TypeOf(e.Args[0])) {
			return f.freshExpr(info, e.Args[0], pos)
		}
	}
	return false
}
