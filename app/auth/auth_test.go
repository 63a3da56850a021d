package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

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

// A check costs one bcrypt comparison at the Hasher's cost whether the
// account exists or not, and whether or not the password is too long: the
// hook sees every comparison and the cost of the hash it is given, so no
// timing is measured.
func TestHasherSameCostEveryWay(t *testing.T) {
	h := NewHasher(11)
	if h.dummy != nil {
		t.Fatal("stand-in hash made before the first check")
	}
	type call struct {
		cost   int
		pwLen  int
		dummy  bool
		result error
	}
	var calls []call
	h.compare = func(hash, pw []byte) error {
		cost, err := bcrypt.Cost(hash)
		if err != nil {
			t.Fatalf("compared against an unreadable hash %q", hash)
		}
		c := call{cost: cost, pwLen: len(pw), dummy: isDummy(hash, h.dummy)}
		c.result = bcrypt.ErrMismatchedHashAndPassword
		if string(pw) == "right password" || string(pw) == strings.Repeat("x", 72) {
			c.result = nil // as if it matched, without paying for it
		}
		calls = append(calls, c)
		return c.result
	}
	// A stored hash of cost 11 (its salt and digest need not be real: the
	// hook does the comparing).
	real := "$2a$11$" + strings.Repeat("a", 53)
	long := strings.Repeat("x", 73)
	for _, tc := range []struct {
		name      string
		hash, pw  string
		want      bool
		wantDummy bool
		wantPwLen int
	}{
		{"known account, wrong password", real, "wrong password", false, false, 14},
		{"known account, right password", real, "right password", true, false, 14},
		{"unknown account", "", "wrong password", false, true, 14},
		{"unknown account, the right password of another", "", "right password", false, true, 14},
		{"unreadable stored hash", "not-a-hash", "right password", false, true, 14},
		{"known account, password over 72 bytes", real, long, false, false, 72},
		{"unknown account, password over 72 bytes", "", long, false, true, 72},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			if got := h.Check(tc.hash, tc.pw); got != tc.want {
				t.Errorf("Check = %v, want %v", got, tc.want)
			}
			if len(calls) != 1 {
				t.Fatalf("%d bcrypt comparisons, want exactly 1", len(calls))
			}
			c := calls[0]
			if c.cost != h.Cost || c.dummy != tc.wantDummy || c.pwLen != tc.wantPwLen {
				t.Errorf("compared at cost %d (want %d), stand-in %v (want %v), %d password bytes (want %d)",
					c.cost, h.Cost, c.dummy, tc.wantDummy, c.pwLen, tc.wantPwLen)
			}
		})
	}
	// The stand-in hash is made once per Hasher, with its cost.
	first := h.dummy
	h.Check("", "again")
	if &first[0] != &h.dummy[0] {
		t.Error("stand-in hash made twice")
	}
	if cost, err := bcrypt.Cost(h.dummy); err != nil || cost != 11 {
		t.Errorf("stand-in hash cost %d, %v; want 11", cost, err)
	}
}

func TestNewHasherBoundsCost(t *testing.T) {
	if c := NewHasher(99).Cost; c != bcrypt.MaxCost {
		t.Fatalf("cost %d, want capped at %d", c, bcrypt.MaxCost)
	}
}

// The report's attack: 20 wrong passwords for one account sent at once.
// Each attempt reserves before its (slow) password check, all checks
// overlap, and at most the account's limit get through.
func TestReserveParallelAttempts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		account    func(i int) string
		address    func(i int) string
		perAccount int
		perAddress int
		want       int
	}{
		{
			name:       "one account from many addresses",
			account:    func(int) string { return "victim@clinic.example" },
			address:    func(i int) string { return fmt.Sprintf("10.0.0.%d", i) },
			perAccount: 5, perAddress: 100, want: 5,
		},
		{
			// Case and spaces do not make another account.
			name:       "one account, e-mail spelt differently",
			account:    func(i int) string { return []string{"Victim@Clinic.example", " victim@clinic.example"}[i%2] },
			address:    func(i int) string { return fmt.Sprintf("10.0.0.%d", i) },
			perAccount: 5, perAddress: 100, want: 5,
		},
		{
			name:       "many accounts from one address",
			account:    func(i int) string { return fmt.Sprintf("user%d@clinic.example", i) },
			address:    func(int) string { return "192.0.2.7" },
			perAccount: 5, perAddress: 8, want: 8,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			l := NewLoginLimiter(15*time.Minute, tc.perAccount, tc.perAddress, func() time.Time { return now })
			const n = 20
			start := make(chan struct{})
			checking := make(chan struct{})
			var reserved, done sync.WaitGroup
			var mu sync.Mutex
			allowed := 0
			reserved.Add(n)
			done.Add(n)
			for i := range n {
				go func() {
					defer done.Done()
					<-start
					res, ok, _ := l.Reserve(tc.account(i), tc.address(i))
					reserved.Done()
					// Every attempt is "checking its password" until all
					// have reserved: the overlap of the real attack.
					<-checking
					if ok {
						mu.Lock()
						allowed++
						mu.Unlock()
						res.Fail()
					}
				}()
			}
			close(start)
			reserved.Wait()
			close(checking)
			done.Wait()
			if allowed != tc.want {
				t.Fatalf("%d of %d parallel attempts allowed, want %d", allowed, n, tc.want)
			}
		})
	}
}

func TestReservation(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLoginLimiter(15*time.Minute, 2, 3, func() time.Time { return now })

	// A reservation never ended counts as a failure.
	if _, ok, _ := l.Reserve("a@x", "1.1.1.1"); !ok {
		t.Fatal("first attempt refused")
	}
	now = now.Add(time.Minute)
	res, ok, _ := l.Reserve("a@x", "1.1.1.1")
	if !ok {
		t.Fatal("second attempt refused")
	}
	res.Fail()
	res.Succeed() // too late: the first call counts
	res2, ok, wait := l.Reserve("a@x", "2.2.2.2")
	if ok || res2 != nil || wait != 14*time.Minute {
		t.Fatalf("third attempt: ok %v, reservation %v, wait %v; want refused for 14m", ok, res2, wait)
	}
	res2.Succeed() // a nil reservation does nothing
	res2.Fail()

	// A success clears the account and gives the address its attempt back.
	now = now.Add(15 * time.Minute) // the first two attempts leave the window
	for i := range 2 {
		if res, ok, _ := l.Reserve("b@x", "3.3.3.3"); !ok {
			t.Fatalf("attempt %d refused", i)
		} else {
			res.Succeed()
		}
	}
	for i := range 3 {
		if _, ok, _ := l.Reserve(fmt.Sprintf("c%d@x", i), "3.3.3.3"); !ok {
			t.Fatalf("address refused after successes, attempt %d", i)
		}
	}
	if _, ok, _ := l.Reserve("d@x", "3.3.3.3"); ok {
		t.Fatal("address limit not enforced")
	}
	if ok, _ := l.Allowed("b@x", "4.4.4.4"); !ok {
		t.Fatal("account still limited after its successes")
	}

	// A limit of zero refuses everything.
	zero := NewLoginLimiter(time.Minute, 0, 5, nil)
	if _, ok, wait := zero.Reserve("a@x", "1.1.1.1"); ok || wait <= 0 {
		t.Fatal("a zero account limit let an attempt through")
	}
}

// Made-up e-mails of any length cost a fixed-size key, and the number of
// keys stays bounded however many there are.
func TestLimiterMemoryBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLoginLimiter(15*time.Minute, 5, 1<<30, func() time.Time { return now })
	l.maxKeys = 100
	huge := strings.Repeat("a", 8<<20) + "@x"
	if _, ok, _ := l.Reserve(huge, "1.1.1.1"); !ok {
		t.Fatal("refused")
	}
	// The same address cut at 254 bytes is the same account.
	if ok, _ := l.Allowed(huge[:MaxEmailBytes], "2.2.2.2"); !ok {
		t.Fatal("refused early")
	}
	for i := range 4 {
		l.Fail(strings.ToUpper(huge[:MaxEmailBytes+i]), "2.2.2.2")
	}
	if ok, _ := l.Allowed(huge, "3.3.3.3"); ok {
		t.Fatal("a long e-mail and its first 254 bytes are counted apart")
	}
	for i := range 1000 {
		now = now.Add(time.Millisecond)
		l.Reserve(fmt.Sprintf("%d-%s", i, huge[:300]), fmt.Sprintf("10.%d.%d.1", i/256, i%256))
		if len(l.failures) > l.maxKeys {
			t.Fatalf("%d keys after %d attempts, bound %d", len(l.failures), i+1, l.maxKeys)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  Anna@Clinic.Example ", "anna@clinic.example"},
		{"", ""},
		{strings.Repeat("A", 300), strings.Repeat("a", MaxEmailBytes)},
		// A two-byte letter straddling the cut is dropped whole.
		{strings.Repeat("a", MaxEmailBytes-1) + "é", strings.Repeat("a", MaxEmailBytes-1)},
		{strings.Repeat("a", MaxEmailBytes-2) + "é", strings.Repeat("a", MaxEmailBytes-2) + "é"},
	} {
		if got := NormalizeEmail(tc.in); got != tc.want {
			t.Errorf("NormalizeEmail(%.20q...) = %.20q... (%d bytes), want %d bytes", tc.in, got, len(got), len(tc.want))
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"a@x", " A@X ", strings.Repeat("Ⱥ", 200), strings.Repeat("\xff", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := NormalizeEmail(in)
		if len(out) > MaxEmailBytes {
			t.Fatalf("%d bytes", len(out))
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("NormalizeEmail(%q) = %q: not UTF-8", in, out)
		}
		if out != strings.TrimSpace(out) {
			t.Fatalf("NormalizeEmail(%q) = %q: spaces around", in, out)
		}
	})
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

// isDummy reports whether hash is the stand-in hash itself (the same bytes
// in memory, not an equal copy).
func isDummy(hash, dummy []byte) bool {
	return len(hash) > 0 && len(dummy) > 0 && &hash[0] == &dummy[0]
}

// An admin's unlock lets the account's owner in again at once, from any
// address; the address that failed stays counted.
func TestUnlock(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLoginLimiter(15*time.Minute, 3, 5, func() time.Time { return now })
	if locked, _ := l.AccountLocked("Ann@Clinic.example"); locked {
		t.Fatal("locked before any failure")
	}
	for range 3 {
		res, ok, _ := l.Reserve("ann@clinic.example", "10.0.0.1")
		if !ok {
			t.Fatal("refused early")
		}
		res.Fail()
	}
	now = now.Add(5 * time.Minute)
	locked, wait := l.AccountLocked(" ANN@clinic.example")
	if !locked || wait != 10*time.Minute {
		t.Fatalf("AccountLocked = %v, %v; want locked for 10m", locked, wait)
	}
	if _, ok, _ := l.Reserve("ann@clinic.example", "10.0.0.2"); ok {
		t.Fatal("a locked account let an attempt through")
	}
	if !l.Unlock("ann@clinic.example") {
		t.Fatal("Unlock reported the account was not locked")
	}
	if locked, _ := l.AccountLocked("ann@clinic.example"); locked {
		t.Fatal("still locked after Unlock")
	}
	if res, ok, _ := l.Reserve("ann@clinic.example", "10.0.0.2"); !ok {
		t.Fatal("refused after Unlock")
	} else {
		res.Succeed()
	}
	if l.Unlock("ann@clinic.example") {
		t.Fatal("Unlock of an unlocked account reported it locked")
	}
	// The failing address keeps its three failures: two more and it is out.
	for i := range 2 {
		res, ok, _ := l.Reserve(fmt.Sprintf("other%d@clinic.example", i), "10.0.0.1")
		if !ok {
			t.Fatalf("address refused at %d", i)
		}
		res.Fail()
	}
	if _, ok, _ := l.Reserve("ann@clinic.example", "10.0.0.1"); ok {
		t.Fatal("Unlock cleared the address's failures too")
	}
}

func TestWarmMakesTheStandInOnce(t *testing.T) {
	h := NewHasher(10)
	h.Warm()
	first := h.dummy
	if first == nil {
		t.Fatal("Warm made no stand-in hash")
	}
	h.Warm()
	h.Check("", "x")
	if &first[0] != &h.dummy[0] {
		t.Fatal("stand-in hash made again after Warm")
	}
}
