package billingrun

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"golang.org/x/time/rate"
)

// Charger charges one billing key. *iamport.Client implements it; tests can
// fake it. It must be safe for concurrent use and must honour the SDK's
// four-outcome contract (see iamport.Client.AgainPayment).
type Charger interface {
	AgainPayment(ctx context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error)
}

// Charge is one charge of a batch: the billing key of CustomerUID, Amount in
// Currency's minor unit ("" = KRW), for Period.
type Charge struct {
	CustomerUID string // the billing key to charge (≤ 80 characters)
	Amount      int64  // > 0, in Currency's minor unit (KRW: won)
	Currency    string // ISO 4217; "" = KRW
	Name        string // product name shown to the buyer (≤ 40 characters)
	// Period names what is being paid for, e.g. "2026-11". With CustomerUID
	// it determines the merchant_uid (see MerchantUID), so it must be the
	// same on every run of the same batch.
	Period string
}

// Result is the outcome of one charge.
type Result struct {
	Charge      Charge
	MerchantUID string // derived from Charge.CustomerUID and Charge.Period ("" if it could not be)
	Outcome     Outcome
	// Payment is the paid payment (Paid), the failed payment (Declined), or
	// what came back with an Unknown outcome (often nil).
	Payment *iamport.Payment
	// Err is nil for Paid; otherwise the error the charge ended with (the
	// SDK's, or ErrDuplicate, ErrUnexpectedStatus or a Charge validation
	// error). Use errors.Is/As on it.
	Err error
	// Duration is how long the charging call took, reconciliation
	// included (0 for charges refused before any call).
	Duration time.Duration
}

// Tally counts the charges of one outcome and adds up their amounts, per
// currency.
type Tally struct {
	Count int
	// Amounts is the sum of Charge.Amount per currency, upper case, with ""
	// counted as "KRW". Nil when Count is 0.
	Amounts map[string]int64
}

func (t *Tally) add(c Charge) {
	t.Count++
	if t.Amounts == nil {
		t.Amounts = make(map[string]int64, 1)
	}
	t.Amounts[normCurrency(c.Currency)] += c.Amount
}

// String formats the tally as "count (CUR amount, …)", e.g.
// "3 (KRW 29700, USD 999)", or "0".
func (t Tally) String() string {
	if t.Count == 0 {
		return "0"
	}
	curs := make([]string, 0, len(t.Amounts))
	for c := range t.Amounts {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	parts := make([]string, len(curs))
	for i, c := range curs {
		parts[i] = fmt.Sprintf("%s %d", c, t.Amounts[c])
	}
	return fmt.Sprintf("%d (%s)", t.Count, strings.Join(parts, ", "))
}

func normCurrency(c string) string {
	if c == "" {
		return "KRW"
	}
	return strings.ToUpper(c)
}

// Summary is what a run did.
type Summary struct {
	// Reported is the number of Results delivered: one per charge started
	// or refused.
	Reported int
	// NotStarted counts the charges of RunSlice's slice that were never
	// started because ctx ended. Run, given an iter.Seq, stops reading it
	// instead and leaves this 0.
	NotStarted int
	// Per-outcome counts and amounts.
	Paid, Refunded, Declined, NotCharged, Unknown, Invalid Tally
	// Duration is the run's wall time.
	Duration time.Duration
}

// Of returns the tally of outcome o.
func (s Summary) Of(o Outcome) Tally {
	if t := s.tally(o); t != nil {
		return *t
	}
	return Tally{}
}

func (s *Summary) tally(o Outcome) *Tally {
	switch o {
	case Paid:
		return &s.Paid
	case Refunded:
		return &s.Refunded
	case Declined:
		return &s.Declined
	case NotCharged:
		return &s.NotCharged
	case Unknown:
		return &s.Unknown
	case Invalid:
		return &s.Invalid
	}
	return nil
}

// Settled reports whether the run is finished business: none of the
// charges reported ended Unknown or NotCharged, and none of RunSlice's
// slice was left unstarted (so a re-run would change nothing but repeat the
// declines). It cannot know what Run left unread when its ctx ended
// (NotStarted stays 0 then): a run is done when Settled is true and the
// run's error is nil.
func (s Summary) Settled() bool {
	return s.NotStarted == 0 && s.Unknown.Count == 0 && s.NotCharged.Count == 0
}

// String is a one-line report for logs, e.g.
// "5000 charges in 12.3s: paid 4700 (KRW 47000000), declined 250 (…), …".
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d charges in %s:", s.Reported, s.Duration.Round(time.Millisecond))
	for i, o := range Outcomes {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s %s", o, s.Of(o))
	}
	if s.NotStarted > 0 {
		fmt.Fprintf(&b, ", not started %d", s.NotStarted)
	}
	return b.String()
}

// DefaultConcurrency is how many charges run at once when
// Runner.Concurrency is 0.
const DefaultConcurrency = 8

// DefaultProgressInterval is how often Progress is called when
// Runner.ProgressInterval is 0.
const DefaultProgressInterval = time.Second

// Runner charges batches. Set Charger (an *iamport.Client) and whatever
// else you need; the zero values of the rest are sensible. A Runner may be
// used for several runs, one after the other or at once.
type Runner struct {
	// Charger charges one billing key: an *iamport.Client. Required.
	Charger Charger
	// Prefix starts every merchant_uid (1 to 8 characters of [A-Za-z0-9-];
	// "" = DefaultPrefix). Changing it changes every merchant_uid, so keep
	// it fixed for a batch and every re-run of it.
	Prefix string
	// Concurrency is how many charges run at once (0 = DefaultConcurrency).
	// Iamport documents no rate limit; be gentle (and see Limiter). The
	// Client's own transport keeps 64 idle connections per host, so up to
	// 64 charges at once reuse their connections. If you give the Client
	// your own http.Client (iamport.WithHTTPClient) with a Transport, that
	// Transport's MaxIdleConnsPerHost should be at least Concurrency:
	// http.DefaultTransport keeps 2, so with 16 charges at once most of
	// them would open a new TLS connection.
	Concurrency int
	// Limiter, if set, is waited on before each charge starts.
	Limiter *rate.Limiter
	// Grace is how long charges already started may keep running once ctx
	// has ended. 0 means until they finish (each is bounded by the client's
	// timeout and settle window). A negative Grace cancels them at once,
	// which turns most of them Unknown.
	Grace time.Duration
	// Customize, if set, fills more of each request (buyer fields,
	// NoticeURL, CustomData, …). It runs concurrently for different charges.
	// CustomerUID, MerchantUID, Amount, Currency and Name are set from the
	// Charge after it returns: it cannot change what is charged.
	Customize func(c Charge, req *iamport.AgainPaymentRequest)
	// OnResult, if set, receives every Result, from one goroutine at a time
	// (no locking needed), in completion order. The run waits for it.
	OnResult func(Result)
	// Results, if set, receives every Result too (after OnResult). The run
	// blocks while it is full; Run does not close it.
	Results chan<- Result
	// Progress, if set, is called at most every ProgressInterval and once
	// at the end, from the same goroutine as OnResult: done charges so far,
	// total (the slice's length for RunSlice, -1 for Run), and the rate in
	// charges per second since the run began.
	Progress func(done, total int, rate float64)
	// ProgressInterval is the least time between Progress calls
	// (0 = DefaultProgressInterval).
	ProgressInterval time.Duration
}

// job is one charge handed to a worker.
type job struct {
	c   Charge
	uid string
}

// RunSlice charges every charge of the slice. See Run.
func (r *Runner) RunSlice(ctx context.Context, charges []Charge) (Summary, error) {
	return r.run(ctx, slices.Values(charges), len(charges))
}

// Run charges every charge the sequence yields, Concurrency at a time, and
// reports each one's Result to OnResult and Results. It returns when every
// charge started has ended and been reported.
//
// The sequence is read from Run's goroutine, one charge ahead of the
// workers. Run remembers a 16-byte hash of every merchant_uid it has seen,
// to refuse duplicates (about 40 bytes per charge: 40 MB for a million).
//
// The error is nil when the whole sequence was charged (whatever the
// outcomes: read the Summary). When ctx ends first, no further charge is
// started, the ones started are let finish (see Grace), and the error
// satisfies errors.Is(err, ctx.Err()). A Runner without a Charger or with
// a bad Prefix fails before any charge.
func (r *Runner) Run(ctx context.Context, charges iter.Seq[Charge]) (Summary, error) {
	return r.run(ctx, charges, -1)
}

func (r *Runner) run(ctx context.Context, charges iter.Seq[Charge], total int) (Summary, error) {
	start := time.Now()
	if r.Charger == nil {
		return Summary{}, errors.New("billingrun: Runner.Charger is nil")
	}
	prefix := r.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := checkPrefix(prefix); err != nil {
		return Summary{}, err
	}
	conc := r.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}

	// Started charges run under wctx: ctx's values, not its cancellation.
	var wctx context.Context
	if r.Grace < 0 {
		wctx = ctx
	} else {
		var cancel context.CancelCauseFunc
		wctx, cancel = context.WithCancelCause(context.WithoutCancel(ctx))
		defer cancel(nil)
		if r.Grace > 0 {
			grace := r.Grace
			var timer atomic.Pointer[time.Timer]
			stop := context.AfterFunc(ctx, func() {
				timer.Store(time.AfterFunc(grace, func() {
					cancel(fmt.Errorf("billingrun: grace period of %s after the run's context ended is over: %w", grace, context.Cause(ctx)))
				}))
			})
			defer func() {
				stop()
				if t := timer.Load(); t != nil {
					t.Stop() // the run is over: nothing left to cut short
				}
			}()
		}
	}

	jobs := make(chan job)
	results := make(chan Result, conc)
	var workers sync.WaitGroup
	for range conc {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				results <- r.charge(wctx, j)
			}
		}()
	}

	var sum Summary
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		r.collect(results, &sum, total, start)
	}()

	seen := make(map[[16]byte]struct{})
	pulled := 0
	var stopErr error
	for c := range charges {
		if err := ctx.Err(); err != nil {
			stopErr = err
			break
		}
		pulled++
		sumHash, err := hashOf(prefix, c.CustomerUID, c.Period)
		if err != nil {
			results <- Result{Charge: c, Outcome: Invalid, Err: err}
			continue
		}
		uid := prefix + "_" + encodeHash(sumHash)
		if err := checkAmount(c); err != nil {
			results <- Result{Charge: c, MerchantUID: uid, Outcome: Invalid, Err: err}
			continue
		}
		key := [16]byte(sumHash[:16])
		if _, dup := seen[key]; dup {
			results <- Result{Charge: c, MerchantUID: uid, Outcome: Invalid, Err: ErrDuplicate}
			continue
		}
		seen[key] = struct{}{}
		if r.Limiter != nil {
			if err := r.Limiter.Wait(ctx); err != nil {
				stopErr = err
				pulled--
				break
			}
		}
		select {
		case jobs <- job{c: c, uid: uid}:
		case <-ctx.Done():
			stopErr = ctx.Err()
			pulled--
		}
		if stopErr != nil {
			break
		}
	}
	close(jobs)
	workers.Wait()
	close(results)
	<-collected

	if total >= 0 {
		sum.NotStarted = total - pulled
	}
	sum.Duration = time.Since(start)
	if stopErr != nil {
		if ctx.Err() != nil && !errors.Is(stopErr, ctx.Err()) {
			stopErr = fmt.Errorf("%w: %w", ctx.Err(), stopErr)
		}
		return sum, fmt.Errorf("billingrun: stopped after %d charges: %w", pulled, stopErr)
	}
	return sum, nil
}

func checkAmount(c Charge) error {
	if c.Amount <= 0 {
		return errors.New("billingrun: amount must be greater than 0")
	}
	return nil
}

// charge runs one charge and classifies its outcome.
func (r *Runner) charge(ctx context.Context, j job) Result {
	req := &iamport.AgainPaymentRequest{}
	if r.Customize != nil {
		r.Customize(j.c, req)
	}
	req.CustomerUID, req.MerchantUID = j.c.CustomerUID, j.uid
	req.Amount, req.Currency, req.Name = j.c.Amount, j.c.Currency, j.c.Name
	began := time.Now()
	p, err := r.Charger.AgainPayment(ctx, req)
	d := time.Since(began)
	o, p, err := classify(p, err)
	return Result{Charge: j.c, MerchantUID: j.uid, Outcome: o, Payment: p, Err: err, Duration: d}
}

// collect delivers the results, one at a time, and keeps the summary.
func (r *Runner) collect(results <-chan Result, sum *Summary, total int, start time.Time) {
	every := r.ProgressInterval
	if every <= 0 {
		every = DefaultProgressInterval
	}
	var last time.Time
	progress := func(force bool) {
		if r.Progress == nil {
			return
		}
		now := time.Now()
		if !force && now.Sub(last) < every {
			return
		}
		last = now
		el := now.Sub(start).Seconds()
		rt := 0.0
		if el > 0 {
			rt = float64(sum.Reported) / el
		}
		r.Progress(sum.Reported, total, rt)
	}
	last = start
	for res := range results {
		sum.Reported++
		sum.tally(res.Outcome).add(res.Charge)
		if r.OnResult != nil {
			r.OnResult(res)
		}
		if r.Results != nil {
			r.Results <- res
		}
		progress(false)
	}
	progress(true)
}

var _ Charger = (*iamport.Client)(nil)
