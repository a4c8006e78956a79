package structvet

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// TaskCtx is rule SV006: a function literal passed as a task (to n.Go,
// nursery.Spawn, nursery.Start, Gather, timeout.FailAfter, a cancel scope's
// Run: any function of this toolkit that hands a task its context) that
// never uses its ctx parameter while it calls something that takes a
// context. It passes another context instead, usually the enclosing
// function's ctx, so the nursery's cancellation, or the timeout, does not
// reach that call.
//
// The suggested fix renames the parameter to the name of the context the
// body uses, which makes the body use the task's context.
//
// With -taskctx.all, any function literal passed as an argument whose first
// parameter is a context.Context is checked, whatever it is passed to.
var TaskCtx = &analysis.Analyzer{
	Name:     "taskctx",
	Doc:      "report a task function that ignores its ctx parameter and passes another context on (SV006)",
	URL:      docURL + "sv006",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runTaskCtx,
}

var taskCtxAll bool

func init() {
	TaskCtx.Flags.BoolVar(&taskCtxAll, "all", false, "check function literals passed to any function, not only this toolkit's")
}

func runTaskCtx(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "SV006")
	info := pass.TypesInfo
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		fn := callee(info, call)
		if fn == nil || !(taskCtxAll || inToolkit(fn)) {
			return
		}
		for _, a := range call.Args {
			lit, ok := ast.Unparen(a).(*ast.FuncLit)
			if !ok {
				continue
			}
			checkTask(pass, r, fn, lit)
		}
	})
	return nil, nil
}

// checkTask reports lit if it ignores its context parameter.
func checkTask(pass *analysis.Pass, r *reporter, fn *types.Func, lit *ast.FuncLit) {
	info := pass.TypesInfo
	params := lit.Type.Params
	if params == nil || len(params.List) == 0 || !isContext(info.TypeOf(params.List[0].Type)) {
		return
	}
	first := params.List[0]
	var param *types.Var
	if len(first.Names) > 0 && first.Names[0].Name != "_" {
		param, _ = info.Defs[first.Names[0]].(*types.Var)
		if param == nil || used(info, lit.Body, param) {
			return
		}
	}
	// The calls that take a context other than the parameter.
	var args []ast.Expr
	var calls []*ast.CallExpr
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if inner, ok := n.(*ast.FuncLit); ok && takesContext(info, inner) {
			return false // it has a context of its own
		}
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		for _, a := range call.Args {
			if isContext(info.TypeOf(a)) {
				args = append(args, a)
				calls = append(calls, call)
				break
			}
		}
		return true
	})
	if len(args) == 0 {
		return
	}
	what := "its ctx parameter"
	if param == nil {
		what = "the context it is given"
	}
	msg := fmt.Sprintf("the function passed to %s ignores %s and calls %s with %s: cancelling the task does not reach that call; use the task's ctx",
		fn.Name(), what, types.ExprString(calls[0].Fun), types.ExprString(args[0]))
	r.report(lit.Pos(), lit.Type.End(), msg, renameFix(pass, lit, first, args)...)
}

// renameFix returns the fix that names the context parameter after the one
// variable, declared outside lit, that every context argument in it is.
func renameFix(pass *analysis.Pass, lit *ast.FuncLit, first *ast.Field, args []ast.Expr) []analysis.SuggestedFix {
	info := pass.TypesInfo
	var outer *types.Var
	for _, a := range args {
		id, ok := ast.Unparen(a).(*ast.Ident)
		if !ok {
			return nil
		}
		v, _ := info.Uses[id].(*types.Var)
		if v == nil || (lit.Pos() <= v.Pos() && v.Pos() < lit.End()) || (outer != nil && v != outer) {
			return nil
		}
		outer = v
	}
	name := outer.Name()
	var edit analysis.TextEdit
	switch {
	case len(first.Names) > 0:
		if len(first.Names) > 1 {
			return nil
		}
		edit = analysis.TextEdit{Pos: first.Names[0].Pos(), End: first.Names[0].End(), NewText: []byte(name)}
	default:
		// Unnamed parameters: all must get names, or none.
		if len(lit.Type.Params.List) > 1 {
			return nil
		}
		edit = analysis.TextEdit{Pos: first.Type.Pos(), End: first.Type.Pos(), NewText: []byte(name + " ")}
	}
	return []analysis.SuggestedFix{{
		Message:   fmt.Sprintf("Name the parameter %s, so that the body uses the task's context", name),
		TextEdits: []analysis.TextEdit{edit},
	}}
}

// used reports whether v is used in body.
func used(info *types.Info, body ast.Node, v *types.Var) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == v {
			found = true
		}
		return !found
	})
	return found
}

// takesContext reports whether the literal has a context.Context parameter.
func takesContext(info *types.Info, lit *ast.FuncLit) bool {
	for _, f := range lit.Type.Params.List {
		if isContext(info.TypeOf(f.Type)) {
			return true
		}
	}
	return false
}
