package models

import (
	"context"
	"time"
)

// MigrateTo exposes migrateTo to the tests of package models_test, which
// start from an older schema.
func (s *Store) MigrateTo(ctx context.Context, version int) (int, error) {
	return s.migrateTo(ctx, version)
}

// MigrationCount is how many migrations this build has (versions may skip
// numbers reserved for other changes).
func MigrationCount() int { return len(migrations) }

// ForgetMigration removes version from the applied migrations, as a
// database migrated by a build that lacked it looks.
func (s *Store) ForgetMigration(ctx context.Context, version int) error {
	return s.db.WithContext(ctx).Where("version = ?", version).Delete(&schemaMigration{}).Error
}

// PendingWebhookSQL is the processor's page query, for plan tests.
const PendingWebhookSQL = pendingWebhookSQL

// LastMessagedSQL is LastMessagedAppointment's query, for plan tests.
const LastMessagedSQL = lastMessagedSQL

// AwaitingSQL is awaitingSQL, for plan tests.
func (s *Store) AwaitingSQL(ids []uint, now time.Time, askingKinds []string) (string, []any) {
	return s.awaitingSQL(ids, now, askingKinds)
}

// MessagesForReportsSQL is messagesForReportsSQL, for plan tests.
func (s *Store) MessagesForReportsSQL(providerIDs, uuids []string) (string, []any) {
	return s.messagesForReportsSQL(providerIDs, uuids)
}

// LastMessagedManySQL is LastMessagedAppointments' query for n numbers,
// for plan tests.
func LastMessagedManySQL(n int) string { return lastMessagedManySQL(n) }
