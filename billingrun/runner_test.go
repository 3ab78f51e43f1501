package billingrun_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/billingrun"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// stubCharger answers from fn and records what it was asked.
type stubCharger struct {
	fn func(ctx context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error)

	mu       sync.Mutex
	reqs     []iamport.AgainPaymentRequest
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

func (s *stubCharger) AgainPayment(ctx context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxSeen.Load()
		if n <= m || s.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, *req)
	s.mu.Unlock()
	if s.fn != nil {
		return s.fn(ctx, req)
	}
	return paidFor(req), nil
}

func (s *stubCharger) requests() []iamport.AgainPaymentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func paidFor(req *iamport.AgainPaymentRequest) *iamport.Payment {
	return &iamport.Payment{ImpUID: "imp_" + req.MerchantUID, MerchantUID: req.MerchantUID, CustomerUID: req.CustomerUID,
		Amount: req.Amount, Currency: req.Currency, Status: iamport.PaymentPaid}
}

func batch(n int, period string) []billingrun.Charge {
	out := make([]billingrun.Charge, n)
	for i := range out {
		out[i] = billingrun.Charge{CustomerUID: "cust_" + strconv.Itoa(i), Amount: 9900, Name: "월간 구독", Period: period}
	}
	return out
}

func TestRunOutcomesAndSummary(t *testing.T) {
	t.Parallel()
	transport := &iamport.TransportError{Method: "POST", Path: "/subscribe/payments/again", Err: io.ErrUnexpectedEOF}
	// customer i ends by i % 6.
	sc := &stubCharger{fn: func(_ context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
		i, _ := strconv.Atoi(req.CustomerUID[len("cust_"):])
		switch i % 6 {
		case 0, 1:
			return paidFor(req), nil
		case 2:
			return nil, &iamport.PaymentFailedError{Payment: &iamport.Payment{MerchantUID: req.MerchantUID, Status: iamport.PaymentFailed, FailReason: "잔액부족"}}
		case 3:
			return nil, &iamport.ChargeError{Outcome: iamport.ErrNotCharged, MerchantUID: req.MerchantUID, Err: transport}
		case 4:
			return nil, &iamport.ChargeError{Outcome: iamport.ErrOutcomeUnknown, MerchantUID: req.MerchantUID, Err: transport}
		default:
			return nil, errors.New("something the runner has never seen")
		}
	}}
	charges := batch(60, "2026-11")
	charges[7].Currency = "usd" // paid (7 % 6 == 1), counted under USD
	charges[7].Amount = 999
	charges = append(charges,
		billingrun.Charge{CustomerUID: "", Amount: 1000, Period: "2026-11"},       // invalid: no customer
		billingrun.Charge{CustomerUID: "cust_x", Amount: 0, Period: "2026-11"},    // invalid: amount
		billingrun.Charge{CustomerUID: "cust_y", Amount: 1000, Period: ""},        // invalid: period
		billingrun.Charge{CustomerUID: "cust_0", Amount: 9900, Period: "2026-11"}, // duplicate
	)

	var got []billingrun.Result
	var calls, concurrent atomic.Int32
	r := &billingrun.Runner{Charger: sc, Concurrency: 4, OnResult: func(res billingrun.Result) {
		if concurrent.Add(1) != 1 {
			t.Error("OnResult called concurrently")
		}
		got = append(got, res)
		calls.Add(1)
		concurrent.Add(-1)
	}}
	sum, err := r.RunSlice(context.Background(), charges)
	require.NoError(t, err)
	require.Len(t, got, len(charges))
	assert.Equal(t, len(charges), sum.Reported)
	assert.Equal(t, 0, sum.NotStarted)
	assert.Len(t, sc.requests(), 60, "invalid and duplicate charges are never sent")

	assert.Equal(t, 20, sum.Paid.Count)
	assert.Equal(t, map[string]int64{"KRW": 19 * 9900, "USD": 999}, sum.Paid.Amounts)
	assert.Equal(t, 10, sum.Declined.Count)
	assert.Equal(t, 10, sum.NotCharged.Count)
	assert.Equal(t, 20, sum.Unknown.Count, "ErrOutcomeUnknown and unrecognised errors are Unknown")
	assert.Equal(t, 4, sum.Invalid.Count)
	assert.False(t, sum.Settled())

	byCust := map[string]billingrun.Result{}
	for _, res := range got {
		if res.Outcome == billingrun.Invalid {
			switch res.Charge.CustomerUID {
			case "cust_0":
				assert.ErrorIs(t, res.Err, billingrun.ErrDuplicate)
				assert.NotEmpty(t, res.MerchantUID)
			case "":
				assert.Empty(t, res.MerchantUID)
			}
			assert.Error(t, res.Err)
			continue
		}
		byCust[res.Charge.CustomerUID] = res
		want, _ := billingrun.MerchantUID("", res.Charge.CustomerUID, "2026-11")
		assert.Equal(t, want, res.MerchantUID)
	}
	assert.Equal(t, billingrun.Paid, byCust["cust_6"].Outcome)
	assert.NoError(t, byCust["cust_6"].Err)
	assert.True(t, byCust["cust_6"].Payment.IsPaid())
	assert.Equal(t, billingrun.Declined, byCust["cust_2"].Outcome)
	assert.Equal(t, "잔액부족", byCust["cust_2"].Payment.FailReason)
	assert.Equal(t, billingrun.NotCharged, byCust["cust_3"].Outcome)
	assert.ErrorIs(t, byCust["cust_3"].Err, iamport.ErrNotCharged)
	assert.Equal(t, billingrun.Unknown, byCust["cust_4"].Outcome)
	assert.Equal(t, billingrun.Unknown, byCust["cust_5"].Outcome)

	for _, req := range sc.requests() {
		assert.Equal(t, "월간 구독", req.Name)
		assert.Positive(t, req.Amount)
	}
	assert.Contains(t, sum.String(), "paid 20 (KRW 188100, USD 999)")
}

func TestRunBoundedConcurrency(t *testing.T) {
	t.Parallel()
	// Each charge holds until the peak reached the limit (or a generous
	// timeout), so reaching the limit does not depend on scheduling luck.
	waitFor := func(sc *stubCharger, limit int32) func(context.Context, *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
		return func(_ context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
			deadline := time.Now().Add(5 * time.Second)
			for sc.maxSeen.Load() < limit && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
			return paidFor(req), nil
		}
	}
	sc := &stubCharger{}
	sc.fn = waitFor(sc, 5)
	r := &billingrun.Runner{Charger: sc, Concurrency: 5}
	sum, err := r.RunSlice(context.Background(), batch(200, "p"))
	require.NoError(t, err)
	assert.Equal(t, 200, sum.Paid.Count)
	assert.Equal(t, int32(5), sc.maxSeen.Load(), "exactly Concurrency charges at once at most, and that many reached")

	sc2 := &stubCharger{}
	sc2.fn = waitFor(sc2, int32(billingrun.DefaultConcurrency))
	_, err = (&billingrun.Runner{Charger: sc2}).RunSlice(context.Background(), batch(100, "p"))
	require.NoError(t, err)
	assert.Equal(t, int32(billingrun.DefaultConcurrency), sc2.maxSeen.Load())
}

func TestRunCancelLetsStartedChargesFinish(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	var started atomic.Int32
	sc := &stubCharger{fn: func(cctx context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
		if started.Add(1) == 3 {
			cancel() // the third charge to start ends the run's ctx
		}
		<-release
		if cctx.Err() != nil {
			return nil, &iamport.ChargeError{Outcome: iamport.ErrOutcomeUnknown, MerchantUID: req.MerchantUID, Err: cctx.Err()}
		}
		return paidFor(req), nil
	}}
	r := &billingrun.Runner{Charger: sc, Concurrency: 3}
	done := make(chan struct{})
	var sum billingrun.Summary
	var err error
	go func() {
		defer close(done)
		sum, err = r.RunSlice(ctx, batch(50, "p"))
	}()
	<-ctx.Done()
	time.Sleep(20 * time.Millisecond) // give the runner a chance to (wrongly) start more
	close(release)
	<-done

	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int32(3), started.Load(), "no charge starts after ctx ended")
	assert.Equal(t, 3, sum.Paid.Count, "started charges finish under a context that ctx's end does not cancel")
	assert.Equal(t, 0, sum.Unknown.Count)
	assert.Equal(t, 3, sum.Reported)
	assert.Equal(t, 47, sum.NotStarted)
	assert.False(t, sum.Settled())
}

func TestRunGrace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{{"negative cancels at once", -1}, {"positive cuts after grace", 30 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			sc := &stubCharger{fn: func(cctx context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
				cancel()
				<-cctx.Done() // a charge that would never end by itself
				return nil, &iamport.ChargeError{Outcome: iamport.ErrOutcomeUnknown, MerchantUID: req.MerchantUID, Err: cctx.Err()}
			}}
			r := &billingrun.Runner{Charger: sc, Concurrency: 2, Grace: tc.grace}
			start := time.Now()
			sum, err := r.RunSlice(ctx, batch(10, "p"))
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, sum.Reported, sum.Unknown.Count)
			assert.Positive(t, sum.Reported)
			if tc.grace > 0 {
				assert.GreaterOrEqual(t, time.Since(start), tc.grace)
			}
		})
	}
}

func TestRunSeqStopsReading(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var read atomic.Int32
	seq := func(yield func(billingrun.Charge) bool) {
		for i := 0; ; i++ { // endless
			read.Add(1)
			if !yield(billingrun.Charge{CustomerUID: "c" + strconv.Itoa(i), Amount: 1, Period: "p"}) {
				return
			}
		}
	}
	var paid atomic.Int32
	sc := &stubCharger{fn: func(_ context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
		if paid.Add(1) == 100 {
			cancel()
		}
		return paidFor(req), nil
	}}
	var lastTotal atomic.Int32
	r := &billingrun.Runner{Charger: sc, Concurrency: 4, Progress: func(done, total int, _ float64) { lastTotal.Store(int32(total)) }}
	sum, err := r.Run(ctx, seq)
	require.ErrorIs(t, err, context.Canceled)
	assert.GreaterOrEqual(t, sum.Paid.Count, 100)
	assert.Less(t, sum.Paid.Count, 110)
	assert.Equal(t, sum.Reported, sum.Paid.Count)
	assert.LessOrEqual(t, int(read.Load()), sum.Reported+1, "at most one charge read and not started")
	assert.Equal(t, 0, sum.NotStarted)
	assert.Equal(t, int32(-1), lastTotal.Load(), "total is unknown for a Seq")
}

func TestRunRateLimit(t *testing.T) {
	t.Parallel()
	sc := &stubCharger{}
	r := &billingrun.Runner{Charger: sc, Concurrency: 8, Limiter: rate.NewLimiter(rate.Every(10*time.Millisecond), 1)}
	start := time.Now()
	sum, err := r.RunSlice(context.Background(), batch(11, "p"))
	require.NoError(t, err)
	assert.Equal(t, 11, sum.Paid.Count)
	assert.GreaterOrEqual(t, time.Since(start), 95*time.Millisecond, "11 charges at one per 10ms take ≥ 100ms")
}

func TestRunRateLimitDeadline(t *testing.T) {
	t.Parallel()
	// The limiter allows one charge now and the next in an hour: with a
	// deadline in a minute, Wait fails at once for the second.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := &billingrun.Runner{Charger: &stubCharger{}, Limiter: rate.NewLimiter(rate.Every(time.Hour), 1)}
	sum, err := r.RunSlice(ctx, batch(3, "p"))
	require.Error(t, err, "the limiter cannot start the second charge before the deadline")
	assert.Equal(t, 1, sum.Paid.Count)
	assert.Equal(t, 2, sum.NotStarted)
}

func TestRunProgressResultsAndCustomize(t *testing.T) {
	t.Parallel()
	sc := &stubCharger{}
	ch := make(chan billingrun.Result, 100)
	var progress [][2]int
	r := &billingrun.Runner{
		Charger: sc, Prefix: "acme", Results: ch, ProgressInterval: time.Nanosecond,
		Progress: func(done, total int, rate float64) {
			progress = append(progress, [2]int{done, total})
			if rate < 0 {
				t.Error("negative rate")
			}
		},
		Customize: func(c billingrun.Charge, req *iamport.AgainPaymentRequest) {
			req.BuyerEmail = c.CustomerUID + "@example.com"
			req.MerchantUID = "hijacked" // overwritten by the runner
			req.Amount = 1
		},
	}
	sum, err := r.RunSlice(context.Background(), batch(30, "2026-12"))
	require.NoError(t, err)
	assert.True(t, sum.Settled())
	assert.Len(t, ch, 30)
	require.NotEmpty(t, progress)
	assert.Equal(t, [2]int{30, 30}, progress[len(progress)-1])
	for _, req := range sc.requests() {
		want, _ := billingrun.MerchantUID("acme", req.CustomerUID, "2026-12")
		assert.Equal(t, want, req.MerchantUID)
		assert.Equal(t, int64(9900), req.Amount)
		assert.Equal(t, req.CustomerUID+"@example.com", req.BuyerEmail)
	}
}

func TestRunConfigErrors(t *testing.T) {
	t.Parallel()
	_, err := (&billingrun.Runner{}).RunSlice(context.Background(), batch(1, "p"))
	assert.Error(t, err)
	sc := &stubCharger{}
	_, err = (&billingrun.Runner{Charger: sc, Prefix: "much-too-long"}).RunSlice(context.Background(), batch(1, "p"))
	assert.Error(t, err)
	assert.Empty(t, sc.requests())
}

func TestSummaryOf(t *testing.T) {
	t.Parallel()
	s := billingrun.Summary{Paid: billingrun.Tally{Count: 2, Amounts: map[string]int64{"KRW": 2}}, Reported: 2}
	assert.Equal(t, 2, s.Of(billingrun.Paid).Count)
	assert.Equal(t, 0, s.Of(billingrun.Unknown).Count)
	assert.Equal(t, 0, s.Of(billingrun.Outcome(99)).Count)
	assert.True(t, s.Settled())
	assert.Contains(t, s.String(), "paid 2 (KRW 2)")
}
