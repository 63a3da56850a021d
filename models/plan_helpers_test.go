package models_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
)

// explainSQLite is SQLite's query plan for q, one step a line.
func explainSQLite(t *testing.T, s *models.Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.DB(context.Background()).Raw("EXPLAIN QUERY PLAN "+q, args...).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// explainPG is PostgreSQL's plan for q with args, in plan_cache_mode mode:
// "force_custom_plan" plans for these values, "force_generic_plan" as a
// statement the driver keeps prepared ends up planned.
func explainPG(t *testing.T, s *models.Store, mode, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	numbered := q
	for i := 1; strings.Contains(numbered, "?"); i++ {
		numbered = strings.Replace(numbered, "?", fmt.Sprintf("$%d", i), 1)
	}
	// EXECUTE takes its arguments as literals, not bound values.
	lits := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			lits[i] = "'" + v.UTC().Format(time.RFC3339Nano) + "'"
		case string:
			lits[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		default:
			lits[i] = fmt.Sprint(v)
		}
	}
	var plan []string
	err := s.Tx(ctx, func(ctx context.Context) error {
		tx := s.DB(ctx)
		for _, q := range []string{"SET LOCAL plan_cache_mode = " + mode, "PREPARE plan_under_test AS " + numbered} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		if err := tx.Raw("EXPLAIN EXECUTE plan_under_test(" + strings.Join(lits, ", ") + ")").Scan(&plan).Error; err != nil {
			return err
		}
		return tx.Exec("DEALLOCATE plan_under_test").Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// rerunBuildAndSwap migrates to swap (a build migration, then its swap),
// runs both again as on a schema version put back by hand, then the build
// alone, which must find its index built already.
func rerunBuildAndSwap(t *testing.T, ctx context.Context, s *models.Store, build, swap int) {
	t.Helper()
	migrate := func(want int) {
		t.Helper()
		if n, err := s.MigrateTo(ctx, swap); err != nil || n != want {
			t.Fatalf("MigrateTo(%d) = %d, %v; want %d, nil", swap, n, err, want)
		}
	}
	forget := func(versions ...int) {
		t.Helper()
		for _, v := range versions {
			if err := s.ForgetMigration(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	migrate(2)
	forget(build, swap)
	migrate(2)
	forget(build)
	migrate(1)
}
