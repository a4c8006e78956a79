package structvet

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// ctxInScope returns a context.Context variable that code at pos could use:
// a parameter or local variable of an enclosing function, visible at pos and
// not shadowed. One named ctx is preferred; otherwise the innermost wins.
// Package-level variables do not count: they carry no caller's cancellation.
func ctxInScope(pass *analysis.Pass, pos token.Pos) *types.Var {
	inner := pass.Pkg.Scope().Innermost(pos)
	var found *types.Var
	for s := inner; s != nil && s != pass.Pkg.Scope() && s != types.Universe; s = s.Parent() {
		for _, name := range s.Names() {
			v, ok := s.Lookup(name).(*types.Var)
			if !ok || v.IsField() || !isContext(v.Type()) {
				continue
			}
			if _, obj := inner.LookupParent(name, pos); obj != v {
				continue // shadowed, or declared after pos
			}
			if name == "ctx" {
				return v
			}
			if found == nil {
				found = v
			}
		}
	}
	return found
}

// visibleName reports whether name, used at pos, would denote obj (nil: no
// object at all).
func visibleName(pass *analysis.Pass, name string, pos token.Pos, obj types.Object) bool {
	inner := pass.Pkg.Scope().Innermost(pos)
	if inner == nil {
		return false
	}
	_, o := inner.LookupParent(name, pos)
	return o == obj
}

// fileOf returns the file of pass that contains pos.
func fileOf(pass *analysis.Pass, pos token.Pos) *ast.File {
	for _, f := range pass.Files {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return f
		}
	}
	return nil
}

// importEdit returns the name under which the package path can be used at
// pos in file f, and the edit (if any) that adds the import. It returns
// ok false if no name is free.
func importEdit(pass *analysis.Pass, f *ast.File, pos token.Pos, path, name string) (use string, edits []analysis.TextEdit, ok bool) {
	// Already imported, under a name visible at pos?
	for _, spec := range f.Imports {
		if spec.Path.Value != `"`+path+`"` {
			continue
		}
		pn := pkgNameOf(pass, spec)
		if pn == nil {
			continue
		}
		if visibleName(pass, pn.Name(), pos, pn) {
			return pn.Name(), nil, true
		}
	}
	// Pick a name that nothing at pos or in the file's imports uses.
	taken := func(n string) bool {
		if !visibleName(pass, n, pos, nil) {
			return true
		}
		for _, spec := range f.Imports {
			if spec.Name != nil && spec.Name.Name == n {
				return true
			}
			if pn := pkgNameOf(pass, spec); pn != nil && pn.Name() == n {
				return true
			}
		}
		return false
	}
	line := `"` + path + `"`
	switch {
	case !taken(name):
		use = name
	case !taken("struct" + name):
		use = "struct" + name
		line = use + " " + line
	default:
		return "", nil, false
	}
	return use, []analysis.TextEdit{addImport(f, line)}, true
}

// pkgNameOf returns the package name that spec declares in its file.
func pkgNameOf(pass *analysis.Pass, spec *ast.ImportSpec) *types.PkgName {
	if spec.Name != nil {
		pn, _ := pass.TypesInfo.Defs[spec.Name].(*types.PkgName)
		return pn
	}
	pn, _ := pass.TypesInfo.Implicits[spec].(*types.PkgName)
	return pn
}

// addImport returns an edit that adds the import line (`"path"` or
// `name "path"`) to f.
func addImport(f *ast.File, line string) analysis.TextEdit {
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		if g.Rparen.IsValid() {
			return analysis.TextEdit{Pos: g.Rparen, End: g.Rparen, NewText: []byte("\t" + line + "\n")}
		}
		return analysis.TextEdit{Pos: g.End(), End: g.End(), NewText: []byte("\nimport " + line)}
	}
	return analysis.TextEdit{Pos: f.Name.End(), End: f.Name.End(), NewText: []byte("\n\nimport " + line)}
}
