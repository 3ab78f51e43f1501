package billingqueue

import (
	"context"
	"fmt"
	"hash/fnv"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billingkr/iamport-go/billingrun"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// scenario is a month of charges against the fake: some customers decline,
// some have no billing key (refused), and with faults on, the first charge
// request of some merchant_uids hits a fault (lost reply, 5xx before or after
// the commit, reset, HTML 502, slow PG fast or slower than the SDK's budget).
type scenario struct {
	run          string
	srv          *iamporttest.Server
	charges      []Charge
	declined     map[string]bool // customer_uid
	unregistered map[string]bool // customer_uid

	mu         sync.Mutex
	seen       map[string]bool // merchant_uids whose first charge request was served
	faults     map[iamporttest.FaultKind]int
	repeatPaid atomic.Int64 // charge requests for a merchant_uid already paid
}

func customerUID(i int) string { return fmt.Sprintf("cust-%05d", i) }

func newScenario(t *testing.T, n int, faults bool, opts ...iamporttest.ServerOption) *scenario {
	t.Helper()
	srv := iamporttest.NewServer(opts...)
	t.Cleanup(srv.Close)
	s := &scenario{run: "2026-11", srv: srv, declined: map[string]bool{}, unregistered: map[string]bool{},
		seen: map[string]bool{}, faults: map[iamporttest.FaultKind]int{}}
	for i := range n {
		c := customerUID(i)
		switch {
		case i%100 == 7:
			s.unregistered[c] = true
		default:
			if err := srv.RegisterBillingKey(c, iamporttest.DefaultCardNumber); err != nil {
				t.Fatal(err)
			}
			if i%25 == 3 {
				s.declined[c] = true
				srv.DeclineCustomer(c, "잔액부족")
			}
		}
		s.charges = append(s.charges, Charge{Run: s.run, CustomerUID: c, Amount: 9900 + int64(i%5)*1000, Name: "월 구독"})
	}
	srv.SetFaultFunc(func(route, m string) iamporttest.Fault {
		if route != iamporttest.RouteAgain || m == "" {
			return iamporttest.Fault{}
		}
		if srv.Charges(m) > 0 {
			s.repeatPaid.Add(1)
		}
		if !faults {
			return iamporttest.Fault{}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.seen[m] {
			return iamporttest.Fault{}
		}
		s.seen[m] = true
		h := fnv.New32a()
		h.Write([]byte(m))
		var f iamporttest.Fault
		switch h.Sum32() % 100 {
		case 0, 1, 2:
			f = iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit}
		case 3, 4, 5:
			f = iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit}
		case 6, 7:
			f = iamporttest.Fault{Kind: iamporttest.Fault5xxAfterCommit}
		case 8, 9:
			f = iamporttest.Fault{Kind: iamporttest.FaultReset}
		case 10, 11:
			f = iamporttest.Fault{Kind: iamporttest.FaultSlowPG, Delay: 300 * time.Millisecond}
		case 12:
			f = iamporttest.Fault{Kind: iamporttest.FaultHTML502}
		case 13:
			// Slower than the SDK's timeout + settle window: unknown, snoozed,
			// asked again with the same merchant_uid until it settles.
			f = iamporttest.Fault{Kind: iamporttest.FaultSlowPG, Delay: 3 * time.Second}
		}
		if f.Kind != iamporttest.FaultNone {
			s.faults[f.Kind]++
		}
		return f
	})
	return s
}

func (s *scenario) seq() iter.Seq[Charge] {
	return func(yield func(Charge) bool) {
		for _, c := range s.charges {
			if !yield(c) {
				return
			}
		}
	}
}

func (s *scenario) base(t *testing.T, c Charge) string {
	m, err := billingrun.MerchantUID("", c.CustomerUID, c.Run)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// settled reports whether every charge of the run is finished or waiting for
// a dunning attempt at least an hour away.
func settled(r *Report) bool {
	for _, p := range r.Pending {
		if p.State != string(rivertype.JobStateScheduled) || time.Until(p.ScheduledAt) < time.Hour {
			return false
		}
	}
	return true
}

// waitSettled waits until every job of the queue is finished or a dunning
// retry scheduled at least an hour away (two cheap queries per poll), then
// returns the run's report, which must say the same.
func waitSettled[TTx any](t *testing.T, q *Queue[TTx], run string, within time.Duration) *Report {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	busy := river.NewJobListParams().Kinds(Kind).First(1).States(rivertype.JobStateAvailable,
		rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning)
	soonest := river.NewJobListParams().Kinds(Kind).First(1).States(rivertype.JobStateScheduled).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc)
	for {
		quiet := false
		res, err := q.River().JobList(ctx, busy)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			res, err = q.River().JobList(ctx, soonest)
			if err != nil {
				t.Fatal(err)
			}
			quiet = len(res.Jobs) == 0 || time.Until(res.Jobs[0].ScheduledAt) > time.Hour
		}
		if quiet {
			r, err := q.Report(ctx, run)
			if err != nil {
				t.Fatal(err)
			}
			if !settled(r) {
				t.Fatalf("the jobs are settled but the report is not: %s %+v", r, r.Pending[:min(len(r.Pending), 5)])
			}
			return r
		}
		if time.Now().After(deadline) {
			r, err := q.Report(ctx, run)
			if err != nil {
				t.Fatal(err)
			}
			t.Fatalf("not settled after %s: %s; pending e.g. %+v", within, r, r.Pending[:min(len(r.Pending), 5)])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkLedger asserts the report against the fake's ledger: no merchant_uid
// charged twice, the report's paid list is exactly the fake's paid payments
// (merchant_uid, imp_uid, amount), no charge lost, every declined customer
// declined with its reasons, every unregistered one refused with Iamport's
// code and message.
func (s *scenario) checkLedger(t *testing.T, r *Report) {
	t.Helper()
	type entry struct {
		imp    string
		amount int64
	}
	ledger := map[string]entry{}
	var ledgerSum int64
	for _, p := range s.srv.Payments() {
		if n := s.srv.Charges(p.MerchantUID); n > 1 {
			t.Errorf("merchant_uid %s charged %d times", p.MerchantUID, n)
		}
		if !p.PaidAt.IsZero() {
			if _, dup := ledger[p.MerchantUID]; dup {
				t.Errorf("two paid payments for %s", p.MerchantUID)
			}
			ledger[p.MerchantUID] = entry{p.ImpUID, p.Amount}
			ledgerSum += p.Amount
		}
	}
	if r.Charges != len(s.charges) {
		t.Errorf("report has %d charges, enqueued %d (lost jobs)", r.Charges, len(s.charges))
	}
	if len(r.Paid) != len(ledger) {
		t.Errorf("report: %d paid, fake's ledger: %d", len(r.Paid), len(ledger))
	}
	for _, p := range r.Paid {
		e, ok := ledger[p.MerchantUID]
		if !ok {
			t.Errorf("report says %s paid; the fake has no paid payment", p.MerchantUID)
			continue
		}
		if e.imp != p.ImpUID || e.amount != p.Amount {
			t.Errorf("%s: report %s/%d, fake %s/%d", p.MerchantUID, p.ImpUID, p.Amount, e.imp, e.amount)
		}
	}
	if got := r.ByStatus[StatusPaid].Amount + r.ByStatus[StatusRefunded].Amount; got != ledgerSum {
		t.Errorf("report paid amount %d, fake's ledger %d", got, ledgerSum)
	}
	wantPaid := len(s.charges) - len(s.declined) - len(s.unregistered)
	if r.ByStatus[StatusPaid].Count != wantPaid {
		t.Errorf("paid %d, want %d", r.ByStatus[StatusPaid].Count, wantPaid)
	}
	declined := map[string]DeclinedCharge{}
	for _, d := range r.Declined {
		declined[d.CustomerUID] = d
	}
	refused := map[string]RefusedCharge{}
	for _, x := range r.Refused {
		refused[x.CustomerUID] = x
	}
	for _, c := range s.charges {
		switch {
		case s.declined[c.CustomerUID]:
			d, ok := declined[c.CustomerUID]
			if !ok || len(d.Reasons) < 2 || d.Reasons[0] != "잔액부족" {
				t.Errorf("declined customer %s: %+v", c.CustomerUID, d)
			}
		case s.unregistered[c.CustomerUID]:
			x, ok := refused[c.CustomerUID]
			if !ok || x.Code == 0 || x.Message == "" {
				t.Errorf("unregistered customer %s: %+v", c.CustomerUID, x)
			}
		}
	}
	if n := r.ByStatus[StatusPending].Count; n != len(s.declined) {
		t.Errorf("pending %d, want the %d declined charges waiting for their last dunning attempt", n, len(s.declined))
	}
	if r.ByStatus[StatusNotCharged].Count != 0 {
		t.Errorf("%d charges given up as not charged", r.ByStatus[StatusNotCharged].Count)
	}
	s.mu.Lock()
	t.Logf("faults hit: %v; charge requests repeated on a paid merchant_uid: %d", s.faults, s.repeatPaid.Load())
	s.mu.Unlock()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
