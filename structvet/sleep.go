package structvet

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"time"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// SleepCtx is rule SV003, experimental (off by default): time.Sleep in a
// function that has a context.Context in scope. The sleep goes on after the context is done, so
// cancellation waits for it. The suggested fix is cancel.Sleep(ctx, d),
// which returns context.Cause(ctx) as soon as ctx is done.
//
// Not reported: constant sleeps of 100ms or less (a polling loop's pause, a
// spinner's); sleeps where the context in scope can never be done (at that
// point it holds context.Background() or TODO()); and sleeps in the
// function that made the context in scope itself, from a fresh one (ctx,
// stop := context.WithTimeout(context.Background(), d), or a test's
// t.Context()), when only that function calls stop: nothing but its own
// deadline ends that context while the function sleeps.
var SleepCtx = &analysis.Analyzer{
	Name:     "sleepctx",
	Doc:      "report time.Sleep where a context.Context is in scope; suggest cancel.Sleep(ctx, d) (SV003)",
	URL:      docURL + "sv003",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runSleepCtx,
}

func runSleepCtx(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "SV003")
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	fresh := freshContexts(pass)
	ins.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		if !isFunc(callee(pass.TypesInfo, call), "time", "Sleep") || len(call.Args) != 1 || isShortSleep(pass.TypesInfo, call.Args[0]) {
			return true
		}
		ctx := ctxInScope(pass, call.Pos())
		if ctx == nil || fresh.neverDone(ctx, call.Pos()) || fresh.ownIn(ctx, call.Pos(), enclosingFunc(stack)) {
			return true
		}
		msg := fmt.Sprintf("time.Sleep goes on after %s is done: use cancel.Sleep(%s, d), which returns as soon as %s is done", ctx.Name(), ctx.Name(), ctx.Name())
		var fixes []analysis.SuggestedFix
		if f := fileOf(pass, call.Pos()); f != nil && pass.Pkg.Path() != cancelPath {
			if name, edits, ok := importEdit(pass, f, call.Pos(), cancelPath, "cancel"); ok {
				edits = append(edits,
					analysis.TextEdit{Pos: call.Fun.Pos(), End: call.Lparen + 1, NewText: []byte(name + ".Sleep(" + ctx.Name() + ", ")})
				edits = append(edits, dropLastUse(pass, f, call.Fun)...)
				fixes = append(fixes, analysis.SuggestedFix{
					Message:   fmt.Sprintf("Replace with cancel.Sleep(%s, d)", ctx.Name()),
					TextEdits: edits,
				})
			}
		}
		r.reportNode(call, msg, fixes...)
		return true
	})
	return nil, nil
}

// shortSleep is the longest constant sleep not reported: a spinner's or a
// polling loop's pause, which delays the reaction to cancellation by no
// more than a blink.
const shortSleep = 100 * time.Millisecond

// isShortSleep reports whether d is a constant duration of at most
// shortSleep.
func isShortSleep(info *types.Info, d ast.Expr) bool {
	tv, ok := info.Types[d]
	if !ok || tv.Value == nil {
		return false
	}
	v, exact := constant.Int64Val(constant.ToInt(tv.Value))
	return exact && v <= int64(shortSleep)
}

// dropLastUse returns the edit that removes the import of the package that
// sel (pkg.Name) refers to, if sel is that import's only use in f.
func dropLastUse(pass *analysis.Pass, f *ast.File, fun ast.Expr) []analysis.TextEdit {
	sel, ok := ast.Unparen(fun).(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return nil
	}
	pn, ok := pass.TypesInfo.Uses[id].(*types.PkgName)
	if !ok {
		return nil
	}
	uses := 0
	ast.Inspect(f, func(n ast.Node) bool {
		if x, ok := n.(*ast.Ident); ok && pass.TypesInfo.Uses[x] == pn {
			uses++
		}
		return uses < 2
	})
	if uses != 1 {
		return nil
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		for _, spec := range g.Specs {
			if pkgNameOf(pass, spec.(*ast.ImportSpec)) != pn {
				continue
			}
			if !g.Lparen.IsValid() {
				return []analysis.TextEdit{{Pos: g.Pos(), End: g.End()}}
			}
			return []analysis.TextEdit{{Pos: spec.Pos(), End: spec.End()}}
		}
	}
	return nil
}
