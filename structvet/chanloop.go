package structvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// ChanLoop is rule SV007: a channel send, or a receive, inside a loop in a
// task (a goroutine, or a function passed to n.Go, Spawn, errgroup's Go or
// a wait group's Go) that has a context in scope, and that is not a case of
// a select. Once the other side stops (the consumer broke out of its loop,
// the producer returned), the task blocks there forever: the classic
// goroutine leak. Select on the operation and on ctx.Done().
//
// Receives from timers, tickers and Done channels are not reported: they
// end by themselves. Sends on a channel made with a capacity that depends
// on the work (make(chan T, len(jobs))), which holds every value, or on one
// that a deferred loop drains, are not reported either.
var ChanLoop = &analysis.Analyzer{
	Name:     "chanloop",
	Doc:      "report a channel send or receive in a loop in a task, outside a select on ctx.Done() (SV007)",
	URL:      docURL + "sv007",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runChanLoop,
}

func runChanLoop(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "SV007")
	info := pass.TypesInfo
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	sized := sizedChans(pass)
	check := func(lit *ast.FuncLit) {
		checkLoops(pass, r, lit, sized)
	}
	ins.Preorder([]ast.Node{(*ast.GoStmt)(nil), (*ast.CallExpr)(nil)}, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.GoStmt:
			if lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok {
				check(lit)
			}
		case *ast.CallExpr:
			if !isTaskStarter(info, n) {
				return
			}
			for _, a := range n.Args {
				if lit, ok := ast.Unparen(a).(*ast.FuncLit); ok {
					check(lit)
				}
			}
		}
	})
	return nil, nil
}

// isTaskStarter reports whether call starts its function arguments as
// tasks: this toolkit's Go, Spawn, Start, or a group's Go.
func isTaskStarter(info *types.Info, call *ast.CallExpr) bool {
	fn := callee(info, call)
	switch {
	case isMethodOf(fn, nurseryPath, "Nursery", "Go"),
		isFunc(fn, nurseryPath, "Spawn"), isFunc(fn, nurseryPath, "Start"):
		return true
	}
	if v := groupStart(info, call); v != nil {
		_, name, _ := methodCall(info, call)
		return name == "Go" || name == "TryGo"
	}
	return false
}

// checkLoops reports the blocking channel operations in the loops of the
// task lit (not in the function literals inside it, which are checked if
// they are tasks themselves).
func checkLoops(pass *analysis.Pass, r *reporter, lit *ast.FuncLit, sized map[*types.Var]bool) {
	info := pass.TypesInfo
	var stack []ast.Node
	loops := 0
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if n == nil {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch top.(type) {
			case *ast.ForStmt, *ast.RangeStmt:
				loops--
			}
			return true
		}
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			loops++
		case *ast.SendStmt:
			if loops > 0 && !isComm(stack) {
				ch := varOf(info, n.Chan)
				if ch != nil && sized[ch] {
					return true
				}
				if ctx := ctxInScope(pass, n.Pos()); ctx != nil {
					r.reportNode(n, fmt.Sprintf("this send on %s in a loop blocks forever once the receiver stops: select on it and on %s.Done()",
						types.ExprString(n.Chan), ctx.Name()), sendFix(pass, lit, n, ctx)...)
				}
			}
		case *ast.UnaryExpr:
			if n.Op != token.ARROW || loops == 0 || isComm(stack) || endsByItself(info, n.X) {
				return true
			}
			if ctx := ctxInScope(pass, n.Pos()); ctx != nil {
				r.reportNode(n, fmt.Sprintf("this receive from %s in a loop blocks forever once the sender stops without closing it: select on it and on %s.Done()",
					types.ExprString(n.X), ctx.Name()))
			}
		}
		return true
	})
}

// isComm reports whether the node at the top of stack is (part of) the
// communication of a select case.
func isComm(stack []ast.Node) bool {
	for i := len(stack) - 1; i > 0; i-- {
		if cc, ok := stack[i-1].(*ast.CommClause); ok {
			return cc.Comm == stack[i]
		}
		switch stack[i].(type) {
		case *ast.ExprStmt, *ast.AssignStmt, *ast.SendStmt:
		case ast.Stmt:
			return false
		}
	}
	return false
}

// endsByItself reports whether receiving from ch cannot block forever: a
// timer's or ticker's channel, time.After, a Done() channel.
func endsByItself(info *types.Info, ch ast.Expr) bool {
	if t, ok := info.TypeOf(ch).(*types.Chan); ok && isNamed(t.Elem(), "time", "Time") {
		return true
	}
	if call, ok := ast.Unparen(ch).(*ast.CallExpr); ok {
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && sel.Sel.Name == "Done" {
			return true
		}
	}
	return false
}

// sizedChans returns the channels on which a send cannot block forever:
// made with a capacity that is not a constant (make(chan T, len(jobs))),
// sized to hold every value; or drained by a deferred loop
// (defer func() { for range ch {} }()).
func sizedChans(pass *analysis.Pass) map[*types.Var]bool {
	info := pass.TypesInfo
	sized := make(map[*types.Var]bool)
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.DeferStmt)(nil)}, func(n ast.Node) {
		ast.Inspect(n, func(m ast.Node) bool {
			if rs, ok := m.(*ast.RangeStmt); ok && isChan(info.TypeOf(rs.X)) {
				if v := varOf(info, rs.X); v != nil {
					sized[v] = true
				}
			}
			return true
		})
	})
	ins.Preorder([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil)}, func(n ast.Node) {
		var lhs, rhs []ast.Expr
		switch n := n.(type) {
		case *ast.AssignStmt:
			lhs, rhs = n.Lhs, n.Rhs
		case *ast.ValueSpec:
			for _, id := range n.Names {
				lhs = append(lhs, id)
			}
			rhs = n.Values
		}
		if len(lhs) != len(rhs) {
			return
		}
		for i, e := range rhs {
			call, ok := ast.Unparen(e).(*ast.CallExpr)
			if !ok || !isBuiltin(info, call, "make") || len(call.Args) != 2 {
				continue
			}
			if tv, ok := info.Types[call.Args[1]]; ok && tv.Value == nil {
				if v := varOf(info, lhs[i]); v != nil {
					sized[v] = true
				}
			}
		}
	})
	return sized
}

// sendFix returns the fix that wraps the send in a select on ctx.Done(),
// when the task's results make the return mechanical: none, or one error.
func sendFix(pass *analysis.Pass, lit *ast.FuncLit, send *ast.SendStmt, ctx *types.Var) []analysis.SuggestedFix {
	var ret string
	res := lit.Type.Results
	switch {
	case res == nil || len(res.List) == 0:
		ret = "return"
	case len(res.List) == 1 && len(res.List[0].Names) <= 1 && types.Identical(pass.TypesInfo.TypeOf(res.List[0].Type), types.Universe.Lookup("error").Type()):
		ret = "return " + ctx.Name() + ".Err()"
	default:
		return nil
	}
	tf := pass.Fset.File(send.Pos())
	if tf == nil {
		return nil
	}
	col := pass.Fset.Position(send.Pos()).Column
	indent := strings.Repeat("\t", max(col-1, 0))
	text := fmt.Sprintf("select {\n%scase %s:\n%scase <-%s.Done():\n%s\t%s\n%s}",
		indent, nodeText(pass, send), indent, ctx.Name(), indent, ret, indent)
	return []analysis.SuggestedFix{{
		Message:   "Select on the send and on " + ctx.Name() + ".Done()",
		TextEdits: []analysis.TextEdit{{Pos: send.Pos(), End: send.End(), NewText: []byte(text)}},
	}}
}

// nodeText returns the source text of n.
func nodeText(pass *analysis.Pass, n ast.Node) string {
	tf := pass.Fset.File(n.Pos())
	content, err := pass.ReadFile(tf.Name())
	if err != nil {
		return types.ExprString(n.(*ast.SendStmt).Chan) + " <- " + types.ExprString(n.(*ast.SendStmt).Value)
	}
	return string(content[tf.Offset(n.Pos()):tf.Offset(n.End())])
}
