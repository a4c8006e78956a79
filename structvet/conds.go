package structvet

import (
	"go/ast"
	"go/token"
	"go/types"
)

// condInfo knows the conditions of a function's if statements that cannot
// change while it runs, so that a path search can take a start made under
// one of them (if tracker { wg.Add(1) }) through the same branch at a later
// test of it (if tracker { wg.Wait() }). Only that correlation is used:
// conditions are otherwise not evaluated.
//
// A condition is stable when it is made of variables, fields, constants,
// !, comparisons, && and ||, len and cap, and no variable in it is assigned in the
// function after it was declared (a parameter, never; a local, once, at its
// declaration), nor has its address taken; no field in it is assigned in
// the function.
type condInfo struct {
	info *types.Info
	// keys maps the condition of each if statement of the function (not
	// of the literals inside it) to its key, if it is stable.
	keys map[ast.Expr]condKey
	// under maps a node to the stable conditions it is nested in: key to
	// the branch (0 when the condition held, 1 when it did not).
	under map[ast.Node]map[string]int
	body  *ast.BlockStmt
}

func newCondInfo(info *types.Info, body *ast.BlockStmt) *condInfo {
	c := &condInfo{info: info, keys: make(map[ast.Expr]condKey), under: make(map[ast.Node]map[string]int), body: body}
	if info == nil || body == nil {
		return c
	}
	assigned := assignedVars(info, body)
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.IfStmt:
			if k, ok := stableCond(info, n.Cond, assigned); ok {
				c.keys[n.Cond] = k
			}
		}
		return true
	})
	return c
}

// taken returns the branch (0 or 1) that a path must take from the test
// cond, given that it went through start: the branch start was made
// under, if cond is a stable condition that start is nested in.
func (c *condInfo) taken(start, cond ast.Node) (int, bool) {
	e, ok := cond.(ast.Expr)
	if !ok || start == nil {
		return 0, false
	}
	key, ok := c.keys[e]
	if !ok {
		return 0, false
	}
	branch, ok := c.conditionsOf(start)[key.text]
	if key.neg {
		branch = 1 - branch
	}
	return branch, ok
}

// conditionsOf returns the stable conditions that n lies under, with the
// branch it lies in.
func (c *condInfo) conditionsOf(n ast.Node) map[string]int {
	if m, ok := c.under[n]; ok {
		return m
	}
	m := make(map[string]int)
	var stack []ast.Node
	ast.Inspect(c.body, func(x ast.Node) bool {
		if x == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if _, ok := x.(*ast.FuncLit); ok && !(x.Pos() <= n.Pos() && n.End() <= x.End()) {
			return false
		}
		if x == n {
			for i, s := range stack {
				ifs, ok := s.(*ast.IfStmt)
				if !ok || i+1 >= len(stack) {
					continue
				}
				key, ok := c.keys[ifs.Cond]
				if !ok {
					continue
				}
				branch := 0
				switch stack[i+1] {
				case ifs.Body:
				case ifs.Else:
					branch = 1
				default:
					continue
				}
				if key.neg {
					branch = 1 - branch
				}
				m[key.text] = branch
			}
			return false
		}
		stack = append(stack, x)
		return true
	})
	c.under[n] = m
	return m
}

// condKey names what a stable condition tests: conditions with the same
// text test the same thing; neg is true for a negation (!tracker), which
// tests what its operand does with the branches swapped.
type condKey struct {
	text string
	neg  bool
}

// stableCond returns the key of e if it is a stable condition.
func stableCond(info *types.Info, e ast.Expr, assigned map[*types.Var]bool) (condKey, bool) {
	neg := false
	for {
		u, ok := ast.Unparen(e).(*ast.UnaryExpr)
		if !ok || u.Op != token.NOT {
			break
		}
		neg = !neg
		e = u.X
	}
	stable := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			switch o := info.ObjectOf(n).(type) {
			case *types.Var:
				if assigned[o] {
					stable = false
				}
			case *types.Const, *types.Nil, nil:
			default:
				stable = false
			}
		case *ast.SelectorExpr:
			if sel, ok := info.Selections[n]; ok {
				if sel.Kind() != types.FieldVal {
					stable = false
				} else if v, _ := sel.Obj().(*types.Var); v == nil || assigned[origin(v)] {
					stable = false
				}
			}
		case *ast.BinaryExpr:
			switch n.Op {
			case token.LAND, token.LOR, token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			default:
				stable = false
			}
		case *ast.UnaryExpr:
			if n.Op != token.NOT {
				stable = false
			}
		case *ast.CallExpr:
			// len and cap of something stable are stable.
			if (!isBuiltin(info, n, "len") && !isBuiltin(info, n, "cap")) || len(n.Args) != 1 {
				stable = false
				return false
			}
			for _, a := range n.Args {
				k, ok := stableCond(info, a, assigned)
				stable = stable && ok && !k.neg
			}
			return false
		case *ast.ParenExpr, *ast.BasicLit, nil:
		default:
			stable = false
		}
		return stable
	})
	if !stable {
		return condKey{}, false
	}
	return condKey{text: types.ExprString(ast.Unparen(e)), neg: neg}, true
}

// assignedVars returns the variables whose value may change while body
// runs: those it assigns after their declaration, or whose address it
// takes, the fields it assigns, and the variables declared inside a loop,
// which are new ones at each iteration.
func assignedVars(info *types.Info, body *ast.BlockStmt) map[*types.Var]bool {
	out := make(map[*types.Var]bool)
	mark := func(e ast.Expr) {
		if v := varOf(info, e); v != nil {
			out[v] = true
		}
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			ast.Inspect(n, func(m ast.Node) bool {
				if id, ok := m.(*ast.Ident); ok {
					if v, ok := info.Defs[id].(*types.Var); ok && v != nil {
						out[v] = true
					}
				}
				return true
			})
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				if id, ok := l.(*ast.Ident); ok && n.Tok == token.DEFINE && info.Defs[id] != nil {
					continue // declared here
				}
				mark(l)
			}
		case *ast.IncDecStmt:
			mark(n.X)
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				mark(n.X)
			}
		}
		if r, ok := n.(*ast.RangeStmt); ok && r.Tok == token.ASSIGN {
			if r.Key != nil {
				mark(r.Key)
			}
			if r.Value != nil {
				mark(r.Value)
			}
		}
		return true
	})
	return out
}
