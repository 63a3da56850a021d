package models

import "gorm.io/gorm"

// migrateV23 orders PostgreSQL's index of messages by number by id too.
// "The latest message to this number" (a reply's context, a link hit's
// message) is a look-up by number, latest id first; with the number alone
// indexed, PostgreSQL walked the primary key backwards from the newest
// message, checking each one's number, so every such look-up read about
// as many rows as messages were sent since the number's last one. SQLite's
// index already carries the rowid after the number, so it is left as is.
func migrateV23(tx *gorm.DB) error {
	if tx.Name() != DriverPostgres {
		return nil
	}
	for _, q := range []string{
		`CREATE INDEX IF NOT EXISTS idx_messages_to_id ON messages ("to", id)`,
		`DROP INDEX IF EXISTS idx_messages_to`,
		`ALTER INDEX idx_messages_to_id RENAME TO idx_messages_to`,
	} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
