package models

import "gorm.io/gorm"

// migrateV21 drops two indexes of webhook_events that every stored webhook
// paid for and no query needs: event (nothing selects by it) and
// received_at (pruning and payload retention select by processed_at
// instead, which an index already serves; an event is processed after it
// is received). Each was a B-tree insert per row and a page rewritten per
// commit of the webhook receiver.
func migrateV21(tx *gorm.DB) error {
	for _, q := range []string{
		`DROP INDEX IF EXISTS idx_webhook_events_event`,
		`DROP INDEX IF EXISTS idx_webhook_events_received_at`,
	} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
