package billingqueue

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/billingrun"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// fakeTime makes River read the fake's manual clock plus the real time since
// t0: days pass when the test advances the fake's clock, and River's own
// timers (leader lease, producers' heartbeats, short retries) still see time
// go by in between. (A frozen clock made River stall after a jump when the
// machine was loaded.)
type fakeTime struct {
	c  *iamporttest.Clock
	t0 time.Time
}

func (f fakeTime) Now() time.Time       { return f.c.Now().Add(time.Since(f.t0)) }
func (f fakeTime) NowOrNil() *time.Time { t := f.Now(); return &t }

var _ rivertype.TimeGenerator = fakeTime{}

// near reports whether got is want, or later by at most the real time the
// test has run (River's clock is the fake's plus that).
func near(got, want time.Time, ft fakeTime) bool {
	return !got.Before(want) && got.Sub(want) <= time.Since(ft.t0)
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// A card that declines twice and then pays is charged exactly once, on the
// third attempt, and only when the fake's clock reaches each dunning day.
func TestDunningDeclinesTwiceThenPays(t *testing.T) {
	t.Parallel()
	// The fake's clock starts now: River's stuck-job rescuer compares the
	// jobs' attempted_at (from River's stubbed clock) with the real time.
	start := time.Now().Truncate(time.Second)
	clock := iamporttest.NewClock(start)
	srv := iamporttest.NewServer(iamporttest.WithClock(clock))
	t.Cleanup(srv.Close)
	const cust = "cust-dunning"
	if err := srv.RegisterBillingKey(cust, iamporttest.DefaultCardNumber); err != nil {
		t.Fatal(err)
	}
	srv.DeclineCustomer(cust, "한도초과")

	cfg := testConfig(4)
	cfg.Dunning = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour}
	ft := fakeTime{clock, time.Now()}
	cfg.Now = ft.Now
	cfg.RiverConfig = func(c *river.Config) { c.TestOnly = true; c.Test.Time = ft }
	q, _ := newSQLiteQueue(t, filepath.Join(t.TempDir(), "bq.db"), srv.Client(sdkOptions()...), cfg)
	ctx := ctxT(t)
	if _, err := q.Enqueue(ctx, func(yield func(Charge) bool) {
		yield(Charge{Run: "2026-11", CustomerUID: cust, Amount: 12900, Name: "월 구독"})
	}); err != nil {
		t.Fatal(err)
	}
	base, _ := billingrun.MerchantUID("", cust, "2026-11")
	m1, m2, m3 := AttemptMerchantUID(base, 1), AttemptMerchantUID(base, 2), AttemptMerchantUID(base, 3)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(c)
	})
	report := func() *Report {
		r, err := q.Report(ctx, "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Attempt 0 declines; attempt 1 waits for day +1 on the fake's clock.
	waitFor(t, "the first decline", 60*time.Second, func() bool {
		r := report()
		return len(r.Declined) == 1 && len(r.Declined[0].Reasons) == 1
	})
	r := report()
	if d := r.Declined[0]; d.NextMerchantUID != m1 || !near(d.NextAt, start.Add(24*time.Hour), ft) || d.GaveUp {
		t.Fatalf("after the first decline: %+v", d)
	}
	if p := r.Pending; len(p) != 1 || p[0].State != string(rivertype.JobStateScheduled) {
		t.Fatalf("pending: %+v", p)
	}
	clock.Advance(23 * time.Hour) // not yet due (an hour short): nothing may run
	time.Sleep(200 * time.Millisecond)
	if n := srv.ChargeAttempts(m1); n != 0 {
		t.Fatalf("attempt 1 ran %d times before its day", n)
	}
	clock.Advance(time.Hour)
	t1 := time.Now()
	waitFor(t, "the second decline", 60*time.Second, func() bool {
		r := report()
		return len(r.Declined) == 1 && len(r.Declined[0].Reasons) == 2
	})
	if d := report().Declined[0]; d.NextMerchantUID != m2 || !near(d.NextAt, start.Add(4*24*time.Hour), ft) {
		t.Fatalf("after the second decline: %+v", d)
	}
	// The card works again; attempt 2 pays on day +4.
	srv.DeclineCustomer(cust, "")
	clock.Advance(3 * 24 * time.Hour)
	t2 := time.Now()
	waitFor(t, "the payment", 60*time.Second, func() bool { return report().ByStatus[StatusPaid].Count == 1 })
	// River's scheduler (on the leader, every 5 s) makes a due job available;
	// a jump of the clock also expires the leader's lease, so the wait
	// includes a new election.
	t.Logf("day +1 attempt ran %s after the clock reached it; day +4 attempt %s after", t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))
	r = report()
	if len(r.Paid) != 1 || r.Paid[0].MerchantUID != m2 || r.Paid[0].Attempt != 2 || r.Paid[0].Amount != 12900 {
		t.Fatalf("paid: %+v", r.Paid)
	}
	if got := [4]int{srv.Charges(base), srv.Charges(m1), srv.Charges(m2), srv.ChargeAttempts(m3)}; got != [4]int{0, 0, 1, 0} {
		t.Fatalf("charges base/d1/d2, attempts d3: %v", got)
	}
	paid := 0
	for _, p := range srv.Payments() {
		if !p.PaidAt.IsZero() {
			paid++
			if !p.PaidAt.Equal(start.Add(4 * 24 * time.Hour)) {
				t.Errorf("paid at %s, want day +4 on the fake's clock", p.PaidAt)
			}
		}
	}
	if paid != 1 || len(r.Declined) != 0 || len(r.Pending) != 0 {
		t.Fatalf("paid payments %d, report %s", paid, r)
	}
}

// An earlier run paid and the payment was refunded since: the job completes
// as "refunded" (no new charge), never as unknown. A customer without a key
// is refused with Iamport's code and message, and the job is cancelled.
func TestRefundedAndRefused(t *testing.T) {
	t.Parallel()
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	iam := srv.Client(sdkOptions()...)
	ctx := ctxT(t)
	if err := srv.RegisterBillingKey("cust-a", iamporttest.DefaultCardNumber); err != nil {
		t.Fatal(err)
	}
	base, _ := billingrun.MerchantUID("", "cust-a", "2026-11")
	p, err := iam.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cust-a", MerchantUID: base, Amount: 5000, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Reason: "환불"}); err != nil {
		t.Fatal(err)
	}
	q, _ := newSQLiteQueue(t, ":memory:", iam, testConfig(2))
	if _, err := q.Enqueue(ctx, func(yield func(Charge) bool) {
		_ = yield(Charge{Run: "2026-11", CustomerUID: "cust-a", Amount: 5000, Name: "x"}) &&
			yield(Charge{Run: "2026-11", CustomerUID: "cust-nokey", Amount: 7000, Name: "x"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r := waitSettled(t, q, "2026-11", 20*time.Second)
	if r.ByStatus[StatusRefunded] != (Tally{1, 5000}) || len(r.Paid) != 1 || !r.Paid[0].Refunded || r.Paid[0].ImpUID != p.ImpUID {
		t.Errorf("refunded: %s %+v", r, r.Paid)
	}
	if srv.Charges(base) != 1 || srv.ChargeAttempts(base) != 1 {
		t.Errorf("charges %d attempts %d", srv.Charges(base), srv.ChargeAttempts(base))
	}
	if len(r.Refused) != 1 || r.Refused[0].Code != 1 || !strings.Contains(r.Refused[0].Message, "구매자") || r.ByStatus[StatusRefused] != (Tally{1, 7000}) {
		t.Errorf("refused: %+v", r.Refused)
	}
	states, _ := jobStates(t, q)
	if states[rivertype.JobStateCancelled] != 1 || states[rivertype.JobStateCompleted] != 1 {
		t.Errorf("states %v", states)
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = q.Stop(c)
}

// A ctx that ends while charges are in flight stops the queue without losing
// a job: the cut-short charges are retried, with their merchant_uid, by the
// next Run, and nothing is charged twice.
func TestRunStopsOnCtxWithoutLosingJobs(t *testing.T) {
	t.Parallel()
	s := newScenario(t, 40, false)
	for _, c := range s.charges {
		m := s.base(t, c)
		s.srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultSlowPG, MerchantUID: m, Delay: 700 * time.Millisecond})
	}
	path := filepath.Join(t.TempDir(), "bq.db")
	cfg := testConfig(10)
	cfg.StopTimeout = 50 * time.Millisecond // cut running charges short
	q, _ := newSQLiteQueue(t, path, s.srv.Client(sdkOptions()...), cfg)
	ctx := ctxT(t)
	if _, err := q.Enqueue(ctx, s.seq()); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- q.Run(runCtx) }()
	waitFor(t, "charges in flight", 20*time.Second, func() bool { return len(s.srv.Payments()) >= 5 })
	stop()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its ctx ended")
	}
	r, err := q.Report(ctx, s.run)
	if err != nil {
		t.Fatal(err)
	}
	if r.Charges != 40 || r.ByStatus[StatusPending].Count == 0 {
		t.Fatalf("after the stop: %s", r)
	}
	t.Logf("after the stop: %s", r)
	// A new process (a new Queue on the same file) finishes the month.
	q2, _ := newSQLiteQueue(t, path, s.srv.Client(sdkOptions()...), testConfig(10))
	run2, stop2 := context.WithCancel(ctx)
	done2 := make(chan error, 1)
	go func() { done2 <- q2.Run(run2) }()
	r = waitSettled(t, q2, s.run, 60*time.Second)
	stop2()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	s.checkLedger(t, r)
	if s.repeatPaid.Load() == 0 {
		t.Error("no cut-short charge was asked again on its paid merchant_uid")
	}
}
