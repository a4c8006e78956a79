package structvet

import (
	"go/ast"
	"go/token"
	"go/types"
)

// litKind tells how the function literal around a use of a variable runs.
type litKind int

const (
	litNone  litKind = iota // the use is in the function itself
	litNow                  // in a literal called on the spot: func() {...}()
	litDefer                // in a deferred call: defer func() {...}()
	litGo                   // in a goroutine it starts: go func() {...}()
	litOther                // in a literal that may run at any time
)

// localEscapes reports whether the local variable v (a group or a channel)
// is used in body in a way the path search cannot follow: stored, returned,
// passed to a function that is not a goroutine being started, or waited on
// by code that may run at another time (a literal other than a deferred one
// or one called on the spot, or a goroutine it starts). Then whoever gets it
// is its owner, and the rules leave it alone.
//
// A call of a function that starts goroutines on the group, or waits on
// it (facts), is followed: it is a start or a wait, not a new holder.
func localEscapes(info *types.Info, body *ast.BlockStmt, v *types.Var, facts *factSet) bool {
	return anyUse(info, body, v, func(stack []ast.Node) bool {
		return !useIsFollowed(info, stack) && !helperUse(info, stack, v, facts)
	})
}

// anyUse reports whether pred holds for some use of v in body; pred gets
// the path from body down to the identifier.
func anyUse(info *types.Info, body ast.Node, v *types.Var, pred func(stack []ast.Node) bool) bool {
	found := false
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if found {
			return false
		}
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if id, ok := n.(*ast.Ident); ok && usedVar(info, id) == v && pred(stack) {
			found = true
		}
		return true
	})
	return found
}

// useIsFollowed tells whether the use of a variable at the top of stack
// (the path from the function body down to its identifier) is one the
// rules understand.
func useIsFollowed(info *types.Info, stack []ast.Node) bool {
	kind := enclosingLit(stack)
	i := len(stack) - 1 // the identifier
	parent := func(k int) ast.Node {
		if i-k < 0 {
			return nil
		}
		return stack[i-k]
	}
	// &v counts as v.
	p := parent(1)
	up := 1
	if u, ok := p.(*ast.UnaryExpr); ok && u.Op == token.AND {
		up = 2
		p = parent(2)
	}
	for {
		if _, ok := p.(*ast.ParenExpr); !ok {
			break
		}
		up++
		p = parent(up)
	}
	switch p := p.(type) {
	case *ast.SelectorExpr:
		call, ok := parent(up + 1).(*ast.CallExpr)
		if !ok || call.Fun != p {
			return false // a method value, or a field of it
		}
		if isWaitName(p.Sel.Name) {
			return kind == litNone || kind == litDefer || kind == litNow
		}
		return true // Add, Done, Go, SetLimit...
	case *ast.UnaryExpr: // <-v
		if p.Op != token.ARROW {
			return false
		}
		return kind != litOther
	case *ast.SendStmt:
		return p.Chan == stack[i] || p.Chan == stack[i-1] // a send on v; sending v itself hands it on
	case *ast.RangeStmt:
		return p.X == stack[i] && kind != litOther
	case *ast.CallExpr:
		if isBuiltin(info, p, "close") || isBuiltin(info, p, "len") || isBuiltin(info, p, "cap") {
			return true
		}
		// An argument: fine only for the call of a go statement.
		if g, ok := parent(up + 1).(*ast.GoStmt); ok && g.Call == p {
			return true
		}
		return false
	case *ast.BinaryExpr: // v == nil
		return p.Op == token.EQL || p.Op == token.NEQ
	case *ast.AssignStmt:
		for _, l := range p.Lhs {
			if l == stack[i] {
				return true // assigned to, not from
			}
		}
		return false
	case *ast.ValueSpec:
		return false
	case *ast.CaseClause, *ast.SwitchStmt:
		return true
	}
	return false
}

// helperUse reports whether the use of v at the top of stack is an
// argument of a call that starts goroutines on v or waits on it, made by the
// function itself (not a literal that may run at another time).
func helperUse(info *types.Info, stack []ast.Node, v *types.Var, facts *factSet) bool {
	if facts == nil || len(stack) < 2 {
		return false
	}
	i := len(stack) - 2
	if u, ok := stack[i].(*ast.UnaryExpr); ok && u.Op == token.AND {
		i--
	}
	if i < 0 {
		return false
	}
	call, ok := stack[i].(*ast.CallExpr)
	if !ok {
		return false
	}
	if k := enclosingLit(stack); k != litNone && k != litNow && k != litDefer {
		return false
	}
	return facts.helperStarts(info, call, v) || facts.helperWaits(info, call, v)
}

// enclosingLit returns how the function literals on stack run, taken
// together: litOther if any may run at any time, else litGo if any is a
// goroutine, else litDefer if any is deferred.
func enclosingLit(stack []ast.Node) litKind {
	kind := litNone
	for j := len(stack) - 1; j > 0; j-- {
		lit, ok := stack[j].(*ast.FuncLit)
		if !ok {
			continue
		}
		k := litNow
		call, ok := stack[j-1].(*ast.CallExpr)
		switch {
		case !ok || ast.Unparen(call.Fun) != lit:
			k = litOther
		case j >= 2:
			switch stack[j-2].(type) {
			case *ast.GoStmt:
				k = litGo
			case *ast.DeferStmt:
				k = litDefer
			}
		}
		kind = max(kind, k)
	}
	return kind
}
