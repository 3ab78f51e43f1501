package iamport_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const routeFind = "GET /payments/find/{merchant_uid}"

func chargeReq(merchantUID string) *iamport.AgainPaymentRequest {
	return &iamport.AgainPaymentRequest{CustomerUID: "cust_1", MerchantUID: merchantUID, Amount: 9900, Name: "월간 구독"}
}

// moneyFake is a fake with a billing key and a client whose settle window
// is short, so that "not charged" is learned in a fraction of a second.
// opts override the client's timeout and settle window.
func moneyFake(t *testing.T, opts ...iamport.Option) (*iamporttest.Server, *iamport.Client) {
	t.Helper()
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	require.NoError(t, srv.RegisterBillingKey("cust_1", "4092-0230-1234-5678"))
	opts = append([]iamport.Option{iamport.WithTimeout(2 * time.Second), iamport.WithSettleWindow(5 * time.Second)}, opts...)
	return srv, srv.Client(opts...)
}

// realWaits makes a fake's client wait in real time between lookups, for
// faults whose delays are real time.
var realWaits = iamport.WithRetryPolicy(iamport.RetryPolicy{Sleep: func(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}})

func TestMoneyContractOnFake(t *testing.T) {
	ctx := context.Background()

	t.Run("paid", func(t *testing.T) {
		srv, c := moneyFake(t)
		p, err := c.AgainPayment(ctx, chargeReq("m_paid"))
		require.NoError(t, err)
		assert.True(t, p.IsPaid())
		assert.Equal(t, int64(9900), p.Amount)
		assert.Equal(t, 1, srv.Charges("m_paid"))
	})

	t.Run("5xx before commit: not charged, then one charge", func(t *testing.T) {
		srv, c := moneyFake(t)
		srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: iamporttest.RouteAgain})
		_, err := c.AgainPayment(ctx, chargeReq("m_5xx"))
		require.ErrorIs(t, err, iamport.ErrNotCharged)
		assert.Equal(t, 0, srv.Charges("m_5xx"))
		assert.GreaterOrEqual(t, srv.Requests(routeFind), 2, "asked again over the settle window")
		p, err := c.AgainPayment(ctx, chargeReq("m_5xx"))
		require.NoError(t, err, "the same merchant_uid charges once now")
		assert.True(t, p.IsPaid())
		assert.Equal(t, 1, srv.Charges("m_5xx"))
	})

	// One injected fault each: the outcome the money contract promises, and
	// never more than one charge in the fake's ledger.
	// The fake's client waits on virtual time; these faults take real time,
	// so their cases wait for real.
	fast := []iamport.Option{iamport.WithTimeout(100 * time.Millisecond), iamport.WithSettleWindow(3 * time.Second), realWaits}
	for _, tc := range []struct {
		name string
		kind iamporttest.FaultKind
		// delay is the fault's real-time delay, for FaultDelay and FaultSlowPG
		delay time.Duration
		opts  []iamport.Option
		paid  bool // paid once; otherwise not charged
	}{
		{name: "html 502 before commit", kind: iamporttest.FaultHTML502},
		{name: "reset before read", kind: iamporttest.FaultReset},
		{name: "reply dropped after commit", kind: iamporttest.FaultDropAfterCommit, paid: true},
		{name: "5xx after commit", kind: iamporttest.Fault5xxAfterCommit, paid: true},
		{name: "delay beyond the client timeout", kind: iamporttest.FaultDelay, delay: 300 * time.Millisecond, opts: fast, paid: true},
		{name: "slow pg: ready, then paid", kind: iamporttest.FaultSlowPG, delay: 600 * time.Millisecond, opts: fast, paid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := moneyFake(t, tc.opts...)
			srv.InjectFault(iamporttest.Fault{Kind: tc.kind, Route: iamporttest.RouteAgain, Delay: tc.delay})
			m := "m_" + strings.ReplaceAll(tc.name, " ", "_")[:12]
			p, err := c.AgainPayment(ctx, chargeReq(m))
			if tc.paid {
				require.NoError(t, err)
				assert.True(t, p.IsPaid())
				assert.Equal(t, m, p.MerchantUID)
				assert.Equal(t, 1, srv.Charges(m))
			} else {
				require.ErrorIs(t, err, iamport.ErrNotCharged)
				assert.Nil(t, p)
				assert.Equal(t, 0, srv.Charges(m))
			}
		})
	}

	t.Run("slow pg beyond the settle window: unknown", func(t *testing.T) {
		srv, c := moneyFake(t, iamport.WithTimeout(50*time.Millisecond), iamport.WithSettleWindow(300*time.Millisecond))
		srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultSlowPG, Route: iamporttest.RouteAgain, Delay: 2 * time.Second})
		_, err := c.AgainPayment(ctx, chargeReq("m_slower"))
		require.ErrorIs(t, err, iamport.ErrOutcomeUnknown)
		var ce *iamport.ChargeError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "m_slower", ce.MerchantUID)
		assert.LessOrEqual(t, srv.ChargeAttempts("m_slower"), 1)
	})

	t.Run("lookup impossible: unknown", func(t *testing.T) {
		srv, c := moneyFake(t)
		srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: iamporttest.RouteAgain})
		srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: routeFind, Times: -1})
		_, err := c.AgainPayment(ctx, chargeReq("m_blind"))
		require.ErrorIs(t, err, iamport.ErrOutcomeUnknown)
		assert.NotErrorIs(t, err, iamport.ErrNotCharged)
		assert.Contains(t, err.Error(), "m_blind")
		assert.Equal(t, 1, srv.Charges("m_blind"), "it was charged: unknown is the honest answer, never not-charged")

		srv.ClearFaults()
		p, err := c.AgainPayment(ctx, chargeReq("m_blind"))
		require.NoError(t, err, "calling again learns the truth")
		assert.True(t, p.IsPaid())
		assert.Equal(t, 1, srv.Charges("m_blind"))
	})

	t.Run("decline", func(t *testing.T) {
		srv, c := moneyFake(t)
		srv.DeclineCustomer("cust_1", "한도초과")
		_, err := c.AgainPayment(ctx, chargeReq("m_decline"))
		var pf *iamport.PaymentFailedError
		require.ErrorAs(t, err, &pf)
		assert.Equal(t, "한도초과", pf.Payment.FailReason)
		assert.Equal(t, iamport.PaymentFailed, pf.Payment.Status)
		assert.Equal(t, 0, srv.Charges("m_decline"))
	})

	t.Run("declined, reply dropped", func(t *testing.T) {
		srv, c := moneyFake(t)
		srv.DeclineCustomer("cust_1", "잔액부족")
		srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: iamporttest.RouteAgain})
		_, err := c.AgainPayment(ctx, chargeReq("m_decline_drop"))
		var pf *iamport.PaymentFailedError
		require.ErrorAs(t, err, &pf)
		assert.Equal(t, "잔액부족", pf.Payment.FailReason)
	})

	t.Run("an earlier decline is not this call's outcome", func(t *testing.T) {
		srv, c := moneyFake(t)
		srv.DeclineCustomer("cust_1", "잔액부족")
		_, err := c.AgainPayment(ctx, chargeReq("m_retry"))
		require.Error(t, err)
		srv.Clock().Advance(time.Hour)
		srv.DeclineCustomer("cust_1", "")
		srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: iamporttest.RouteAgain})
		_, err = c.AgainPayment(ctx, chargeReq("m_retry"))
		require.ErrorIs(t, err, iamport.ErrNotCharged, "the failed payment found is the earlier attempt's")
	})

	t.Run("re-run of a paid charge returns it", func(t *testing.T) {
		srv, c := moneyFake(t)
		p1, err := c.AgainPayment(ctx, chargeReq("m_rerun"))
		require.NoError(t, err)
		p2, err := c.AgainPayment(ctx, chargeReq("m_rerun"))
		require.NoError(t, err)
		assert.Equal(t, p1.ImpUID, p2.ImpUID)
		assert.Equal(t, 1, srv.Charges("m_rerun"))

		other := chargeReq("m_rerun")
		other.Amount = 100
		_, err = c.AgainPayment(ctx, other)
		var ae *iamport.APIError
		require.ErrorAs(t, err, &ae, "a paid merchant_uid with another amount is refused")
		assert.Equal(t, 1, srv.Charges("m_rerun"))
	})

	t.Run("re-run while lookups fail: unknown, never not charged", func(t *testing.T) {
		srv, c := moneyFake(t)
		_, err := c.AgainPayment(ctx, chargeReq("m_rerun_blind"))
		require.NoError(t, err)
		srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: routeFind, Times: -1})
		_, err = c.AgainPayment(ctx, chargeReq("m_rerun_blind"))
		require.ErrorIs(t, err, iamport.ErrOutcomeUnknown, "it is paid; the SDK cannot see it, so it must not say not charged")
		assert.Equal(t, 1, srv.Charges("m_rerun_blind"))
	})

	t.Run("unknown customer: refused", func(t *testing.T) {
		srv, c := moneyFake(t)
		req := chargeReq("m_nobody")
		req.CustomerUID = "nobody"
		_, err := c.AgainPayment(ctx, req)
		var ae *iamport.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusOK, ae.StatusCode)
		assert.NotZero(t, ae.Code)
		assert.ErrorIs(t, err, iamport.ErrNotFound)
		assert.Equal(t, 0, srv.ChargeAttempts("m_nobody"))
	})
}

// refusingTransport sends charges to a closed port and everything else to
// the fake.
type refusingTransport struct{ dead string }

func (rt refusingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.URL.Path == "/subscribe/payments/again" {
		r = r.Clone(r.Context())
		r.URL.Host = rt.dead
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestConnectionRefusedIsNotChargedWithoutLookup(t *testing.T) {
	srv, _ := moneyFake(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := srv.Client(iamport.WithHTTPClient(&http.Client{Transport: refusingTransport{dead: dead}}))
	_, err = c.AgainPayment(context.Background(), chargeReq("m_refused"))
	require.ErrorIs(t, err, iamport.ErrNotCharged)
	var opErr *net.OpError
	assert.True(t, errors.As(err, &opErr), "the dial error is kept: %v", err)
	assert.Equal(t, 0, srv.Requests(routeFind), "nothing to look up: the request never left")
	assert.Equal(t, 0, srv.ChargeAttempts("m_refused"))
}

func TestRetryRevokedSchedule(t *testing.T) {
	srv, c := moneyFake(t)
	ctx := context.Background()
	at := srv.Clock().Now().Add(24 * time.Hour)
	_, err := c.SchedulePayments(ctx, &iamport.ScheduleRequest{CustomerUID: "cust_1", Schedules: []iamport.ScheduleItem{
		{MerchantUID: "m_sched_1", ScheduleAt: at, Amount: 9900, Name: "월간 구독"},
	}})
	require.NoError(t, err)
	_, err = c.UnschedulePayments(ctx, &iamport.UnscheduleRequest{CustomerUID: "cust_1", MerchantUIDs: []string{"m_sched_1"}})
	require.NoError(t, err)

	p, err := c.RetrySchedule(ctx, "m_sched_1")
	require.NoError(t, err, "a revoked schedule can be charged now")
	assert.True(t, p.IsPaid())
	assert.Equal(t, 1, srv.Charges("m_sched_1"))

	srv.Clock().Advance(time.Minute)
	again, err := c.RetrySchedule(ctx, "m_sched_1")
	require.NoError(t, err, "Iamport refuses to retry a paid schedule; the repeat returns that payment")
	assert.Equal(t, p.ImpUID, again.ImpUID)
	assert.Equal(t, 1, srv.Charges("m_sched_1"))
	s, err := c.GetSchedule(ctx, "m_sched_1")
	require.NoError(t, err)
	assert.Equal(t, iamport.ScheduleExecuted, s.ScheduleStatus)
	assert.Equal(t, p.ImpUID, s.ImpUID)
}
