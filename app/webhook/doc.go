// Package webhook takes SMS.CX's callbacks in: it caps, decodes, stores and
// acknowledges each one, then hands it to the service that applies it
// (app/delivery for delivery reports, opt-outs and link hits,
// app/conversation for the patients' replies).
//
// Receiving and applying are separate:
//
//   - The Receiver serves POST /webhooks/smscx/{secret}. It compares the
//     secret in constant time (404 when wrong), caps the body (413), decodes
//     the envelope {"event", "data": [...]} and stores every item of the
//     batch in webhook_events, in one transaction, each with its raw JSON and
//     a unique de-duplication key, inserted with ON CONFLICT DO NOTHING. It
//     answers 200 only once the batch is committed, 400 with a reason for a
//     body that is not an envelope, and 503 when the database cannot take
//     the write (SMS.CX retries). It never applies anything itself: after the
//     commit it wakes the Processor without waiting for it.
//   - The Processor hands each stored event exactly once to its Applier, in
//     a transaction that also claims the event (a conditional update on
//     processed_at IS NULL, so two workers or two instances cannot both apply
//     it). What the Applier changes records its domain events in that
//     transaction, so the live dashboards and the dispatcher hear of it once
//     it commits. Events are applied many to a transaction, one by one again
//     when such a transaction fails; on PostgreSQL several workers apply a
//     page side by side, each the events of its share of phone numbers.
//     Its Run loop is woken by the Receiver and also
//     sweeps on a timer; Sweep is the same sweep for a cron job
//     (skipped while a pass is under way in the process).
//     While the Receiver is storing requests, processing gives way to it
//     (Traffic), within a bounded lag.
//
// De-duplication: each item has a name, dlr_update
// "dlr_update:<msgId>:<status>", receive_sms "receive_sms:<msgId>",
// new_optout and the four hit events "<event>:<hitId>", any other event
// "<event>:sha256:<hash of the item>"; when an id is not a short plain token
// the ids are replaced by their SHA-256 ("<event>:h:<hash>"). The unique
// key stored is models.DedupKey of the name, 22 characters (schema
// version 3; version 2 stored the names). Prune keeps keys for
// ProcessorOptions.Retention (at least 72 hours; 7 days by default).
//
// A batch with a malformed item: the envelope is judged as a whole, the
// items one by one:
//
//   - A body that is not JSON, not valid UTF-8, or whose "event" is not a
//     plain name or whose "data" is not an array is refused with 400 and a
//     reason; nothing is stored.
//   - Inside a well-formed envelope every item stands on its own. An item
//     that is not a JSON object, does not decode into the event's documented
//     shape, or lacks its key fields (msgId and status; msgId; hitId) is
//     stored anyway, flagged malformed ("malformed: <reason>"), keyed by the
//     SHA-256 of its compact JSON and marked processed, so it is never
//     applied but stays visible to operators. The good items are stored and
//     applied exactly once, and the answer is 200: a 4xx or 5xx would make
//     SMS.CX retry a batch that can never get better, and the good items
//     would wait behind the bad one for as long as it retries. A retried
//     batch is de-duplicated item by item, the malformed one included.
//   - Items of events apptconfirm does not handle (otp_update,
//     receive_viber, ...) are stored and marked processed as "ignored".
//
// See docs/webhooks.md for the operator's view.
package webhook
