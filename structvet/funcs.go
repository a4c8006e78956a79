package structvet

import (
	"fmt"
	"go/ast"
	"go/types"
	"strconv"
	"strings"

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

// whereAll describes the returns found by a flow, for messages: "the return
// on line 12 is reached", "the returns on lines 12 and 30 are reached", "the
// return on line 12 and the end of f (line 40) are reached".
func (fn *function) whereAll(pass *analysis.Pass, rets []*ast.ReturnStmt) string {
	var lines []string
	end := ""
	for _, ret := range rets {
		line := pass.Fset.Position(ret.Pos()).Line
		if ret.Pos() == fn.body.End()-1 {
			end = fmt.Sprintf("the end of %s (line %d)", funcName(fn.node), line)
			continue
		}
		lines = append(lines, strconv.Itoa(line))
	}
	var parts []string
	switch len(lines) {
	case 0:
	case 1:
		parts = append(parts, "the return on line "+lines[0])
	default:
		parts = append(parts, "the returns on lines "+andList(lines))
	}
	if end != "" {
		parts = append(parts, end)
	}
	verb := " is reached"
	if len(rets) > 1 {
		verb = " are reached"
	}
	return andList(parts) + verb
}

// andList joins words as "a", "a and b", "a, b and c".
func andList(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// requires lists the analyzers that the flow-based rules need.
var requires = []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer}
