package structvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// FreshCtx is rule SV004: context.Background() or context.TODO() in a
// function that has a context.Context in scope. The work started with the
// fresh context is not cancelled with the caller's, and its values (trace
// IDs, deadlines) are lost. Pass the context in scope; for cleanup that
// must outlive it, context.WithoutCancel(ctx) keeps its values and says so.
//
// Not reported: defaulting a nil context (if ctx == nil { ctx =
// context.Background() }), a comparison with context.Background(), a fresh
// context where the context in scope is itself a fresh one, and a fresh
// context made after the function has waited for <-ctx.Done(): cleanup that
// must outlive ctx, such as srv.Shutdown after cancellation.
var FreshCtx = &analysis.Analyzer{
	Name:     "freshctx",
	Doc:      "report context.Background() or context.TODO() where a context.Context is in scope (SV004)",
	URL:      docURL + "sv004",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runFreshCtx,
}

func runFreshCtx(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "SV004")
	info := pass.TypesInfo
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	fresh := freshContexts(pass)
	ins.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		if !isFreshCtx(info, call) {
			return true
		}
		ctx := ctxInScope(pass, call.Pos())
		if ctx == nil || fresh.at(ctx, call.Pos()) || defaultsNil(info, stack) || compared(stack) || afterDone(info, stack, ctx, call.Pos()) {
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
// context.Background() or TODO(), and, before that point in the source, only
// ever assigned fresh contexts (var ctx context.Context; ctx, stop =
// context.WithCancel(context.Background())). Parameters are never fresh. A
// fresh context more where one of them is in scope cuts nothing, and a
// sleep that ignores one delays nothing.
type freshness struct {
	params  map[*types.Var]bool
	assigns map[*types.Var][]assign
}

type assign struct {
	pos   token.Pos
	fresh bool // Background(), TODO(), nil, or derived from one
	never bool // Background(), TODO() or nil itself: never done
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
	ins.Preorder([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.FuncType)(nil)}, func(n ast.Node) {
		var lhs, rhs []ast.Expr
		switch n := n.(type) {
		case *ast.FuncType:
			for _, fld := range n.Params.List {
				for _, id := range fld.Names {
					if v, ok := info.Defs[id].(*types.Var); ok {
						f.params[v] = true
					}
				}
			}
			return
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
						f.assigns[v] = append(f.assigns[v], assign{id.Pos(), true, true}) // nil
					}
				}
				return
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
			case len(rhs) == 1 && i == 0:
				e = rhs[0] // ctx, stop := context.WithCancel(...)
			}
			a := assign{pos: l.Pos(), fresh: e != nil && freshExpr(info, e)}
			if call, ok := ast.Unparen(e).(*ast.CallExpr); ok && len(lhs) == len(rhs) {
				a.never = isFreshCtx(info, call)
			}
			f.assigns[v] = append(f.assigns[v], a)
		}
	})
	return f
}

// freshExpr reports whether e is context.Background() or TODO(), or a call
// whose first argument is one (context.WithCancel(context.Background())).
func freshExpr(info *types.Info, e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	if isFreshCtx(info, call) {
		return true
	}
	if len(call.Args) > 0 {
		if inner, ok := ast.Unparen(call.Args[0]).(*ast.CallExpr); ok && isFreshCtx(info, inner) {
			return true
		}
	}
	return false
}
