package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"apptconfirm/models"
)

// FindText searches every column of every table of the store's database
// (listed from the database's own catalogue, so a table added later is
// searched too) for text, case-insensitively, and returns where it occurs
// as "table.column: n row(s)". Binary columns are searched as text (their
// printable bytes). It is for tests that must show something is gone from
// the whole database.
func FindText(t testing.TB, s *models.Store, text string) []string {
	t.Helper()
	ctx := context.Background()
	db := s.DB(ctx)
	type column struct{ table, name, kind string }
	var cols []column
	switch s.Driver() {
	case models.DriverPostgres:
		var rows []struct{ TableName, ColumnName, DataType string }
		err := db.Raw(`SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
			ORDER BY c.table_name, c.ordinal_position`).Scan(&rows).Error
		if err != nil {
			t.Fatalf("list columns: %v", err)
		}
		for _, r := range rows {
			cols = append(cols, column{table: r.TableName, name: r.ColumnName, kind: r.DataType})
		}
	default:
		var tables []string
		if err := db.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).Scan(&tables).Error; err != nil {
			t.Fatalf("list tables: %v", err)
		}
		for _, table := range tables {
			var names []string
			if err := db.Raw(`SELECT name FROM pragma_table_info(?)`, table).Scan(&names).Error; err != nil {
				t.Fatalf("list columns of %s: %v", table, err)
			}
			for _, n := range names {
				cols = append(cols, column{table: table, name: n})
			}
		}
	}
	if len(cols) == 0 {
		t.Fatal("the catalogue lists no column")
	}
	needle := "%" + strings.ToLower(text) + "%"
	var hits []string
	for _, c := range cols {
		expr := fmt.Sprintf(`CAST(%q AS TEXT)`, c.name)
		if c.kind == "bytea" {
			expr = fmt.Sprintf(`encode(%q, 'escape')`, c.name)
		}
		var n int64
		q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE LOWER(%s) LIKE ?`, c.table, expr)
		if err := db.Raw(q, needle).Scan(&n).Error; err != nil {
			t.Fatalf("search %s.%s: %v", c.table, c.name, err)
		}
		if n > 0 {
			hits = append(hits, fmt.Sprintf("%s.%s: %d row(s)", c.table, c.name, n))
		}
	}
	return hits
}
