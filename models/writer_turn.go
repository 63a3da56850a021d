package models

import "context"

// heldTurnKey marks a context whose caller holds the writer's turn.
type heldTurnKey struct{}

// HoldWriterTurn waits for this process's turn to write (see WriterTurn)
// and returns a context in which WriterTurn returns at once, so that the
// caller can decide what to write only once the turn is its own: the
// webhook receiver gathers into one commit every request that arrived
// while it waited. The caller must call release, once, when it is done.
func (s *Store) HoldWriterTurn(ctx context.Context) (held context.Context, release func(), err error) {
	release, err = s.WriterTurn(ctx)
	if err != nil {
		return nil, nil, err
	}
	return context.WithValue(ctx, heldTurnKey{}, s), release, nil
}

// holdsTurn reports whether ctx comes from HoldWriterTurn on s.
func (s *Store) holdsTurn(ctx context.Context) bool {
	held, _ := ctx.Value(heldTurnKey{}).(*Store)
	return held == s
}
