package conversation

import (
	"context"
	"time"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
)

// ApplyBatch implements webhook.BatchApplier for receive_sms: a run of
// replies is applied in order, each decided by the rules Apply follows,
// with exactly the effects of applying them one by one, but with the
// reads and writes shared. The run is cut into sets in which no number
// (and no message id) appears twice, so that a reply sees what the
// earlier replies from its number did; for each set one statement locks
// the senders' patients, one stores the inbound messages, and two read
// the appointments awaiting an answer from each number. The stored texts,
// settings, locations and reminder rules are read once for the
// transaction (the processor's, which changes none of them), numbers are
// parsed once, one statement tells which patients have offers of new
// times to pick from, the decisions about the stored messages are written in one
// statement per set, and the timeline and audit lines together at the
// end. The appointment of the latest message to each sender, which a
// reply going to the inbox notes, is read for the set at once (lastAhead).
func (s *Service) ApplyBatch(ctx context.Context, _ string, raws [][]byte) ([]webhook.Result, error) {
	out := make([]webhook.Result, len(raws))
	ctx = s.store.WithTxReadCache(ctx)
	now := models.DBTime(s.now())
	ins := make([]*models.InboundMessage, len(raws))
	for i, raw := range raws {
		in, bad := s.decode(raw, now, s.numbers.Loose)
		if bad != nil {
			out[i] = *bad
			continue
		}
		ins[i] = in
	}
	err := s.store.DeferringLogs(ctx, func(ctx context.Context) error {
		for start := 0; start < len(ins); {
			end := setEnd(ins, start)
			if err := s.applySet(ctx, ins[start:end], out[start:end], now); err != nil {
				return err
			}
			start = end
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// setEnd returns where the set starting at ins[start] ends: before the
// first message from a number, or with a message id, already in it. Nil
// entries (undecodable items) go with any set.
func setEnd(ins []*models.InboundMessage, start int) int {
	from := map[string]bool{}
	ref := map[string]bool{}
	end := start
	for ; end < len(ins); end++ {
		in := ins[end]
		if in == nil {
			continue
		}
		if from[in.From] || ref[in.ProviderID] {
			break
		}
		from[in.From], ref[in.ProviderID] = true, true
	}
	return end
}

// applySet applies replies from distinct numbers (nil entries are
// skipped), writing each one's result into out: the senders' patients are
// locked and the messages stored before anything else is written, as
// Apply does for one reply, then each is acted on in order.
func (s *Service) applySet(ctx context.Context, ins []*models.InboundMessage, out []webhook.Result, now time.Time) error {
	froms := make([]string, 0, len(ins))
	stored := make([]*models.InboundMessage, 0, len(ins))
	for _, in := range ins {
		if in != nil {
			froms = append(froms, in.From)
			stored = append(stored, in)
		}
	}
	patients, err := s.store.LockPatientsByPhones(ctx, froms)
	if err != nil {
		return err
	}
	added, err := s.store.AddInbounds(ctx, stored)
	if err != nil {
		return err
	}
	awaiting, err := s.store.AwaitingAnswers(ctx, patients, now, awaitingKinds)
	if err != nil {
		return err
	}
	var ids []uint
	for _, ps := range patients {
		for i := range ps {
			ids = append(ids, ps[i].ID)
		}
	}
	had, err := s.store.PatientsWithOffers(ctx, ids)
	if err != nil {
		return err
	}
	offers := &offersAhead{had: had}
	last := &lastAhead{}
	for _, in := range stored {
		if len(patients[in.From]) > 0 {
			last.numbers = append(last.numbers, in.From)
		}
	}
	dec := &decisions{at: make(map[uint]int, len(stored))}
	k := 0
	for i, in := range ins {
		if in == nil {
			continue
		}
		k++
		if !added[k-1] {
			out[i] = duplicate
			continue
		}
		rc := &replyCtx{
			in: in, from: in.From, now: now, patients: patients[in.From],
			awaiting: awaiting[in.From], knowsAwaiting: true, decisions: dec, offers: offers, last: last,
		}
		res, err := s.act(ctx, rc)
		if err != nil {
			return err
		}
		out[i] = res
	}
	return s.store.SaveInboundDecisions(ctx, dec.rows)
}
