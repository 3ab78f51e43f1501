// Command example runs a month of subscription billing with dunning on
// embedded SQLite against the embedded fake Iamport: no server to install.
//
//	cd billingqueue && go run ./example            # in memory
//	cd billingqueue && go run ./example -db bill.db # a file: run it twice, the second enqueues nothing
//
// 30 customers are billed for 2026-11. Three cards decline; the dunning
// policy retries them 1, 3 and 7 days later on the fake's clock, which the
// example advances: one card is fixed before day 4 and pays on the second
// retry, the others give up after the last. One customer has no billing key:
// Iamport refuses the charge. Two charges hit a transport fault (a lost reply,
// a 5xx): the SDK reconciles them. The report is printed as text and JSON.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/billingqueue"
	"github.com/billingkr/iamport-go/billingrun"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// clockTime lets River read the fake's clock plus the real time since the
// start (so that short retries still come due), so that days of dunning pass
// in seconds when the example advances the fake's clock. A real deployment
// leaves River's clock alone.
type clockTime struct {
	c  *iamporttest.Clock
	t0 time.Time
}

func (t clockTime) Now() time.Time       { return t.c.Now().Add(time.Since(t.t0)) }
func (t clockTime) NowOrNil() *time.Time { n := t.Now(); return &n }

var _ rivertype.TimeGenerator = clockTime{}

func main() {
	dbPath := flag.String("db", ":memory:", "SQLite file (or :memory:)")
	asJSON := flag.Bool("json", false, "print the report as JSON only")
	flag.Parse()
	if err := run(*dbPath, *asJSON); err != nil {
		log.Fatal(err)
	}
}

func run(dbPath string, asJSON bool) error {
	ctx := context.Background()
	const period = "2026-11"
	// The fake's clock starts now: River's stuck-job rescuer compares the
	// jobs' attempted_at (from River's clock, the fake's) with the real time.
	start := time.Now().Truncate(time.Second)
	clock := iamporttest.NewClock(start)
	rt := clockTime{clock, time.Now()}
	fake := iamporttest.NewServer(iamporttest.WithClock(clock))
	defer fake.Close()

	var charges []billingqueue.Charge
	for i := range 30 {
		cust := fmt.Sprintf("member-%03d", i)
		charges = append(charges, billingqueue.Charge{Run: period, CustomerUID: cust, Amount: 9900, Name: "스탠다드 월 구독"})
		if i == 29 {
			continue // no billing key: refused
		}
		if err := fake.RegisterBillingKey(cust, iamporttest.DefaultCardNumber); err != nil {
			return err
		}
	}
	fake.DeclineCustomer("member-004", "잔액부족")
	fake.DeclineCustomer("member-011", "한도초과")
	fake.DeclineCustomer("member-017", "분실 카드")
	for i, kind := range []iamporttest.FaultKind{iamporttest.FaultDropAfterCommit, iamporttest.Fault5xxBeforeCommit} {
		m, err := billingrun.MerchantUID("", fmt.Sprintf("member-%03d", 20+i), period)
		if err != nil {
			return err
		}
		fake.InjectFault(iamporttest.Fault{Kind: kind, MerchantUID: m})
	}

	db, err := billingqueue.OpenSQLite(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	// Window > attempt timeout, and JobTimeout > both.
	iam := fake.Client(iamport.WithTimeout(2*time.Second), iamport.WithSettleWindow(3*time.Second))
	q, err := billingqueue.NewSQLite(db, iam, billingqueue.Config{
		Concurrency:       8,
		RateLimit:         100, // charges per second, this process
		Dunning:           []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour},
		NotChargedBackoff: 200 * time.Millisecond,
		UnknownSnooze:     500 * time.Millisecond,
		JobTimeout:        10 * time.Second,
		Now:               rt.Now,
		RiverConfig:       func(c *river.Config) { c.Test.Time = rt },
	})
	if err != nil {
		return err
	}
	if err := q.Migrate(ctx); err != nil {
		return err
	}
	res, err := q.Enqueue(ctx, func(yield func(billingqueue.Charge) bool) {
		for _, c := range charges {
			if !yield(c) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		if !asJSON {
			fmt.Printf(format+"\n", a...)
		}
	}
	logf("enqueued %d charges (%d already queued)", res.Inserted, res.Duplicates)

	if err := q.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = q.Stop(stop)
	}()

	// Let each dunning day come on the fake's clock, and wait for the queue
	// to settle (every charge finished or waiting for a later day).
	var r *billingqueue.Report
	for day, advance := range []time.Duration{0, 24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour} {
		if day == 2 {
			fake.DeclineCustomer("member-011", "") // the member updated the card
		}
		clock.Advance(advance)
		if r, err = waitSettled(ctx, q, rt.Now()); err != nil {
			return err
		}
		logf("day %d (%s): %s", int(clock.Now().Sub(start).Hours()/24), clock.Now().Format("01-02"), r)
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	for _, d := range r.Declined {
		logf("declined %s (%d won): %v, gave up %v", d.CustomerUID, d.Amount, d.Reasons, d.GaveUp)
	}
	for _, x := range r.Refused {
		logf("refused %s: code %d %s", x.CustomerUID, x.Code, x.Message)
	}
	for _, p := range r.Paid {
		if p.Attempt > 0 {
			logf("paid on dunning attempt %d: %s %s (%d won)", p.Attempt, p.CustomerUID, p.MerchantUID, p.Amount)
		}
	}
	return nil
}

type sqlTx = sql.Tx

// waitSettled polls the report until nothing is due at now.
func waitSettled(ctx context.Context, q *billingqueue.Queue[*sqlTx], now time.Time) (*billingqueue.Report, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := q.Report(ctx, "2026-11")
		if err != nil {
			return nil, err
		}
		due := 0
		for _, p := range r.Pending {
			if !p.ScheduledAt.After(now) || p.State != string(rivertype.JobStateScheduled) {
				due++
			}
		}
		if due == 0 {
			return r, nil
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("not settled after 60s: %s; pending %+v", r, r.Pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
