package structvet

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// Import paths of the packages whose API the rules know.
const (
	modulePath  = "github.com/structured-go/structured"
	nurseryPath = modulePath + "/nursery"
	cancelPath  = modulePath + "/cancel"
)

// isNamed reports whether t, once aliases are resolved, is the named type
// pkg.name (not a pointer to it).
func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	return obj.Name() == name && obj.Pkg() != nil && obj.Pkg().Path() == pkg
}

// deref returns the type t points to, or t.
func deref(t types.Type) types.Type {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool {
	return t != nil && isNamed(t, "context", "Context")
}

// isNurseryPtr reports whether t is *nursery.Nursery.
func isNurseryPtr(t types.Type) bool {
	p, ok := types.Unalias(t).(*types.Pointer)
	return ok && isNamed(p.Elem(), nurseryPath, "Nursery")
}

// groupKind tells the kinds of values that own goroutines and are waited on.
type groupKind int

const (
	notGroup  groupKind = iota
	waitGroup           // sync.WaitGroup, conc.WaitGroup: Add/Go, Done, Wait
	errGroup            // errgroup.Group, conc pools: Go, Wait
)

// groupOf classifies t (or the type it points to).
func groupOf(t types.Type) groupKind {
	t = deref(t)
	switch {
	case isNamed(t, "sync", "WaitGroup"),
		isNamed(t, "github.com/sourcegraph/conc", "WaitGroup"):
		return waitGroup
	case isNamed(t, "golang.org/x/sync/errgroup", "Group"),
		isNamed(t, "github.com/sourcegraph/conc/pool", "Pool"),
		isNamed(t, "github.com/sourcegraph/conc/pool", "ErrorPool"),
		isNamed(t, "github.com/sourcegraph/conc/pool", "ContextPool"):
		return errGroup
	}
	if hasWaitGroupMethods(t) {
		return waitGroup // a wait group of the program's own
	}
	return notGroup
}

// hasWaitGroupMethods reports whether t or *t has the methods of a
// sync.WaitGroup, or of a counter of goroutines like it: a method that adds
// to the count (Add(int), AddRunning(int)), Done() and a method that waits
// (Wait(), SignalAndWait()).
func hasWaitGroupMethods(t types.Type) bool {
	if _, ok := t.Underlying().(*types.Interface); !ok {
		if _, isNamed := types.Unalias(t).(*types.Named); !isNamed {
			return false
		}
		t = types.NewPointer(t)
	}
	ms := types.NewMethodSet(t)
	has := func(match func(string) bool, params int) bool {
		for i := range ms.Len() {
			sel := ms.At(i)
			if !sel.Obj().Exported() || !match(sel.Obj().Name()) {
				continue
			}
			sig, ok := sel.Type().(*types.Signature)
			if ok && sig.Params().Len() == params && sig.Results().Len() == 0 {
				if params == 1 {
					if b, ok := sig.Params().At(0).Type().Underlying().(*types.Basic); !ok || b.Info()&types.IsInteger == 0 {
						continue
					}
				}
				return true
			}
		}
		return false
	}
	return has(isAddName, 1) && has(func(n string) bool { return n == "Done" }, 0) && has(isWaitName, 0)
}

// isAddName reports whether a group's method of that name adds to its
// count: Add, AddRunning.
func isAddName(name string) bool { return strings.HasPrefix(name, "Add") }

// isWaitName reports whether a group's method of that name waits for its
// goroutines: Wait, SignalAndWait.
func isWaitName(name string) bool { return strings.HasSuffix(name, "Wait") }

// isChan reports whether t is a channel type.
func isChan(t types.Type) bool {
	if t == nil {
		return false
	}
	_, ok := t.Underlying().(*types.Chan)
	return ok
}

// callee returns the function or method a call statically calls, with type
// parameters resolved to their generic origin, or nil.
func callee(info *types.Info, call *ast.CallExpr) *types.Func {
	fn, _ := typeutil.Callee(info, call).(*types.Func)
	if fn == nil {
		return nil
	}
	return fn.Origin()
}

// isFunc reports whether fn is the package-level function pkg.name.
func isFunc(fn *types.Func, pkg, name string) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != pkg || fn.Name() != name {
		return false
	}
	sig, _ := fn.Type().(*types.Signature)
	return sig != nil && sig.Recv() == nil
}

// isMethodOf reports whether fn is a method named one of names whose
// receiver's base type is pkg.typ.
func isMethodOf(fn *types.Func, pkg, typ string, names ...string) bool {
	if fn == nil {
		return false
	}
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil || sig.Recv() == nil || !isNamed(deref(sig.Recv().Type()), pkg, typ) {
		return false
	}
	for _, n := range names {
		if fn.Name() == n {
			return true
		}
	}
	return false
}

// inToolkit reports whether fn belongs to this project's packages (the
// structvet module itself aside).
func inToolkit(fn *types.Func) bool {
	if fn == nil || fn.Pkg() == nil {
		return false
	}
	p := fn.Pkg().Path()
	return strings.HasPrefix(p, modulePath+"/") && !strings.HasPrefix(p, modulePath+"/structvet")
}

// varOf returns the variable that e denotes: a local or package variable
// (x, &x, (x)) or a field (a.b.f, &a.f), or nil.
func varOf(info *types.Info, e ast.Expr) *types.Var {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op.String() == "&" {
		e = ast.Unparen(u.X)
	}
	switch e := e.(type) {
	case *ast.Ident:
		v, _ := info.ObjectOf(e).(*types.Var)
		return origin(v)
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[e]; ok && sel.Kind() == types.FieldVal {
			v, _ := sel.Obj().(*types.Var)
			return origin(v)
		}
		// A qualified package-level variable, pkg.V.
		v, _ := info.Uses[e.Sel].(*types.Var)
		return v
	}
	return nil
}

// chanVarOf is the variable that holds the channel e denotes: the channel
// itself, or x for a channel a method of x gives (close(next.In()), the
// input of the next stage of a pipeline, which whoever holds next reads
// to its end through the stage's own output).
func chanVarOf(info *types.Info, e ast.Expr) *types.Var {
	if call, ok := ast.Unparen(e).(*ast.CallExpr); ok && len(call.Args) == 0 && isChan(info.TypeOf(call)) {
		if x, _, ok := methodCall(info, call); ok {
			return x
		}
		return nil
	}
	return varOf(info, e)
}

// usedVar is the variable id uses, as origin gives it.
func usedVar(info *types.Info, id *ast.Ident) *types.Var {
	v, _ := info.Uses[id].(*types.Var)
	return origin(v)
}

// origin is the variable v is an instance of: a field of a generic type
// is a different object in each method (whose receiver instantiates the
// type with its own parameters) and at each use with type arguments, so
// what one method does to s.out and what another hands out are matched
// through the field as declared.
func origin(v *types.Var) *types.Var {
	if v == nil {
		return nil
	}
	return v.Origin()
}

// methodCall splits a call x.M(...) into the variable x denotes and M's
// name. ok is false for other calls.
func methodCall(info *types.Info, call *ast.CallExpr) (recv *types.Var, name string, ok bool) {
	sel, isSel := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !isSel {
		return nil, "", false
	}
	s, isMethod := info.Selections[sel]
	if !isMethod || s.Kind() != types.MethodVal {
		return nil, "", false
	}
	return varOf(info, sel.X), sel.Sel.Name, true
}

// isBuiltin reports whether call calls the builtin function name.
func isBuiltin(info *types.Info, call *ast.CallExpr, name string) bool {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := info.Uses[id].(*types.Builtin)
	return ok && b.Name() == name
}

// isLocal reports whether v is declared inside fn (its parameters and
// results excluded: the caller owns what they hold).
func isLocal(v *types.Var, body *ast.BlockStmt) bool {
	return v != nil && !v.IsField() && body != nil && body.Pos() <= v.Pos() && v.Pos() < body.End()
}

// funcBody returns the body and type of a *ast.FuncDecl or *ast.FuncLit.
func funcBody(n ast.Node) (*ast.BlockStmt, *ast.FuncType) {
	switch n := n.(type) {
	case *ast.FuncDecl:
		return n.Body, n.Type
	case *ast.FuncLit:
		return n.Body, n.Type
	}
	return nil, nil
}

// funcName names a function for messages: its name, or "the function
// literal" for a closure.
func funcName(n ast.Node) string {
	if d, ok := n.(*ast.FuncDecl); ok {
		if d.Recv != nil && len(d.Recv.List) == 1 {
			t := d.Recv.List[0].Type
			if s, ok := t.(*ast.StarExpr); ok {
				t = s.X
			}
			if ix, ok := t.(*ast.IndexExpr); ok {
				t = ix.X
			}
			if ix, ok := t.(*ast.IndexListExpr); ok {
				t = ix.X
			}
			if id, ok := t.(*ast.Ident); ok {
				return id.Name + "." + d.Name.Name
			}
		}
		return d.Name.Name
	}
	return "the function literal"
}
