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
// Defaulting a nil context (if ctx == nil { ctx = context.Background() })
// is not reported, nor is a context in scope that is itself a fresh one.
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
		if ctx == nil || fresh[ctx] || defaultsNil(info, stack) || compared(stack) {
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

// compared reports whether the call at the top of stack is an operand of ==
// or != (o.ctx != context.Background()): a test, not new work.
func compared(stack []ast.Node) bool {
	if len(stack) < 2 {
		return false
	}
	b, ok := stack[len(stack)-2].(*ast.BinaryExpr)
	return ok && (b.Op == token.EQL || b.Op == token.NEQ)
}

// freshContexts returns the context variables that carry no caller's
// cancellation: declared without a value or with context.Background() or
// TODO(), and only ever assigned fresh contexts (var ctx context.Context;
// ctx, stop = context.WithCancel(context.Background())). Parameters are
// never fresh. A fresh context more where one of them is in scope cuts
// nothing.
func freshContexts(pass *analysis.Pass) map[*types.Var]bool {
	info := pass.TypesInfo
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	fresh := make(map[*types.Var]bool)
	spoilt := make(map[*types.Var]bool) // parameters, or assigned a caller's context
	ins.Preorder([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.FuncType)(nil)}, func(n ast.Node) {
		var lhs, rhs []ast.Expr
		switch n := n.(type) {
		case *ast.FuncType:
			for _, f := range n.Params.List {
				for _, id := range f.Names {
					if v, ok := info.Defs[id].(*types.Var); ok {
						spoilt[v] = true
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
						fresh[v] = true // nil
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
			if e != nil && freshExpr(info, e) {
				fresh[v] = true
			} else {
				spoilt[v] = true
			}
		}
	})
	for v := range spoilt {
		delete(fresh, v)
	}
	return fresh
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
