package iamport_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// agree checks that every way of looking a payment up tells the same story
// as the fake's own record.
func agree(t *testing.T, ctx context.Context, c *iamport.Client, srv *iamporttest.Server, impUID string) *iamport.Payment {
	t.Helper()
	want, ok := srv.Payment(impUID)
	require.True(t, ok, "the fake knows %s", impUID)
	byImp, err := c.GetPayment(ctx, impUID)
	require.NoError(t, err)
	byMerchant, err := c.FindPayment(ctx, want.MerchantUID)
	require.NoError(t, err)
	batch, err := c.GetPayments(ctx, []string{impUID, "imp_does_not_exist"})
	require.NoError(t, err)
	require.Len(t, batch, 1)
	for _, p := range []*iamport.Payment{byImp, byMerchant, batch[0]} {
		assert.Equal(t, want.ImpUID, p.ImpUID)
		assert.Equal(t, want.MerchantUID, p.MerchantUID)
		assert.Equal(t, want.CustomerUID, p.CustomerUID)
		assert.Equal(t, iamport.PaymentStatus(want.Status), p.Status)
		assert.Equal(t, want.Amount, p.Amount)
		assert.Equal(t, want.CancelAmount, p.CancelAmount)
		assert.Equal(t, want.FailReason, p.FailReason)
		assert.Equal(t, len(want.Cancels), len(p.CancelHistory))
	}
	return byImp
}

func collect[T any](t *testing.T, seq func(func(*T, error) bool)) []*T {
	t.Helper()
	var out []*T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

func TestFlowIssueScheduleChargeCancel(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC)
	clock := iamporttest.NewClock(start)
	srv := iamporttest.NewServer(iamporttest.WithClock(clock))
	t.Cleanup(srv.Close)
	c := srv.Client()

	const cuid = "cust/flow 1"
	const card = "4092-0230-1234-5678"

	// 1. Issue a billing key by API; every lookup agrees.
	key, err := c.IssueBillingKey(ctx, &iamport.IssueBillingKeyRequest{
		CustomerUID: cuid, CardNumber: card, Expiry: "2029-01", Birth: "880101", Pwd2Digit: "12", CustomerName: "홍길동",
	})
	require.NoError(t, err)
	assert.Equal(t, cuid, key.CustomerUID)
	assert.NotContains(t, key.CardNumber, "0230-1234", "the card number comes back masked")
	fk, ok := srv.BillingKey(cuid)
	require.True(t, ok)
	assert.Equal(t, fk.CardNumber, key.CardNumber)
	got, err := c.GetBillingKey(ctx, cuid)
	require.NoError(t, err)
	assert.Equal(t, key.CardNumber, got.CardNumber)
	keys, err := c.GetBillingKeys(ctx, []string{"nobody", cuid})
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, cuid, keys[0].CustomerUID)

	// 2. Schedule three monthly charges.
	var items []iamport.ScheduleItem
	for i := 1; i <= 3; i++ {
		items = append(items, iamport.ScheduleItem{
			MerchantUID: fmt.Sprintf("sub_flow_%02d", i), ScheduleAt: start.AddDate(0, i, 0),
			Amount: 9900, Name: fmt.Sprintf("월간 구독 %d", i), BuyerName: "홍길동",
		})
	}
	scheds, err := c.SchedulePayments(ctx, &iamport.ScheduleRequest{CustomerUID: cuid, Schedules: items})
	require.NoError(t, err)
	require.Len(t, scheds, 3)
	for i, s := range scheds {
		assert.Equal(t, iamport.ScheduleScheduled, s.ScheduleStatus)
		assert.Equal(t, items[i].ScheduleAt.Unix(), s.ScheduleAt.Unix())
		assert.Empty(t, s.ImpUID)
		assert.Empty(t, s.PaymentStatus)
	}
	// Scheduling the same again (a re-run job) is recognised, not an error.
	again, err := c.SchedulePayments(ctx, &iamport.ScheduleRequest{CustomerUID: cuid, Schedules: items})
	require.NoError(t, err)
	assert.Len(t, again, 3)
	assert.Len(t, srv.Schedules(), 3)

	// 3. Time passes: two charges are paid; the card declines before the third.
	var imps []string
	for i := 1; i <= 3; i++ {
		if i == 3 {
			srv.DeclineCustomer(cuid, "잔액부족")
		}
		clock.Set(start.AddDate(0, i, 0).Add(time.Minute))
		s, err := c.GetSchedule(ctx, items[i-1].MerchantUID)
		require.NoError(t, err)
		assert.Equal(t, iamport.ScheduleExecuted, s.ScheduleStatus)
		require.NotEmpty(t, s.ImpUID)
		imps = append(imps, s.ImpUID)
		p := agree(t, ctx, c, srv, s.ImpUID)
		assert.Equal(t, p.Status, s.PaymentStatus, "schedule and payment agree")
		assert.Equal(t, "payment.scheduled", p.CustomerUIDUsage)
		if i < 3 {
			assert.True(t, p.IsPaid())
			assert.Equal(t, 1, srv.Charges(items[i-1].MerchantUID))
		} else {
			assert.Equal(t, iamport.PaymentFailed, p.Status)
			assert.Equal(t, "잔액부족", s.FailReason)
			assert.Equal(t, 0, srv.Charges(items[i-1].MerchantUID))
		}
	}

	// 4. The customer's schedules and payments, through every list.
	cs := collect(t, c.CustomerSchedules(ctx, cuid, &iamport.ScheduleListOptions{From: start, To: start.AddDate(0, 4, 0)}))
	require.Len(t, cs, 3)
	assert.Equal(t, items[2].MerchantUID, cs[0].MerchantUID, "newest first")
	failedOnly := collect(t, c.CustomerSchedules(ctx, cuid, &iamport.ScheduleListOptions{From: start, To: start.AddDate(0, 4, 0), Status: iamport.ScheduleExecuted}))
	assert.Len(t, failedOnly, 3)
	all := collect(t, c.Schedules(ctx, &iamport.ScheduleListOptions{From: start.AddDate(-1, 0, 0), To: start.AddDate(1, 0, 0)}))
	assert.Len(t, all, 3, "a two-year range in windows, nothing twice")

	kp := collect(t, c.BillingKeyPayments(ctx, cuid))
	require.Len(t, kp, 3)
	statuses := map[iamport.PaymentStatus]int{}
	for _, p := range kp {
		statuses[p.Status]++
	}
	assert.Equal(t, map[iamport.PaymentStatus]int{iamport.PaymentPaid: 2, iamport.PaymentFailed: 1}, statuses)
	paid := collect(t, c.PaymentsByStatus(ctx, iamport.PaymentPaid, &iamport.PaymentListOptions{From: start, Limit: 1000}))
	assert.Len(t, paid, 2)
	failed := collect(t, c.PaymentsByStatus(ctx, iamport.PaymentFailed, nil))
	assert.Len(t, failed, 1)
	everything := collect(t, c.PaymentsByStatus(ctx, "", &iamport.PaymentListOptions{From: start.AddDate(-1, 0, 0)}))
	assert.Len(t, everything, 3)
	batch, err := c.GetPayments(ctx, append([]string{"imp_x"}, imps...))
	require.NoError(t, err)
	require.Len(t, batch, 3)
	for i, p := range batch {
		assert.Equal(t, imps[i], p.ImpUID, "input order")
	}

	// 5. A partial cancel with checksum on the first charge.
	first := agree(t, ctx, c, srv, imps[0])
	p, err := c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: first.ImpUID, Amount: 3000, Checksum: i64(first.Refundable()), Reason: "일할 환불"})
	require.NoError(t, err)
	assert.Equal(t, int64(3000), p.CancelAmount)
	assert.Equal(t, int64(6900), p.Refundable())
	assert.Equal(t, iamport.PaymentCancelled, p.Status)
	after := agree(t, ctx, c, srv, first.ImpUID)
	require.Len(t, after.CancelHistory, 1)
	assert.Equal(t, int64(3000), after.CancelHistory[0].Amount)
	cancelled := collect(t, c.PaymentsByStatus(ctx, iamport.PaymentCancelled, nil))
	require.Len(t, cancelled, 1)
	assert.Equal(t, first.ImpUID, cancelled[0].ImpUID)

	// A stale checksum is refused: nothing more is cancelled.
	_, err = c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: first.ImpUID, Amount: 1000, Checksum: i64(int64(9900))})
	var ae *iamport.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, int64(3000), agree(t, ctx, c, srv, first.ImpUID).CancelAmount)

	// 6. A full cancel of what is left, by merchant_uid; resending it with
	// the same checksum is refused by Iamport, not cancelled twice.
	full := &iamport.CancelPaymentRequest{MerchantUID: first.MerchantUID, Checksum: i64(after.Refundable()), Reason: "해지"}
	p, err = c.CancelPayment(ctx, full)
	require.NoError(t, err)
	assert.Equal(t, int64(9900), p.CancelAmount)
	_, err = c.CancelPayment(ctx, full)
	var refused *iamport.APIError
	require.ErrorAs(t, err, &refused, "a resend with the same checksum is refused, never applied twice")
	final := agree(t, ctx, c, srv, first.ImpUID)
	assert.Equal(t, int64(0), final.Refundable())
	assert.Len(t, final.CancelHistory, 2)

	// 7. The declined schedule is retried once the card works again.
	srv.DeclineCustomer(cuid, "")
	retried, err := c.RetrySchedule(ctx, items[2].MerchantUID)
	require.NoError(t, err)
	assert.True(t, retried.IsPaid())
	assert.Equal(t, 1, srv.Charges(items[2].MerchantUID))
	agree(t, ctx, c, srv, retried.ImpUID)
	s3, err := c.GetSchedule(ctx, items[2].MerchantUID)
	require.NoError(t, err)
	assert.Equal(t, iamport.PaymentPaid, s3.PaymentStatus)
	assert.Equal(t, retried.ImpUID, s3.ImpUID)

	// 8. Unschedule (nothing left to revoke) and delete the key.
	_, err = c.UnschedulePayments(ctx, &iamport.UnscheduleRequest{CustomerUID: cuid})
	require.ErrorIs(t, err, iamport.ErrNotFound, "nothing to revoke")
	deleted, err := c.DeleteBillingKey(ctx, cuid, "해지")
	require.NoError(t, err)
	assert.Equal(t, cuid, deleted.CustomerUID)
	_, err = c.GetBillingKey(ctx, cuid)
	require.ErrorIs(t, err, iamport.ErrNotFound)
	keys, err = c.GetBillingKeys(ctx, []string{cuid})
	require.NoError(t, err)
	assert.Empty(t, keys)
}

func TestFlowUnscheduleAndReschedule(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := iamporttest.NewClock(start)
	srv := iamporttest.NewServer(iamporttest.WithClock(clock))
	t.Cleanup(srv.Close)
	c := srv.Client()
	require.NoError(t, srv.RegisterBillingKey("cust_2", "5365-1234-5678-9012"))

	items := []iamport.ScheduleItem{
		{MerchantUID: "s_a", ScheduleAt: start.Add(24 * time.Hour), Amount: 1000},
		{MerchantUID: "s_b", ScheduleAt: start.Add(48 * time.Hour), Amount: 2000},
	}
	_, err := c.SchedulePayments(ctx, &iamport.ScheduleRequest{CustomerUID: "cust_2", Schedules: items})
	require.NoError(t, err)

	moved, err := c.UpdateSchedule(ctx, "s_b", start.Add(72*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, start.Add(72*time.Hour).Unix(), moved.ScheduleAt.Unix())

	revoked, err := c.UnschedulePayments(ctx, &iamport.UnscheduleRequest{CustomerUID: "cust_2", MerchantUIDs: []string{"s_a"}})
	require.NoError(t, err)
	require.Len(t, revoked, 1)
	assert.Equal(t, iamport.ScheduleRevoked, revoked[0].ScheduleStatus)
	// The same revocation again: recognised as done.
	revoked, err = c.UnschedulePayments(ctx, &iamport.UnscheduleRequest{CustomerUID: "cust_2", MerchantUIDs: []string{"s_a"}})
	require.NoError(t, err)
	require.Len(t, revoked, 1)

	srv.DeclineCustomer("cust_2", "한도초과")
	clock.Set(start.Add(73 * time.Hour))
	s, err := c.GetSchedule(ctx, "s_b")
	require.NoError(t, err)
	assert.Equal(t, iamport.PaymentFailed, s.PaymentStatus)
	assert.Equal(t, "한도초과", s.FailReason)

	at := start.Add(96 * time.Hour)
	re, err := c.RescheduleSchedule(ctx, "s_b", at)
	require.NoError(t, err)
	assert.Equal(t, iamport.ScheduleScheduled, re.ScheduleStatus)
	re, err = c.RescheduleSchedule(ctx, "s_b", at)
	require.NoError(t, err, "the same reschedule again is recognised as done")
	assert.Equal(t, at.Unix(), re.ScheduleAt.Unix())

	srv.DeclineCustomer("cust_2", "")
	clock.Set(at.Add(time.Minute))
	s, err = c.GetSchedule(ctx, "s_b")
	require.NoError(t, err)
	assert.Equal(t, iamport.PaymentPaid, s.PaymentStatus)
	fp := collect(t, c.FindPayments(ctx, "s_b"))
	require.Len(t, fp, 2, "the failed attempt and the paid one share the merchant_uid")
	assert.Equal(t, 1, srv.Charges("s_b"))

	revokedList := collect(t, c.Schedules(ctx, &iamport.ScheduleListOptions{From: start, To: start.AddDate(0, 1, 0), Status: iamport.ScheduleRevoked}))
	require.Len(t, revokedList, 1)
	assert.Equal(t, "s_a", revokedList[0].MerchantUID)
}

func TestFlowOnetimeStoresKeyAndPrepare(t *testing.T) {
	ctx := context.Background()
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client()

	p, err := c.OnetimePayment(ctx, &iamport.OnetimePaymentRequest{
		MerchantUID: "ot_1", Amount: 15000, CardNumber: "4092023012345678", Expiry: "2029-01", Birth: "880101",
		Pwd2Digit: "12", CustomerUID: "cust_ot", Name: "첫 달",
	})
	require.NoError(t, err)
	assert.True(t, p.IsPaid())
	agree(t, ctx, c, srv, p.ImpUID)
	k, err := c.GetBillingKey(ctx, "cust_ot")
	require.NoError(t, err, "onetime with customer_uid stores the card")
	assert.Equal(t, "cust_ot", k.CustomerUID)
	// Repeating the paid onetime charge returns the same payment.
	p2, err := c.OnetimePayment(ctx, &iamport.OnetimePaymentRequest{
		MerchantUID: "ot_1", Amount: 15000, CardNumber: "4092023012345678", Expiry: "2029-01", CustomerUID: "cust_ot",
	})
	require.NoError(t, err)
	assert.Equal(t, p.ImpUID, p2.ImpUID)
	assert.Equal(t, 1, srv.Charges("ot_1"))

	srv.DeclineCard("4092-0230-1234-5678", "도난카드")
	_, err = c.OnetimePayment(ctx, &iamport.OnetimePaymentRequest{MerchantUID: "ot_2", Amount: 100, CardNumber: "4092023012345678", Expiry: "2029-01"})
	var pf *iamport.PaymentFailedError
	require.ErrorAs(t, err, &pf)
	assert.Equal(t, "도난카드", pf.Payment.FailReason)

	require.NoError(t, c.PreparePayment(ctx, "win_1", 39000))
	require.NoError(t, c.PreparePayment(ctx, "win_1", 39000))
	amt, err := c.GetPreparedPayment(ctx, "win_1")
	require.NoError(t, err)
	assert.Equal(t, int64(39000), amt)
	require.NoError(t, c.UpdatePreparedPayment(ctx, "win_1", 29000))
	amt, err = c.GetPreparedPayment(ctx, "win_1")
	require.NoError(t, err)
	assert.Equal(t, int64(29000), amt)
}

func i64(v int64) *int64 { return &v }

// TestFlowFaultsAroundWrites checks the resend and reconciliation claims of
// the write methods against the fake's faults.
func TestFlowFaultsAroundWrites(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	clock := iamporttest.NewClock(start)
	srv := iamporttest.NewServer(iamporttest.WithClock(clock))
	t.Cleanup(srv.Close)
	c := srv.Client(iamport.WithRetryPolicy(iamport.RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}))
	require.NoError(t, srv.RegisterBillingKey("cust_f", "4092-0230-1234-5678"))
	p, err := c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cust_f", MerchantUID: "f_1", Amount: 10000, Name: "x"})
	require.NoError(t, err)

	const cancelRoute = "POST /payments/cancel"

	// The cancel is committed but the answer is lost: reported as done.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: cancelRoute})
	got, err := c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Amount: 2000, Checksum: i64(10000)})
	require.NoError(t, err, "a cancel that happened is never reported as failed")
	assert.Equal(t, int64(2000), got.CancelAmount)
	assert.Equal(t, 1, srv.Requests(cancelRoute), "not resent")

	// A 5xx after the commit: the same.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxAfterCommit, Route: cancelRoute})
	got, err = c.CancelPayment(ctx, &iamport.CancelPaymentRequest{MerchantUID: "f_1", Amount: 1000, Checksum: i64(8000)})
	require.NoError(t, err)
	assert.Equal(t, int64(3000), got.CancelAmount)

	// A 5xx before the commit: known not applied, then the same request
	// again cancels once.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: cancelRoute})
	req := &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Amount: 500, Checksum: i64(7000)}
	_, err = c.CancelPayment(ctx, req)
	require.Error(t, err)
	assert.NotErrorIs(t, err, iamport.ErrOutcomeUnknown)
	assert.Equal(t, int64(3000), agree(t, ctx, c, srv, p.ImpUID).CancelAmount)
	got, err = c.CancelPayment(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, int64(3500), got.CancelAmount)
	_, err = c.CancelPayment(ctx, req)
	var refused *iamport.APIError
	require.ErrorAs(t, err, &refused, "and once more: refused by its checksum, not cancelled again")
	assert.Equal(t, int64(3500), agree(t, ctx, c, srv, p.ImpUID).CancelAmount)

	// A partial cancel without checksum whose answer is lost: the baseline
	// looked up first tells that it happened.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultReset, Route: cancelRoute})
	_, err = c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Amount: 100})
	require.ErrorIs(t, err, iamport.ErrNotApplied,
		"reset by the server: the payment stayed unchanged for the settle window after the write")
	assert.NotErrorIs(t, err, iamport.ErrOutcomeUnknown)
	assert.Equal(t, int64(3500), agree(t, ctx, c, srv, p.ImpUID).CancelAmount, "nothing was refunded")
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: cancelRoute})
	got, err = c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Amount: 100})
	require.NoError(t, err)
	assert.Equal(t, int64(3600), got.CancelAmount)

	// Scheduling whose answer is lost is resent, and the resend's refusal
	// ("already scheduled") is recognised.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: "POST /subscribe/payments/schedule"})
	scheds, err := c.SchedulePayments(ctx, &iamport.ScheduleRequest{CustomerUID: "cust_f", Schedules: []iamport.ScheduleItem{
		{MerchantUID: "f_s1", ScheduleAt: start.AddDate(0, 1, 0), Amount: 10000},
	}})
	require.NoError(t, err)
	require.Len(t, scheds, 1)
	assert.Equal(t, 2, srv.Requests("POST /subscribe/payments/schedule"))
	assert.Len(t, srv.Schedules(), 1)

	// The same for unscheduling and preparing.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: "POST /subscribe/payments/unschedule"})
	revoked, err := c.UnschedulePayments(ctx, &iamport.UnscheduleRequest{MerchantUIDs: []string{"f_s1"}})
	require.NoError(t, err)
	require.Len(t, revoked, 1)
	assert.Equal(t, iamport.ScheduleRevoked, revoked[0].ScheduleStatus)
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: "POST /payments/prepare"})
	require.NoError(t, c.PreparePayment(ctx, "f_w", 5000))
	assert.Equal(t, 2, srv.Requests("POST /payments/prepare"))

	// Lists survive a transient 5xx on a page (reads are resent).
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: "GET /payments/status/{payment_status}"})
	all := collect(t, c.PaymentsByStatus(ctx, "", nil))
	assert.Len(t, all, 1)
}
