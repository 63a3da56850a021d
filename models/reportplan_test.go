package models_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"apptconfirm/models"
)

// MessagesForReports looks its messages up through the msgId and uuid
// indexes even where the planner's statistics (ANALYZE) say that many
// messages share a msgId, which made SQLite read the whole table for a long
// list: a batch's cost then grew with the number of messages stored.
func TestMessagesForReportsPlanUsesIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(t.TempDir(), "plan.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// The statistics of an analyzed database of 6,781 messages, 2,700 of
	// them not sent yet (an empty msgId), as ANALYZE wrote them after a
	// seed; SQLite reads them again on ANALYZE sqlite_schema.
	db := s.DB(ctx)
	for _, q := range []string{
		"ANALYZE sqlite_schema",
		"DELETE FROM sqlite_stat1",
		"INSERT INTO sqlite_stat1 VALUES ('messages', NULL, '6781'), ('messages', 'idx_messages_provider_id', '6781 2'), ('messages', 'idx_messages_uuid', '6781 1')",
		"ANALYZE sqlite_schema",
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ids := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s-%d", prefix, i)
		}
		return out
	}
	for _, c := range []struct {
		name       string
		pids, uids []string
	}{
		{"msgIds", ids("p", 500), nil},
		{"trackData", nil, ids("u", 500)},
		{"both", ids("p", 500), ids("u", 500)},
		{"one each", ids("p", 1), ids("u", 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, args := s.MessagesForReportsSQL(c.pids, c.uids)
			plan := strings.Split(explainSQLite(t, s, q, args...), "\n")
			for _, step := range plan {
				if strings.HasPrefix(step, "SCAN messages") {
					t.Errorf("the plan reads the whole table:\n%s", strings.Join(plan, "\n"))
				}
			}
		})
	}
}
