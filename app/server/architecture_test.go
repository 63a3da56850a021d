package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goFile is one non-test Go file of the module, with its imports.
type goFile struct {
	path    string // relative to the module root, slash-separated
	pkg     string // its directory, such as "app/webhook"
	imports []string
	ast     *ast.File
}

// moduleFiles parses every non-test Go file of the module.
func moduleFiles(t *testing.T) []goFile {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	var out []goFile
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		gf := goFile{path: rel, pkg: filepath.ToSlash(filepath.Dir(rel)), ast: f}
		for _, imp := range f.Imports {
			v, _ := strconv.Unquote(imp.Path.Value)
			gf.imports = append(gf.imports, v)
		}
		out = append(out, gf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("only %d files found under %s", len(out), root)
	}
	return out
}

// The layering holds: only the storage layer talks to the database, gin
// stays inside the two HTTP edges, the storage layer and the leaf packages
// import no service, and nothing outside the storage layer reaches for its
// raw database handle.
func TestDependenciesPointOneWay(t *testing.T) {
	leaves := map[string]bool{
		"app/reply": true, "app/schedule": true, "app/render": true, "app/smstext": true,
		"app/phone": true, "app/smscx": true, "app/config": true, "app/texts": true,
	}
	for _, f := range moduleFiles(t) {
		inModels := f.pkg == "models" || strings.HasPrefix(f.pkg, "models/")
		for _, imp := range f.imports {
			switch {
			case strings.HasPrefix(imp, "gorm.io/") && !inModels:
				t.Errorf("%s imports %s: only the storage layer (models) may", f.path, imp)
			case strings.HasPrefix(imp, "github.com/gin-gonic/gin") && f.pkg != "app/web" && f.pkg != "app/api":
				t.Errorf("%s imports gin: only app/web and app/api may", f.path)
			case inModels && strings.HasPrefix(imp, "apptconfirm/app/"):
				t.Errorf("%s imports %s: the storage layer imports nothing from app/", f.path, imp)
			case leaves[f.pkg] && strings.HasPrefix(imp, "apptconfirm/") && !leafImport(imp):
				t.Errorf("%s imports %s: a leaf package imports only other leaves", f.path, imp)
			}
		}
		if inModels {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "DB" {
				t.Errorf("%s calls %s.DB: queries belong in the storage layer's methods", f.path, exprString(sel.X))
			}
			return true
		})
	}
}

// leafImport reports whether a leaf package may import imp.
func leafImport(imp string) bool {
	switch strings.TrimPrefix(imp, "apptconfirm/") {
	case "app/reply", "app/schedule", "app/render", "app/smstext", "app/phone", "app/smscx", "app/texts":
		return true
	}
	return false
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	}
	return "…"
}
