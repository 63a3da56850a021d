package models

import "gorm.io/gorm"

// migrateV16 adds the indexes the analytics read by (see analytics.go):
// an appointment's reminders in the order they were sent, carrying the
// rule and the delivery so that the last one and the counts per rule are
// read from the index alone; and an appointment's events by type, so that
// a move is found without reading its other events.
func migrateV16(tx *gorm.DB) error {
	for _, q := range []string{
		`CREATE INDEX IF NOT EXISTS idx_messages_appt_kind_sent_rule
			ON messages (appointment_id, kind, sent_at, rule_id, delivered_at)`,
		`CREATE INDEX IF NOT EXISTS idx_events_appointment_type ON events (appointment_id, type)`,
	} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
