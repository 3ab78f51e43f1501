package iamport

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cancelledJSON is a KRW payment of amount with cancelled so far, and one
// cancel history entry per cancel given.
func cancelledJSON(impUID string, amount, cancelled int64, history ...int64) map[string]any {
	p := paymentJSON(impUID, "order_1", "cust_1", amount, "paid")
	p["cancel_amount"] = cancelled
	if cancelled > 0 {
		p["status"] = "cancelled"
	}
	var hist []any
	at := cancelBase - int64(len(history))
	for i, a := range history {
		hist = append(hist, map[string]any{"pg_tid": "c", "amount": a, "cancelled_at": at + int64(i), "reason": "r", "cancellation_id": "x", "receipt_url": ""})
	}
	p["cancel_history"] = hist
	return p
}

// cancelBase dates the cancel histories of cancelledJSON: the same for
// every call, as a real payment's history is.
var cancelBase = time.Now().Unix()

func ptr[T any](v T) *T { return &v }

func posts(log *apiLog) int {
	n := 0
	for _, r := range log.all() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

func TestCancelPaymentRequestShape(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		p := cancelledJSON("imp_1", 0, 0)
		p["amount"], p["cancel_amount"], p["currency"] = 10.5, 0, "USD"
		if r.Method == http.MethodPost {
			p["cancel_amount"], p["status"] = 10.5, "cancelled"
			p["cancel_history"] = []any{map[string]any{"pg_tid": "c", "amount": 10.5, "cancelled_at": time.Now().Unix(), "reason": "고객 요청"}}
		}
		return ok200(p)
	})
	p, err := c.CancelPayment(context.Background(), &CancelPaymentRequest{
		ImpUID: "imp_1", MerchantUID: "order_1", Checksum: ptr(int64(1050)), TaxFree: 100, VatAmount: ptr(int64(95)),
		Currency: "USD", Reason: "고객 요청", RefundHolder: "홍길동", RefundBank: "004", RefundAccount: "123456789", RefundTel: "01012345678",
		EnableWebhook: true, Requester: RequesterCustomer,
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1050), p.CancelAmount)
	assert.Equal(t, int64(0), p.Refundable())
	reqs := log.all()
	require.Len(t, reqs, 2, "the payment is fetched once first, then the cancel is sent once")
	assert.Equal(t, "/payments/imp_1", reqs[0].Path)
	r := reqs[1]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/payments/cancel", r.Path)
	assert.Equal(t, "Bearer "+testToken, r.Auth)
	assert.JSONEq(t, `{"imp_uid":"imp_1","merchant_uid":"order_1","checksum":10.5,"tax_free":1,"vat_amount":0.95,
		"reason":"고객 요청","refund_holder":"홍길동","refund_bank":"004","refund_account":"123456789","refund_tel":"01012345678",
		"enable_webhook":true,"extra":{"requester":"customer"}}`, string(r.Body))
}

func TestCancelPaymentPartialWithoutChecksumLooksUpFirst(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Method == http.MethodGet {
			return ok200(cancelledJSON("imp_1", 9900, 1000, 1000))
		}
		return ok200(cancelledJSON("imp_1", 9900, 4000, 1000, 3000))
	})
	p, err := c.CancelPayment(context.Background(), &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000})
	require.NoError(t, err)
	assert.Equal(t, int64(5900), p.Refundable())
	reqs := log.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/payments/imp_1", reqs[0].Path)
	assert.Equal(t, `{"imp_uid":"imp_1","amount":3000}`, string(reqs[1].Body))

	// A currency other than the payment's is refused before sending.
	_, err = c.CancelPayment(context.Background(), &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000, Currency: "USD"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "currency", ve.Field)
	assert.Equal(t, 1, posts(log))
}

func TestCancelPaymentValidation(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response { return nil })
	for field, req := range map[string]*CancelPaymentRequest{
		"request":         nil,
		"imp_uid":         {},
		"merchant_uid":    {MerchantUID: "\x00bad"},
		"amount":          {ImpUID: "imp_1", Amount: -1},
		"checksum":        {ImpUID: "imp_1", Checksum: ptr(int64(-5))},
		"tax_free":        {ImpUID: "imp_1", Amount: 100, TaxFree: 200},
		"vat_amount":      {ImpUID: "imp_1", VatAmount: ptr(int64(-1))},
		"currency":        {ImpUID: "imp_1", Currency: "dollars"},
		"extra.requester": {ImpUID: "imp_1", Requester: "boss"},
	} {
		_, err := c.CancelPayment(context.Background(), req)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, field)
		assert.Equal(t, field, ve.Field)
	}
	_, err := c.CancelPayment(context.Background(), &CancelPaymentRequest{ImpUID: "imp_1", Amount: 5000, Checksum: ptr(int64(4000))})
	require.ErrorIs(t, err, ErrInvalidRequest, "more than the balance the caller believes in")
	assert.Equal(t, 0, log.count())
}

func TestCancelPaymentReconciles(t *testing.T) {
	t.Parallel()
	badGateway := func() *http.Response { return envelopeReply(http.StatusBadGateway, -1, "", nil) }
	html200 := func() *http.Response {
		resp := httpmock.NewStringResponse(http.StatusOK, "<html>maintenance</html>")
		resp.Header.Set("Content-Type", "text/html")
		return resp
	}
	reset := func() *http.Response { return nil }
	for _, tc := range []struct {
		name      string
		req       *CancelPaymentRequest
		cancel    func() *http.Response
		before    map[string]any             // the payment before the cancel (the first lookup)
		lookup    func(n int) *http.Response // n counts lookups after the cancel, from 1
		wantPaid  bool                       // success expected
		unknown   bool                       // ErrOutcomeUnknown expected
		wantKey   string                     // the ChargeError's MerchantUID when unknown
		lookupURL string
	}{
		{
			name:   "partial with checksum, 502, applied",
			req:    &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000, Checksum: ptr(int64(9900))},
			cancel: badGateway,
			before: cancelledJSON("imp_1", 9900, 0),
			lookup: func(n int) *http.Response {
				if n < 3 {
					return ok200(cancelledJSON("imp_1", 9900, 0)) // the PG is slow
				}
				return ok200(cancelledJSON("imp_1", 9900, 3000, 3000))
			},
			wantPaid: true, lookupURL: "/payments/imp_1",
		},
		{
			name:     "full by merchant_uid, reset, applied",
			req:      &CancelPaymentRequest{MerchantUID: "order_1"},
			cancel:   reset,
			before:   cancelledJSON("imp_1", 9900, 0),
			lookup:   func(int) *http.Response { return ok200(cancelledJSON("imp_1", 9900, 9900, 9900)) },
			wantPaid: true, lookupURL: "/payments/find/order_1",
		},
		{
			name:     "full, html 200, applied",
			req:      &CancelPaymentRequest{ImpUID: "imp_1", Checksum: ptr(int64(6900))},
			cancel:   html200,
			before:   cancelledJSON("imp_1", 9900, 3000, 3000),
			lookup:   func(int) *http.Response { return ok200(cancelledJSON("imp_1", 9900, 9900, 3000, 6900)) },
			wantPaid: true, lookupURL: "/payments/imp_1",
		},
		{
			name:      "partial with checksum, 502, unchanged over the window: not applied",
			req:       &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000, Checksum: ptr(int64(6900))},
			cancel:    badGateway,
			before:    cancelledJSON("imp_1", 9900, 3000, 3000),
			lookup:    func(int) *http.Response { return ok200(cancelledJSON("imp_1", 9900, 3000, 3000)) },
			lookupURL: "/payments/imp_1",
		},
		{
			name:      "full, reset, unchanged: not applied",
			req:       &CancelPaymentRequest{ImpUID: "imp_1"},
			cancel:    reset,
			before:    cancelledJSON("imp_1", 9900, 0),
			lookup:    func(int) *http.Response { return ok200(cancelledJSON("imp_1", 9900, 0)) },
			lookupURL: "/payments/imp_1",
		},
		{
			name:    "lookups fail: unknown",
			req:     &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000, Checksum: ptr(int64(9900))},
			cancel:  badGateway,
			before:  cancelledJSON("imp_1", 9900, 0),
			lookup:  func(int) *http.Response { return envelopeReply(http.StatusServiceUnavailable, -1, "", nil) },
			unknown: true, wantKey: "order_1", lookupURL: "/payments/imp_1",
		},
		{
			name:    "changed otherwise: unknown",
			req:     &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000, Checksum: ptr(int64(9900))},
			cancel:  badGateway,
			before:  cancelledJSON("imp_1", 9900, 0),
			lookup:  func(int) *http.Response { return ok200(cancelledJSON("imp_1", 9900, 5000, 5000)) },
			unknown: true, wantKey: "order_1", lookupURL: "/payments/imp_1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lookups atomic.Int64
			var fetchedBefore atomic.Bool
			c, log := routedClient(t, func(r seenRequest) *http.Response {
				if r.Method == http.MethodPost {
					return tc.cancel()
				}
				assert.Equal(t, tc.lookupURL, r.Path)
				if !fetchedBefore.Swap(true) {
					return ok200(tc.before)
				}
				return tc.lookup(int(lookups.Add(1)))
			})
			p, err := c.CancelPayment(context.Background(), tc.req)
			assert.Equal(t, 1, posts(log), "a cancel is never resent")
			assert.GreaterOrEqual(t, lookups.Load(), int64(1))
			switch {
			case tc.wantPaid:
				require.NoError(t, err, "a cancel that happened is never reported as failed")
				assert.Greater(t, p.CancelAmount, int64(0))
			case tc.unknown:
				require.ErrorIs(t, err, ErrOutcomeUnknown)
				var ce *ChargeError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tc.wantKey, ce.MerchantUID, "learned from the payment fetched first")
				assert.Equal(t, OpCancel, ce.Op)
				assert.NotContains(t, err.Error(), "charge")
			default:
				require.ErrorIs(t, err, ErrNotApplied)
				assert.False(t, errors.Is(err, ErrOutcomeUnknown), "known not applied: %v", err)
				assert.Greater(t, lookups.Load(), int64(1), "asked again over the settle window")
			}
		})
	}
}

func TestCancelPaymentRefusals(t *testing.T) {
	t.Parallel()
	refuse := func() *http.Response {
		return envelopeReply(http.StatusOK, 1, "[결제취소 실패] 취소가능잔액 검증에 실패하였습니다. (취소가능잔액: 6900)", nil)
	}
	t.Run("a refusal stands even when the history shows a cancel just like it", func(t *testing.T) {
		t.Parallel()
		c, log := routedClient(t, func(r seenRequest) *http.Response {
			if r.Method == http.MethodPost {
				return refuse()
			}
			return ok200(cancelledJSON("imp_1", 9900, 3000, 3000))
		})
		p, err := c.CancelPayment(context.Background(), &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000, Checksum: ptr(int64(9900))})
		var ae *APIError
		require.ErrorAs(t, err, &ae, "this call's cancel was refused: an earlier cancel of the same amount is not this one")
		assert.Nil(t, p)
		assert.Equal(t, 1, posts(log))
	})
	t.Run("checksum refused, balance moved by another cancel: refusal", func(t *testing.T) {
		t.Parallel()
		c, _ := routedClient(t, func(r seenRequest) *http.Response {
			if r.Method == http.MethodPost {
				return refuse()
			}
			// 3000 in total, but as 1000 + 2000: not this cancel of 3000.
			return ok200(cancelledJSON("imp_1", 9900, 3000, 1000, 2000))
		})
		_, err := c.CancelPayment(context.Background(), &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000, Checksum: ptr(int64(9900))})
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 1, ae.Code)
	})
	t.Run("no checksum: a refusal is final, no lookup after it", func(t *testing.T) {
		t.Parallel()
		var gets atomic.Int64
		c, log := routedClient(t, func(r seenRequest) *http.Response {
			if r.Method == http.MethodPost {
				return envelopeReply(http.StatusOK, 1, "취소할 결제건이 존재하지 않습니다.", nil)
			}
			if gets.Add(1) > 1 {
				t.Error("no lookup expected after the refusal")
			}
			return ok200(cancelledJSON("imp_1", 9900, 9900, 9900))
		})
		_, err := c.CancelPayment(context.Background(), &CancelPaymentRequest{ImpUID: "imp_1"})
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.ErrorIs(t, err, ErrNotFound, "the live text for nothing to cancel")
		assert.Equal(t, 2, log.count())
	})
}

func TestCancelPaymentContextEndsDuringReconcile(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := routedClient(t, func(r seenRequest) *http.Response {
		if r.Method == http.MethodPost {
			cancel()
			return envelopeReply(http.StatusBadGateway, -1, "", nil)
		}
		return ok200(cancelledJSON("imp_1", 9900, 0))
	})
	_, err := c.CancelPayment(ctx, &CancelPaymentRequest{ImpUID: "imp_1"})
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	require.ErrorIs(t, err, context.Canceled)
}

func TestPreparePayment(t *testing.T) {
	t.Parallel()
	prepared := map[string]int64{}
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		switch r.Method {
		case http.MethodPost, http.MethodPut:
			b := r.json(t)
			m := b["merchant_uid"].(string)
			amt := int64(b["amount"].(float64))
			if _, dup := prepared[m]; dup && r.Method == http.MethodPost {
				return envelopeReply(http.StatusOK, 1, "이미 등록된 merchant_uid 입니다.", nil)
			}
			if _, ok := prepared[m]; !ok && r.Method == http.MethodPut {
				return envelopeReply(http.StatusNotFound, -1, "사전등록된 결제정보가 존재하지 않습니다.", nil)
			}
			prepared[m] = amt
			return ok200(map[string]any{"merchant_uid": m, "amount": amt, "currency": nil})
		}
		m := r.Path[len("/payments/prepare/"):]
		amt, ok := prepared[m]
		if !ok {
			return envelopeReply(http.StatusNotFound, -1, "사전등록된 결제정보가 존재하지 않습니다.", nil)
		}
		return ok200(map[string]any{"merchant_uid": m, "amount": amt})
	})
	ctx := context.Background()
	require.NoError(t, c.PreparePayment(ctx, "order_1", 39000))
	r := log.all()[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/payments/prepare", r.Path)
	assert.JSONEq(t, `{"merchant_uid":"order_1","amount":39000}`, string(r.Body))

	require.NoError(t, c.PreparePayment(ctx, "order_1", 39000), "the same registration again is a success")
	err := c.PreparePayment(ctx, "order_1", 10000)
	var ae *APIError
	require.ErrorAs(t, err, &ae, "another amount is refused")

	amt, err := c.GetPreparedPayment(ctx, "order_1")
	require.NoError(t, err)
	assert.Equal(t, int64(39000), amt)

	require.NoError(t, c.UpdatePreparedPayment(ctx, "order_1", 10000))
	last := log.all()[log.count()-1]
	assert.Equal(t, http.MethodPut, last.Method)
	assert.Equal(t, "/payments/prepare", last.Path)
	amt, err = c.GetPreparedPayment(ctx, "order_1")
	require.NoError(t, err)
	assert.Equal(t, int64(10000), amt)

	_, err = c.GetPreparedPayment(ctx, "order/none")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "/payments/prepare/order%2Fnone", log.all()[log.count()-1].Path)
	require.ErrorIs(t, c.UpdatePreparedPayment(ctx, "order_2", 1), ErrNotFound)

	n := log.count()
	require.ErrorIs(t, c.PreparePayment(ctx, "order_3", 0), ErrInvalidRequest)
	require.ErrorIs(t, c.UpdatePreparedPayment(ctx, "", 1), ErrInvalidRequest)
	_, err = c.GetPreparedPayment(ctx, "")
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, n, log.count())
}

// TestCancelRefusalIsNotMistakenForAnEcho: a refused cancel whose checksum
// is stale because someone else refunded the same amount is not this
// cancel's success; nor is a refusal when the history says nothing.
func TestCancelRefusalIsNotMistakenForAnEcho(t *testing.T) {
	checksum := int64(9900)
	for name, history := range map[string][]any{
		"another cancel of the same amount": {map[string]any{"pg_tid": "c1", "amount": 3000, "cancelled_at": 1700000000, "reason": "first", "cancellation_id": "x"}},
		"no history":                        {},
	} {
		t.Run(name, func(t *testing.T) {
			c, mt, _ := mockClient(t)
			mt.RegisterResponder(http.MethodPost, apiBase+"/payments/cancel", envelopeResponder(200, 1, "취소할 결제건이 존재하지 않습니다.", nil))
			p := paymentJSON("imp_1", "order_1", "cust_1", 9900, "cancelled")
			p["cancel_amount"], p["cancel_history"] = 3000, history
			mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_1", envelopeResponder(200, 0, "", p))
			got, err := c.CancelPayment(context.Background(), &CancelPaymentRequest{ImpUID: "imp_1", Amount: 3000, Checksum: &checksum, Reason: "second"})
			var ae *APIError
			require.ErrorAs(t, err, &ae, "the refusal stands: nothing was refunded by this call")
			assert.Nil(t, got)
		})
	}
}
