package models_test

import (
	"context"
	"strings"
	"testing"

	"apptconfirm/models"
)

// After migrations 24 and 25 the latest message to a number is found through the
// index of numbers, latest id first, without a sort and without walking
// the primary key, on both databases and in PostgreSQL's cached plans too.
func TestLatestMessageToNumberPlan(t *testing.T) {
	atVersion(t, 23, func(t *testing.T, ctx context.Context, s *models.Store) {
		rerunBuildAndSwap(t, ctx, s, 24, 25)
		if s.Driver() == models.DriverPostgres {
			defs := indexDefs(t, s, "messages")
			if _, ok := defs["idx_messages_to_id"]; ok || !strings.HasSuffix(defs["idx_messages_to"], `"to", id`) {
				t.Errorf("after the swap: idx_messages_to is %q, idx_messages_to_id %q", defs["idx_messages_to"], defs["idx_messages_to_id"])
			}
		}
		if s.Driver() == models.DriverSQLite {
			plan := explainSQLite(t, s, models.LastMessagedSQL, "+15550001")
			if !strings.Contains(plan, "idx_messages_to") || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan:\n%s", plan)
			}
			return
		}
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			plan := explainPG(t, s, mode, models.LastMessagedSQL, "+15550001")
			if !strings.Contains(plan, "idx_messages_to") || strings.Contains(plan, "Sort") {
				t.Errorf("%s plan:\n%s", mode, plan)
			}
		}
	})
}
