package structvet

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// ChanLoop is rule SV007, experimental (off by default): a channel send, or
// a receive, inside a loop in a task (a goroutine, or a function passed to n.Go, Spawn, errgroup's Go or
// a wait group's Go) that has a context in scope, and that is not a case of
// a select. Once the other side stops (the consumer broke out of its loop,
// the producer returned), the task blocks there forever: the classic
// goroutine leak. Select on the operation and on ctx.Done().
//
// Not reported, because the other side is known to keep going:
//   - receives from timers, tickers and Done channels, which end by
//     themselves;
//   - receives from a channel on which a goroutine the task started
//     itself sends once on every path, or that it closes: the task waits
//     for its own child;
//   - a request that carries the channel of its reply, and the receive of
//     that reply: a server that takes a request answers it;
//   - sends on a channel made with a capacity that depends on the work
//     (make(chan T, len(jobs))), which holds every value;
//   - sends on a channel that some loop of the package drains to its end
//     (a range over it with no break or return, or a deferred one);
//   - sends in a loop that ranges over another channel: a stage that
//     answers what it is given (one response per request) stops when its
//     input does;
//   - a send followed by return on a buffered channel, when every send of
//     the task on it is: it happens once, and the buffer holds it.
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
	sized, buffered := sizedChans(pass)
	check := func(lit *ast.FuncLit) {
		checkLoops(pass, r, lit, sized, buffered)
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
func checkLoops(pass *analysis.Pass, r *reporter, lit *ast.FuncLit, sized, buffered map[*types.Var]bool) {
	info := pass.TypesInfo
	pairs := requestReplies(info, lit.Body)
	children := childAnswers(info, lit.Body)
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
			if loops > 0 && !isComm(stack) && !inChannelRange(info, stack) {
				ch := varOf(info, n.Chan)
				if ch != nil && sized[ch] || pairs.request[n] {
					return true
				}
				if ch != nil && buffered[ch] && followedByReturn(stack, n) && sendsOnlyOnce(info, lit.Body, ch) {
					return true // sent once, then return: a buffer of one holds it
				}
				if ctx := ctxInScope(pass, n.Pos()); ctx != nil {
					r.reportNode(n, fmt.Sprintf("this send on %s in a loop blocks forever once the receiver stops: select on it and on %s.Done()",
						types.ExprString(n.Chan), ctx.Name()), sendFix(pass, lit, n, ctx)...)
				}
			}
		case *ast.UnaryExpr:
			if n.Op != token.ARROW || loops == 0 || isComm(stack) || endsByItself(info, n.X) || pairs.isReply(info, n.X) {
				return true
			}
			if v := varOf(info, n.X); v != nil && children[v] {
				return true // a goroutine of the task's own sends on it once, on every path
			}
			if ctx := ctxInScope(pass, n.Pos()); ctx != nil {
				r.reportNode(n, fmt.Sprintf("this receive from %s in a loop blocks forever once the sender stops without closing it: select on it and on %s.Done()",
					types.ExprString(n.X), ctx.Name()))
			}
		}
		return true
	})
}

// pairs are the requests a task sends that carry the channel of their
// reply, and the replies it then receives: a server that takes a request
// answers it.
type pairs struct {
	request map[*ast.SendStmt]bool
	// replies holds the reply channels sent in a request (reply :=
	// make(chan T); reqs <- request{reply: reply}), and sent the requests
	// whose field is the reply channel (reqs <- req; <-req.reply).
	replies, sent map[*types.Var]bool
}

// requestReplies finds the request/reply pairs of body: a send of a value
// that holds a channel, and a receive from that channel, both in body.
func requestReplies(info *types.Info, body *ast.BlockStmt) *pairs {
	p := &pairs{request: make(map[*ast.SendStmt]bool), replies: make(map[*types.Var]bool), sent: make(map[*types.Var]bool)}
	received := make(map[*types.Var]bool) // channels received from, and the values whose field is
	ast.Inspect(body, func(n ast.Node) bool {
		if u, ok := n.(*ast.UnaryExpr); ok && u.Op == token.ARROW {
			switch x := ast.Unparen(u.X).(type) {
			case *ast.Ident:
				if v := varOf(info, x); v != nil {
					received[v] = true
				}
			case *ast.SelectorExpr:
				if v := varOf(info, x.X); v != nil {
					received[v] = true
				}
			}
		}
		return true
	})
	ast.Inspect(body, func(n ast.Node) bool {
		send, ok := n.(*ast.SendStmt)
		if !ok {
			return true
		}
		ast.Inspect(send.Value, func(m ast.Node) bool {
			id, ok := m.(*ast.Ident)
			if !ok {
				return true
			}
			v, _ := info.Uses[id].(*types.Var)
			if v == nil || !received[v] {
				return true
			}
			switch {
			case isChan(v.Type()):
				p.replies[v] = true
				p.request[send] = true
			case hasChanField(v.Type()):
				p.sent[v] = true
				p.request[send] = true
			}
			return true
		})
		return true
	})
	return p
}

// isReply reports whether receiving from x takes the reply to a request.
func (p *pairs) isReply(info *types.Info, x ast.Expr) bool {
	switch x := ast.Unparen(x).(type) {
	case *ast.Ident:
		return p.replies[varOf(info, x)]
	case *ast.SelectorExpr:
		return p.sent[varOf(info, x.X)]
	}
	return false
}

// hasChanField reports whether t is a struct, or a pointer to one, with a
// channel field.
func hasChanField(t types.Type) bool {
	st, ok := deref(t).Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for i := range st.NumFields() {
		if isChan(st.Field(i).Type()) {
			return true
		}
	}
	return false
}

// childAnswers returns the channels, declared in body, on which a
// goroutine that body starts (a function literal) sends or that it closes
// once, on every path: deferred, or among the statements of its body
// outside any if, loop, switch or select. The task that receives from one
// waits for a child of its own, which answers.
func childAnswers(info *types.Info, body *ast.BlockStmt) map[*types.Var]bool {
	out := make(map[*types.Var]bool)
	ast.Inspect(body, func(n ast.Node) bool {
		g, ok := n.(*ast.GoStmt)
		if !ok {
			return true
		}
		lit, ok := ast.Unparen(g.Call.Fun).(*ast.FuncLit)
		if !ok {
			return true
		}
		mark := func(e ast.Expr) {
			if v := varOf(info, e); v != nil && isLocal(v, body) && isChan(v.Type()) {
				out[v] = true
			}
		}
		for _, st := range lit.Body.List {
			switch st := st.(type) {
			case *ast.SendStmt:
				mark(st.Chan)
			case *ast.ExprStmt:
				if call, ok := st.X.(*ast.CallExpr); ok && isBuiltin(info, call, "close") && len(call.Args) == 1 {
					mark(call.Args[0])
				}
			case *ast.DeferStmt:
				if isBuiltin(info, st.Call, "close") && len(st.Call.Args) == 1 {
					mark(st.Call.Args[0])
				}
				if s, ok := deferredSend(st); ok {
					mark(s.Chan)
				}
			}
		}
		return true
	})
	return out
}

// sendsOnlyOnce reports whether every send on ch in the task body is
// followed by a return: the task sends on it once at most, so a buffer of
// one cannot be full when it does.
func sendsOnlyOnce(info *types.Info, body *ast.BlockStmt, ch *types.Var) bool {
	once := true
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if s, ok := n.(*ast.SendStmt); ok && varOf(info, s.Chan) == ch && !followedByReturn(stack, s) {
			once = false
		}
		return once
	})
	return once
}

// followedByReturn reports whether the statement at the top of stack is
// followed, in its block, by a return: it runs once per goroutine.
func followedByReturn(stack []ast.Node, st ast.Stmt) bool {
	if len(stack) < 2 {
		return false
	}
	var list []ast.Stmt
	switch p := stack[len(stack)-2].(type) {
	case *ast.BlockStmt:
		list = p.List
	case *ast.CaseClause:
		list = p.Body
	case *ast.CommClause:
		list = p.Body
	}
	for i, x := range list {
		if x == st && i+1 < len(list) {
			_, ret := list[i+1].(*ast.ReturnStmt)
			return ret
		}
	}
	return false
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

// inChannelRange reports whether the node at the top of stack is inside a
// loop of the task that ranges over a channel.
func inChannelRange(info *types.Info, stack []ast.Node) bool {
	for _, n := range stack {
		if rs, ok := n.(*ast.RangeStmt); ok && isChan(info.TypeOf(rs.X)) {
			return true
		}
	}
	return false
}

// sizedChans returns the channels on which a send cannot block forever:
// made with a capacity that is not a constant (make(chan T, len(jobs))),
// sized to hold every value; or drained by a deferred loop
// (defer func() { for range ch {} }()) or by a loop that cannot stop early
// (for r := range ch { ... } with no break or return in it).
//
// It also returns the channels made with a buffer (a capacity that is not
// a constant 0), on which one send cannot block while the buffer is empty.
func sizedChans(pass *analysis.Pass) (sized, buffered map[*types.Var]bool) {
	info := pass.TypesInfo
	sized = make(map[*types.Var]bool)
	buffered = make(map[*types.Var]bool)
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.RangeStmt)(nil)}, func(n ast.Node) {
		rs := n.(*ast.RangeStmt)
		if !isChan(info.TypeOf(rs.X)) || leavesLoop(rs.Body) {
			return
		}
		if v := varOf(info, rs.X); v != nil {
			sized[v] = true
		}
	})
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
			v := varOf(info, lhs[i])
			if v == nil {
				continue
			}
			tv, ok := info.Types[call.Args[1]]
			if ok && tv.Value == nil {
				sized[v] = true
			}
			if ok && (tv.Value == nil || constant.Sign(tv.Value) > 0) {
				buffered[v] = true
			}
		}
	})
	return sized, buffered
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

// leavesLoop reports whether body has a statement that can end the loop it
// is the body of before its channel is closed: a return, a goto, a break of
// this loop, a labelled break or continue, or a call that never returns.
func leavesLoop(body *ast.BlockStmt) bool {
	leaves := false
	var walk func(n ast.Node, inner bool)
	walk = func(n ast.Node, inner bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			if leaves {
				return false
			}
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				leaves = true
			case *ast.BranchStmt:
				switch {
				case m.Tok == token.GOTO, m.Label != nil:
					leaves = true
				case m.Tok == token.BREAK && !inner:
					leaves = true
				}
			case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				// break inside these ends them, not our loop.
				for _, c := range childStmts(m) {
					walk(c, true)
				}
				return false
			case *ast.ExprStmt:
				if call, ok := m.X.(*ast.CallExpr); ok {
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" {
						leaves = true
					}
				}
			}
			return true
		})
	}
	walk(body, false)
	return leaves
}

// childStmts returns the bodies of a loop, switch or select statement.
func childStmts(n ast.Node) []ast.Node {
	switch n := n.(type) {
	case *ast.ForStmt:
		return []ast.Node{n.Body}
	case *ast.RangeStmt:
		return []ast.Node{n.Body}
	case *ast.SwitchStmt:
		return []ast.Node{n.Body}
	case *ast.TypeSwitchStmt:
		return []ast.Node{n.Body}
	case *ast.SelectStmt:
		return []ast.Node{n.Body}
	}
	return nil
}
