package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestHasher(t *testing.T) {
	h := NewHasher(4)
	if h.Cost != 10 {
		t.Fatalf("cost %d, want raised to 10", h.Cost)
	}
	hash, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("hash %q is not bcrypt cost 10", hash)
	}
	if !h.Check(hash, "correct horse") || h.Check(hash, "wrong horse") || h.Check("", "correct horse") {
		t.Fatal("Check answered wrongly")
	}
	long := strings.Repeat("x", 73)
	if _, err := h.Hash(long); err != ErrPasswordTooLong {
		t.Fatalf("73-byte password: %v, want ErrPasswordTooLong", err)
	}
	// Two passwords sharing 72 bytes must not both match: longer ones are refused.
	h72, _ := h.Hash(strings.Repeat("x", 72))
	if h.Check(h72, strings.Repeat("x", 72)+"y") {
		t.Fatal("a password past 72 bytes matched a truncated hash")
	}
}

func TestLoginLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLoginLimiter(15*time.Minute, 3, 5, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allowed("a@x", "1.1.1.1"); !ok {
			t.Fatalf("attempt %d refused too early", i)
		}
		l.Fail("a@x", "1.1.1.1")
	}
	if ok, wait := l.Allowed("a@x", "2.2.2.2"); ok || wait <= 0 {
		t.Fatal("account limit not enforced from another address")
	}
	// The address limit holds across accounts.
	l.Fail("b@x", "1.1.1.1")
	l.Fail("c@x", "1.1.1.1")
	if ok, _ := l.Allowed("d@x", "1.1.1.1"); ok {
		t.Fatal("address limit not enforced across accounts")
	}
	if ok, _ := l.Allowed("d@x", "3.3.3.3"); !ok {
		t.Fatal("an untouched account and address were refused")
	}
	now = now.Add(16 * time.Minute)
	if ok, _ := l.Allowed("a@x", "1.1.1.1"); !ok {
		t.Fatal("limit did not expire after the window")
	}
}

func TestSessionStore(t *testing.T) {
	s := storetest.SQLite(t)
	g := NewSessionStore(s)
	ctx := context.Background()
	if err := g.CommitCtx(ctx, "tok", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := g.CommitCtx(ctx, "tok", []byte("data2"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b, ok, err := g.FindCtx(ctx, "tok")
	if err != nil || !ok || string(b) != "data2" {
		t.Fatalf("Find = %q %v %v", b, ok, err)
	}
	if err := g.CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := g.FindCtx(ctx, "old"); ok {
		t.Fatal("expired session found")
	}
	if n, err := g.DeleteExpired(ctx); err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
	if err := g.DeleteCtx(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	var n int64
	s.DB(ctx).Model(&models.Session{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}
