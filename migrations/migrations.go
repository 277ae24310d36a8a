package migrations

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

//go:embed sql/*.sql
var files embed.FS

// Types are the column types and table options of one SQL dialect.
type Types struct {
	// Key is the type of a key column that is part of a primary key or index
	// (bytes compared as bytes).
	Key string
	// Blob is the type of a value column.
	Blob string
	// TableOptions follows every CREATE TABLE of a table keyed by Key alone
	// (e.g. "WITHOUT ROWID" on SQLite).
	TableOptions string
}

// Migration is one numbered schema step.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// Bootstrap is the statement that creates the table recording applied
// migrations; it is safe to run on every start.
const Bootstrap = `CREATE TABLE IF NOT EXISTS strata_schema (version BIGINT NOT NULL PRIMARY KEY)`

// All returns every migration, in order, rendered for types.
func All(types Types) ([]Migration, error) {
	entries, err := fs.ReadDir(files, "sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		m, err := load(e.Name(), types)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: version %d missing", i+1)
		}
	}
	return out, nil
}

// Latest is the schema version this binary writes.
func Latest() int {
	entries, _ := fs.ReadDir(files, "sql")
	return len(entries)
}

func load(name string, types Types) (Migration, error) {
	num, rest, ok := strings.Cut(name, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil {
		return Migration{}, fmt.Errorf("migrations: bad file name %q", name)
	}
	raw, err := files.ReadFile("sql/" + name)
	if err != nil {
		return Migration{}, fmt.Errorf("migrations: %w", err)
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(string(raw))
	if err != nil {
		return Migration{}, fmt.Errorf("migrations: %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, types); err != nil {
		return Migration{}, fmt.Errorf("migrations: %s: %w", name, err)
	}
	return Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), Statements: split(buf.String())}, nil
}

// split cuts a file into statements at semicolons that end a line; lines
// starting with "--" are comments.
func split(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, stmt)
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}
