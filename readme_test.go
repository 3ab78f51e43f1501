package iamport_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// The README's code is checked, not trusted. TestReadmeGoBlocks type-checks
// every ```go block of README.md and of every README.md under examples/
// against the module's current API (go/types, with the packages' export
// data from `go list -export`), so a renamed field, an unused variable or a
// placeholder such as `…` fails `go test`.
//
// A block is one of:
//   - a whole file: it has a package clause (after comments, if any); it
//     is checked as written,
//     imports included;
//   - declarations (functions, types, variables): checked as a file of
//     their own, with imports added for the packages they name (see
//     readmeImports);
//   - statements: checked as the body of
//     func(ctx context.Context, client *iamport.Client) error, with the same
//     imports; they may end with `return err` or not.
//
// A block that declares a Test or Example function is the README's copy of
// a real one: the function of that name in this package's or iamporttest's
// test files must be the same code (gofmt'd), so the README shows tests that
// run.

// readmeImports are the packages a fragment may name without importing them.
var readmeImports = map[string]string{
	"context":     "context",
	"errors":      "errors",
	"fmt":         "fmt",
	"http":        "net/http",
	"httptest":    "net/http/httptest",
	"iamport":     "github.com/billingkr/iamport-go",
	"iamporttest": "github.com/billingkr/iamport-go/iamporttest",
	"billingrun":  "github.com/billingkr/iamport-go/billingrun",
	"json":        "encoding/json",
	"log":         "log",
	"netip":       "net/netip",
	"os":          "os",
	"rate":        "golang.org/x/time/rate",
	"slog":        "log/slog",
	"strings":     "strings",
	"testing":     "testing",
	"time":        "time",
	"url":         "net/url",
}

type goBlock struct {
	file    string
	line    int    // of the opening fence
	heading string // the Markdown heading the block is under
	src     string
}

func (b goBlock) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// readmeFiles are README.md and the READMEs under examples/.
func readmeFiles(t *testing.T) []string {
	files := []string{"README.md"}
	err := filepath.WalkDir("examples", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "README.md" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// goBlocks extracts the ```go blocks of a Markdown file.
func goBlocks(t *testing.T, file string) []goBlock {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []goBlock
	var cur *goBlock
	var fence, heading string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case fence == "" && strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		case cur == nil && fence == "" && strings.HasPrefix(trimmed, "```"):
			fence = "```"
			if strings.TrimSpace(strings.TrimPrefix(trimmed, "```")) == "go" {
				cur = &goBlock{file: file, line: n, heading: heading}
			}
		case fence != "" && trimmed == fence:
			if cur != nil {
				blocks = append(blocks, *cur)
			}
			cur, fence = nil, ""
		case cur != nil:
			cur.src += line + "\n"
		}
	}
	if fence != "" {
		t.Fatalf("%s: a code fence is not closed", file)
	}
	return blocks
}

// readmeFile turns a block into a parsed Go file whose positions are the
// README's lines (a //line directive precedes the block's text).
func readmeFile(fset *token.FileSet, b goBlock) (*ast.File, string, error) {
	at := fmt.Sprintf("//line %s:%d\n", b.file, b.line+1)
	if _, err := parser.ParseFile(token.NewFileSet(), "", b.src, parser.PackageClauseOnly); err == nil {
		f, err := parser.ParseFile(fset, b.String(), at+b.src, parser.ParseComments)
		return f, "file", err
	}
	kind, head, tail := "declarations", "", ""
	if _, err := parser.ParseFile(token.NewFileSet(), "", "package readme\n"+b.src, parser.SkipObjectResolution); err != nil {
		kind = "statements"
		head = "func _(ctx context.Context, client *iamport.Client) error {\n{\n"
		tail = "\n}\nreturn nil\n}\n"
	}
	// Parse once to learn which packages it names, then with their imports.
	f, err := parser.ParseFile(token.NewFileSet(), "", "package readme\n"+head+b.src+tail, 0)
	if err != nil {
		return nil, kind, err
	}
	var names []string
	seen := map[string]bool{}
	for _, id := range f.Unresolved {
		if _, ok := readmeImports[id.Name]; ok && !seen[id.Name] {
			seen[id.Name] = true
			names = append(names, id.Name)
		}
	}
	sort.Strings(names)
	var imp strings.Builder
	for _, n := range names {
		fmt.Fprintf(&imp, "import %s %q\n", n, readmeImports[n])
	}
	f, err = parser.ParseFile(fset, b.String(), "package readme\n"+imp.String()+head+at+b.src+tail, parser.ParseComments)
	return f, kind, err
}

// exportData runs `go list -export` for the packages and their
// dependencies and returns their export data files.
func exportData(t *testing.T, paths []string) map[string]string {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH: cannot load export data")
	}
	args := append([]string{"list", "-deps", "-export", "-json=ImportPath,Export,Error"}, paths...)
	cmd := exec.Command(goTool, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Export string
			Error              *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
	}
	return exports
}

func TestReadmeGoBlocks(t *testing.T) {
	t.Parallel()
	var blocks []goBlock
	for _, f := range readmeFiles(t) {
		blocks = append(blocks, goBlocks(t, f)...)
	}
	if len(blocks) < 5 {
		t.Fatalf("found %d go blocks in the READMEs; the extractor is broken", len(blocks))
	}

	fset := token.NewFileSet()
	files := make([]*ast.File, len(blocks))
	kinds := make([]string, len(blocks))
	paths := map[string]bool{}
	for i, b := range blocks {
		if strings.ContainsRune(b.src, '…') {
			t.Errorf("%v: a placeholder (…) in a Go block: write code that compiles", b)
		}
		f, kind, err := readmeFile(fset, b)
		if err != nil {
			t.Errorf("%v (%s): does not parse: %v", b, kind, err)
			continue
		}
		files[i], kinds[i] = f, kind
		for _, is := range f.Imports {
			paths[strings.Trim(is.Path.Value, `"`)] = true
		}
	}
	for _, p := range []string{"github.com/billingkr/iamport-go", "github.com/billingkr/iamport-go/iamporttest", "github.com/billingkr/iamport-go/billingrun"} {
		paths[p] = true // for the names the prose mentions
	}
	list := make([]string, 0, len(paths))
	for p := range paths {
		list = append(list, p)
	}
	sort.Strings(list)
	exports := exportData(t, list)
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %q (not a dependency of this module?)", path)
		}
		return os.Open(file)
	})

	for i, f := range files {
		if f == nil {
			continue
		}
		b := blocks[i]
		var errs []string
		conf := types.Config{Importer: imp, Error: func(err error) { errs = append(errs, err.Error()) }}
		_, _ = conf.Check(f.Name.Name, fset, []*ast.File{f}, nil)
		if len(errs) > 0 {
			t.Errorf("%v (%s) does not compile:\n\t%s\n--- block ---\n%s", b, kinds[i], strings.Join(errs, "\n\t"), b.src)
		}
	}

	// The options and sentinel errors the prose names exist: a backquoted
	// With... or Err... is an exported name of iamport, iamporttest or
	// billingrun.
	var scopes []*types.Scope
	for _, path := range []string{"github.com/billingkr/iamport-go", "github.com/billingkr/iamport-go/iamporttest", "github.com/billingkr/iamport-go/billingrun"} {
		pkg, err := imp.Import(path)
		if err != nil {
			t.Fatal(err)
		}
		scopes = append(scopes, pkg.Scope())
	}
	named := regexp.MustCompile("`(?:iamport(?:test)?\\.)?((?:With|Err)[A-Z][A-Za-z0-9]*)")
	for _, file := range readmeFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range named.FindAllStringSubmatch(string(data), -1) {
			found := false
			for _, sc := range scopes {
				found = found || sc.Lookup(m[1]) != nil
			}
			if !found {
				t.Errorf("%s names %s, which iamport, iamporttest and billingrun do not declare", file, m[1])
			}
		}
	}

	// A Test or Example shown in the README is a real one, and so is a
	// helper function that has the name of one in the test files.
	real := realTestFuncs(t, "." /* iamport_test */, "iamporttest")
	for i, f := range files {
		if f == nil {
			continue
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil {
				continue
			}
			isTest := strings.HasPrefix(fd.Name.Name, "Test") || strings.HasPrefix(fd.Name.Name, "Example")
			want, ok := real[fd.Name.Name]
			if !ok && !isTest {
				continue // a function of the README's own (a handler, a helper)
			}
			if !ok {
				t.Errorf("%v: %s is not a test of this repository: add it to a _test.go file so that it runs", blocks[i], fd.Name.Name)
				continue
			}
			if got := formatNode(t, fset, fd); got != want {
				t.Errorf("%v: %s differs from the real test's code:\n--- README ---\n%s\n--- test file ---\n%s", blocks[i], fd.Name.Name, got, want)
			}
		}
	}
}

// realTestFuncs returns the gofmt'd source of every top-level Test and
// Example function of the _test.go files in dirs.
func realTestFuncs(t *testing.T, dirs ...string) map[string]string {
	out := map[string]string{}
	for _, dir := range dirs {
		names, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
					out[fd.Name.Name] = formatNode(t, fset, fd)
				}
			}
		}
	}
	return out
}

// formatNode prints a function without its doc comment, gofmt'd.
func formatNode(t *testing.T, fset *token.FileSet, fd *ast.FuncDecl) string {
	c := *fd
	c.Doc = nil
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, &c); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The first screen of the README links the Korean section and shows the
// two commands to run.
func TestReadmeKoreanLinkedFromTop(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	top := strings.Join(lines[:min(len(lines), 15)], "\n")
	if !strings.Contains(top, "](#한국어)") {
		t.Error("the first 15 lines of README.md must link to the Korean section (#한국어)")
	}
	if !strings.Contains(string(data), "\n## 한국어\n") {
		t.Error(`README.md has no "## 한국어" heading for the link to land on`)
	}
	// The two commands a newcomer runs first.
	for _, cmd := range []string{"\ngo run ./examples/billing ", "\ngo test ./... "} {
		if !strings.Contains(top, cmd) {
			t.Errorf("the first 15 lines of README.md must show %q", strings.TrimSpace(cmd))
		}
	}
}

// The Korean quick start is the English one with Korean comments: the same
// code once comments are dropped.
func TestReadmeKoreanQuickStartSameCode(t *testing.T) {
	t.Parallel()
	var en, ko *goBlock
	for _, b := range goBlocks(t, "README.md") {
		switch {
		case b.heading == "Quick start" && en == nil:
			en = &b
		case b.heading == "빠른 시작" && ko == nil:
			ko = &b
		}
	}
	if en == nil || ko == nil {
		t.Fatal(`README.md needs a go block under "## Quick start" and one under "### 빠른 시작"`)
	}
	code := func(b *goBlock) string {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, b.String(), b.src, 0) // comments dropped
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := format.Node(&buf, fset, f); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	if e, k := code(en), code(ko); e != k {
		t.Errorf("the Korean quick start (%v) is not the English one's code (%v):\n--- en ---\n%s\n--- ko ---\n%s", ko, en, e, k)
	}
}

// Every relative link of the READMEs leads somewhere: a file of the
// repository, or a heading of the same file (GitHub's anchors).
func TestReadmeLinks(t *testing.T) {
	t.Parallel()
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range readmeFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		anchors := map[string]bool{}
		inFence := false
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inFence = !inFence
			}
			if !inFence && strings.HasPrefix(line, "#") {
				anchors[githubAnchor(strings.TrimLeft(line, "#"))] = true
			}
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			switch {
			case strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:"):
			case strings.HasPrefix(target, "#"):
				if !anchors[strings.TrimPrefix(target, "#")] {
					t.Errorf("%s: link to %s: no such heading", file, target)
				}
			default:
				path := filepath.Join(filepath.Dir(file), strings.SplitN(target, "#", 2)[0])
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s: link to %s: %v", file, target, err)
				}
			}
		}
	}
}

// githubAnchor is the id GitHub gives a heading: lower case, spaces to
// hyphens, punctuation other than hyphens and underscores dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
