package structvet

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
)

// function is a function declaration or literal with a body, as the
// flow-based rules see it.
type function struct {
	node ast.Node // *ast.FuncDecl or *ast.FuncLit
	body *ast.BlockStmt
	typ  *ast.FuncType
	g    *cfg.CFG
}

// functions calls f for every function of the package that has a body.
func functions(pass *analysis.Pass, f func(fn *function)) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	ins.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		body, typ := funcBody(n)
		if body == nil {
			return
		}
		fn := &function{node: n, body: body, typ: typ}
		switch n := n.(type) {
		case *ast.FuncDecl:
			fn.g = cfgs.FuncDecl(n)
		case *ast.FuncLit:
			fn.g = cfgs.FuncLit(n)
		}
		if fn.g != nil {
			f(fn)
		}
	})
}

// ownVars returns the variables declared in fn's body itself (not in the
// function literals inside it) for which keep returns true, in order.
func (fn *function) ownVars(info *types.Info, keep func(v *types.Var) bool) []*types.Var {
	var out []*types.Var
	ast.Inspect(fn.body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.Ident:
			if v, ok := info.Defs[n].(*types.Var); ok && v != nil && !v.IsField() && keep(v) {
				out = append(out, v)
			}
		}
		return true
	})
	return out
}

// where describes a return statement found by a flow, for messages.
func (fn *function) where(pass *analysis.Pass, ret *ast.ReturnStmt) string {
	line := pass.Fset.Position(ret.Pos()).Line
	if ret.Pos() == fn.body.End()-1 {
		return fmt.Sprintf("the end of %s (line %d)", funcName(fn.node), line)
	}
	return fmt.Sprintf("the return on line %d", line)
}

// requires lists the analyzers that the flow-based rules need.
var requires = []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer}
