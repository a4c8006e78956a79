package structvet

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// NurseryEscape is rule SV005: a *nursery.Nursery that leaves the function
// it was given to, by being stored in a field, a global or a variable of an
// enclosing function, returned, or sent on a channel. A Nursery is valid
// only while its Run is running: a Go on it afterwards panics with
// ErrClosed. Pass it down as an argument instead; a call that uses it
// returns before the body does.
//
// A Nursery kept in a local variable, or in a local struct, is fine.
var NurseryEscape = &analysis.Analyzer{
	Name:     "nurseryescape",
	Doc:      "report a *nursery.Nursery stored in a field or global, returned, or sent on a channel (SV005)",
	URL:      docURL + "sv005",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runNurseryEscape,
}

func runNurseryEscape(pass *analysis.Pass) (any, error) {
	if pass.Pkg.Path() == nurseryPath {
		return nil, nil // the nursery's own code makes and keeps them
	}
	r := newReporter(pass, "SV005")
	info := pass.TypesInfo
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	kinds := []ast.Node{(*ast.AssignStmt)(nil), (*ast.ReturnStmt)(nil), (*ast.SendStmt)(nil)}
	ins.WithStack(kinds, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		fnNode := enclosingFunc(stack)
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, rhs := range n.Rhs {
				nx := nurseryIn(info, rhs)
				if nx == nil {
					continue
				}
				if where := outward(info, n.Lhs[i], fnNode); where != "" {
					r.reportNode(nx, fmt.Sprintf("the *nursery.Nursery escapes into %s: once Run returns, Go on it panics; pass it down as an argument instead", where))
				}
			}
		case *ast.ReturnStmt:
			for _, res := range n.Results {
				if nx := nurseryIn(info, res); nx != nil {
					r.reportNode(nx, "the *nursery.Nursery is returned: once Run returns, Go on it panics; pass it down as an argument instead")
				}
			}
		case *ast.SendStmt:
			if nx := nurseryIn(info, n.Value); nx != nil {
				r.reportNode(nx, "the *nursery.Nursery is sent on a channel: once Run returns, Go on it panics; pass it down as an argument instead")
			}
		}
		return true
	})
	return nil, nil
}

// nurseryIn returns the *nursery.Nursery expression that e is or carries
// (in a composite literal, an append, a closure that uses it), or nil.
func nurseryIn(info *types.Info, e ast.Expr) ast.Expr {
	var found ast.Expr
	var visit func(e ast.Expr)
	visit = func(e ast.Expr) {
		if found != nil || e == nil {
			return
		}
		e = ast.Unparen(e)
		if isNurseryPtr(info.TypeOf(e)) {
			found = e
			return
		}
		switch e := e.(type) {
		case *ast.CompositeLit:
			for _, el := range e.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					visit(kv.Value)
				} else {
					visit(el)
				}
			}
		case *ast.UnaryExpr:
			visit(e.X)
		case *ast.FuncLit:
			// A closure over a Nursery of the function carries it along.
			ast.Inspect(e.Body, func(n ast.Node) bool {
				id, ok := n.(*ast.Ident)
				if !ok || found != nil {
					return found == nil
				}
				if v, ok := info.Uses[id].(*types.Var); ok && isNurseryPtr(v.Type()) && !(e.Pos() <= v.Pos() && v.Pos() < e.End()) {
					found = id
				}
				return true
			})
		case *ast.CallExpr:
			if isBuiltin(info, e, "append") {
				for _, a := range e.Args[1:] {
					visit(a)
				}
			}
		}
	}
	visit(e)
	return found
}

// outward describes where an assignment to lhs stores its value, if that
// place outlives the function whose body is given: a field of something not
// declared in it, a package variable, a variable of an enclosing function.
// It returns "" for a local variable or parameter of fnNode.
func outward(info *types.Info, lhs ast.Expr, fnNode ast.Node) string {
	lhs = ast.Unparen(lhs)
	root := lhs
	for {
		switch x := root.(type) {
		case *ast.SelectorExpr:
			root = x.X
			continue
		case *ast.IndexExpr:
			root = x.X
			continue
		case *ast.StarExpr:
			root = x.X
			continue
		case *ast.ParenExpr:
			root = x.X
			continue
		}
		break
	}
	id, ok := root.(*ast.Ident)
	if !ok {
		return types.ExprString(lhs)
	}
	v, ok := info.ObjectOf(id).(*types.Var)
	if !ok {
		if _, isPkg := info.ObjectOf(id).(*types.PkgName); isPkg {
			return "the package variable " + types.ExprString(lhs)
		}
		return ""
	}
	if v.Parent() != nil && v.Parent().Parent() == types.Universe {
		return "the package variable " + types.ExprString(lhs)
	}
	inFn := fnNode != nil && fnNode.Pos() <= v.Pos() && v.Pos() < fnNode.End()
	inBody := false
	if b, _ := funcBody(fnNode); b != nil {
		inBody = isLocal(v, b)
	}
	switch {
	case root == lhs && inFn:
		return "" // a local variable or parameter
	case root == lhs:
		return "the variable " + v.Name() + ", declared outside this function"
	case inBody:
		return "" // a field of a local struct
	}
	return types.ExprString(lhs)
}

// enclosingFunc returns the innermost function declaration or literal on
// stack.
func enclosingFunc(stack []ast.Node) ast.Node {
	for i := len(stack) - 1; i >= 0; i-- {
		if b, _ := funcBody(stack[i]); b != nil {
			return stack[i]
		}
	}
	return nil
}
