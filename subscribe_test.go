package iamport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	againURL = apiBase + "/subscribe/payments/again"
	findURL  = apiBase + "/payments/find/order_1"
)

func againReq() *AgainPaymentRequest {
	return &AgainPaymentRequest{CustomerUID: "cust_1", MerchantUID: "order_1", Amount: 9900, Name: "월간 구독"}
}

func TestAgainPaymentValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	neg := int64(-1)
	cases := []struct {
		field string
		mod   func(r *AgainPaymentRequest)
	}{
		{"customer_uid", func(r *AgainPaymentRequest) { r.CustomerUID = "" }},
		{"customer_uid", func(r *AgainPaymentRequest) { r.CustomerUID = "   " }},
		{"customer_uid", func(r *AgainPaymentRequest) { r.CustomerUID = long(81) }},
		{"customer_uid", func(r *AgainPaymentRequest) { r.CustomerUID = "a\nb" }},
		{"merchant_uid", func(r *AgainPaymentRequest) { r.MerchantUID = "" }},
		{"merchant_uid", func(r *AgainPaymentRequest) { r.MerchantUID = long(41) }},
		{"merchant_uid", func(r *AgainPaymentRequest) { r.MerchantUID = strings.Repeat("가", 41) }},
		{"amount", func(r *AgainPaymentRequest) { r.Amount = 0 }},
		{"amount", func(r *AgainPaymentRequest) { r.Amount = -100 }},
		{"tax_free", func(r *AgainPaymentRequest) { r.TaxFree = 10000 }},
		{"vat_amount", func(r *AgainPaymentRequest) { r.VatAmount = &neg }},
		{"currency", func(r *AgainPaymentRequest) { r.Currency = "WON1" }},
		{"name", func(r *AgainPaymentRequest) { r.Name = long(41) }},
		{"card_quota", func(r *AgainPaymentRequest) { r.CardQuota = -1 }},
	}
	c, mt, _ := mockClient(t)
	for _, tc := range cases {
		r := againReq()
		tc.mod(r)
		p, err := c.AgainPayment(context.Background(), r)
		assert.Nil(t, p)
		var ve *ValidationError
		if assert.ErrorAs(t, err, &ve, tc.field) {
			assert.Equal(t, tc.field, ve.Field)
		}
		assert.ErrorIs(t, err, ErrInvalidRequest)
	}
	_, err := c.AgainPayment(context.Background(), nil)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	r := againReq()
	r.CustomerUID, r.MerchantUID = long(80), strings.Repeat("가", 40)
	require.NoError(t, r.validate(), "the limits themselves are allowed")
	assert.Equal(t, 0, mt.GetTotalCallCount(), "nothing is sent for bad input")
}

func TestAgainPaymentDecline(t *testing.T) {
	c, mt, _ := mockClient(t)
	mt.RegisterResponder(http.MethodPost, againURL, envelopeResponder(200, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 9900, "failed")))
	p, err := c.AgainPayment(context.Background(), againReq())
	assert.Nil(t, p)
	var pf *PaymentFailedError
	require.ErrorAs(t, err, &pf)
	assert.Equal(t, "잔액부족", pf.Payment.FailReason)
	assert.Contains(t, err.Error(), "order_1")
	assert.Contains(t, err.Error(), "잔액부족")
	assert.NotErrorIs(t, err, ErrNotCharged)
	assert.Equal(t, 0, callCount(mt, http.MethodGet, findURL), "a decline needs no lookup")
}

// reconcileCase drives one transport failure of the charge and a sequence of
// lookup answers.
func TestAgainPaymentReconciles(t *testing.T) {
	paid := envelopeResponder(200, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 9900, "paid"))
	notFound := envelopeResponder(404, -1, "존재하지 않는 결제정보입니다.", nil)
	down := envelopeResponder(503, -1, "", nil)
	ready := envelopeResponder(200, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 9900, "ready"))
	failedNow := envelopeResponder(200, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 9900, "failed"))
	failedEarlier := func(*http.Request) (*http.Response, error) {
		p := paymentJSON("imp_0", "order_1", "cust_1", 9900, "failed")
		p["started_at"] = time.Now().Add(-time.Hour).Unix()
		return envelopeReply(200, 0, "", p), nil
	}
	otherAmount := envelopeResponder(200, 0, "", paymentJSON("imp_9", "order_1", "cust_1", 100, "paid"))
	eof := func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF }
	timeout := func(*http.Request) (*http.Response, error) { return nil, context.DeadlineExceeded }
	status5xx := envelopeResponder(500, -1, "server error", nil)
	html200 := func(*http.Request) (*http.Response, error) { return httpmock.NewStringResponse(200, "<html>"), nil }

	seq := func(rs ...httpmock.Responder) httpmock.Responder {
		i := 0
		return func(r *http.Request) (*http.Response, error) {
			x := rs[min(i, len(rs)-1)]
			i++
			return x(r)
		}
	}
	type want int
	const (
		wantPaid want = iota
		wantDeclined
		wantNotCharged
		wantUnknown
		wantAPIError
	)
	cases := []struct {
		name    string
		charge  httpmock.Responder
		lookups httpmock.Responder
		want    want
	}{
		{"reply dropped after commit", eof, paid, wantPaid},
		{"timeout, committed", timeout, paid, wantPaid},
		{"5xx before commit", status5xx, notFound, wantNotCharged},
		{"5xx after commit", status5xx, paid, wantPaid},
		{"garbage 2xx, committed", html200, paid, wantPaid},
		{"lookups impossible", eof, down, wantUnknown},
		{"lookups fail then answer", eof, seq(down, down, paid), wantPaid},
		{"slow pg: ready then paid", eof, seq(ready, ready, paid), wantPaid},
		{"slow pg: ready throughout", eof, ready, wantUnknown},
		{"declined, reply dropped", eof, failedNow, wantDeclined},
		{"only an earlier failed attempt", status5xx, failedEarlier, wantNotCharged},
		{"another charge's payment under the uid: not evidence", eof, otherAmount, wantUnknown},
		{"not found, then unreachable at the end", eof, seq(notFound, notFound, down), wantUnknown},
		{"charge answered ready, then paid", ready, seq(ready, paid), wantPaid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt, _ := mockClient(t)
			mt.RegisterResponder(http.MethodPost, againURL, tc.charge)
			mt.RegisterResponder(http.MethodGet, findURL, tc.lookups)
			p, err := c.AgainPayment(context.Background(), againReq())
			assert.Equal(t, 1, callCount(mt, http.MethodPost, againURL), "a charge is never resent")
			switch tc.want {
			case wantPaid:
				require.NoError(t, err)
				assert.Equal(t, PaymentPaid, p.Status)
				assert.Equal(t, int64(9900), p.Amount)
			case wantDeclined:
				var pf *PaymentFailedError
				require.ErrorAs(t, err, &pf)
			case wantNotCharged:
				require.ErrorIs(t, err, ErrNotCharged)
				assert.NotErrorIs(t, err, ErrOutcomeUnknown)
				assert.GreaterOrEqual(t, callCount(mt, http.MethodGet, findURL), 3, "asked again and again over the settle window")
			case wantUnknown:
				require.ErrorIs(t, err, ErrOutcomeUnknown)
				assert.NotErrorIs(t, err, ErrNotCharged)
				var ce *ChargeError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "order_1", ce.MerchantUID)
				assert.Contains(t, err.Error(), "order_1")
			}
			if tc.want != wantPaid {
				assert.Nil(t, p)
			}
		})
	}
}

func TestAgainPaymentNeverSentIsNotChargedAtOnce(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		mt.RegisterResponder(http.MethodPost, againURL, func(*http.Request) (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
		})
		_, err := c.AgainPayment(context.Background(), againReq())
		require.ErrorIs(t, err, ErrNotCharged)
		assert.Equal(t, 0, callCount(mt, http.MethodGet, findURL), "no lookup for a request that never left")
	})
	t.Run("real refused port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		c, err := NewClient("k", "s", WithBaseURL("http://"+addr), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		_, err = c.AgainPayment(context.Background(), againReq())
		require.ErrorIs(t, err, ErrNotCharged, "getToken itself cannot connect")
	})
	t.Run("no token", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		mt.RegisterResponder(http.MethodPost, apiBase+"/users/getToken", envelopeResponder(503, -1, "", nil))
		_, err := c.AgainPayment(context.Background(), againReq())
		require.ErrorIs(t, err, ErrNotCharged)
		assert.Equal(t, 0, callCount(mt, http.MethodPost, againURL))
	})
	t.Run("ctx already done", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.AgainPayment(ctx, againReq())
		require.ErrorIs(t, err, ErrNotCharged)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 0, mt.GetTotalCallCount())
	})
}

func TestAgainPaymentCtxEndsDuringReconcile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, mt, _ := mockClient(t)
	mt.RegisterResponder(http.MethodPost, againURL, func(*http.Request) (*http.Response, error) { return nil, io.EOF })
	mt.RegisterResponder(http.MethodGet, findURL, func(*http.Request) (*http.Response, error) {
		cancel()
		return envelopeReply(404, -1, "존재하지 않는 결제정보입니다.", nil), nil
	})
	_, err := c.AgainPayment(ctx, againReq())
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestAgainPaymentRepeatOfPaidMerchantUID(t *testing.T) {
	already := envelopeResponder(200, 1, "이미 주문이 이루어진 건입니다", nil)
	t.Run("same customer and amount: that payment", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		mt.RegisterResponder(http.MethodPost, againURL, already)
		mt.RegisterResponder(http.MethodGet, findURL, envelopeResponder(200, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 9900, "paid")))
		p, err := c.AgainPayment(context.Background(), againReq())
		require.NoError(t, err)
		assert.Equal(t, "imp_1", p.ImpUID)
	})
	t.Run("already cancelled since: that payment, with its status", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		mt.RegisterResponder(http.MethodPost, againURL, already)
		mt.RegisterResponder(http.MethodGet, findURL, envelopeResponder(200, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 9900, "cancelled")))
		p, err := c.AgainPayment(context.Background(), againReq())
		require.NoError(t, err, "the money moved once; a re-run must not read it as not charged")
		assert.Equal(t, PaymentCancelled, p.Status)
	})
	t.Run("other amount: the refusal", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		mt.RegisterResponder(http.MethodPost, againURL, already)
		mt.RegisterResponder(http.MethodGet, findURL, envelopeResponder(200, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 500, "paid")))
		_, err := c.AgainPayment(context.Background(), againReq())
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 1, ae.Code)
	})
	t.Run("refused and the lookup fails: unknown, never not charged", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		mt.RegisterResponder(http.MethodPost, againURL, already)
		mt.RegisterResponder(http.MethodGet, findURL, envelopeResponder(503, -1, "", nil))
		_, err := c.AgainPayment(context.Background(), againReq())
		require.ErrorIs(t, err, ErrOutcomeUnknown, "the refusal may be 'already paid' for this very charge")
		assert.NotErrorIs(t, err, ErrNotCharged)
		var ae *APIError
		assert.ErrorAs(t, err, &ae, "the refusal is kept in the chain")
	})
	t.Run("refused while a payment is still ready: unknown", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		mt.RegisterResponder(http.MethodPost, againURL, already)
		mt.RegisterResponder(http.MethodGet, findURL, envelopeResponder(200, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 9900, "ready")))
		_, err := c.AgainPayment(context.Background(), againReq())
		require.ErrorIs(t, err, ErrOutcomeUnknown)
	})
	t.Run("unknown customer: the refusal", func(t *testing.T) {
		c, mt, _ := mockClient(t)
		mt.RegisterResponder(http.MethodPost, againURL, envelopeResponder(200, 1, "등록되지 않은 구매자입니다.", nil))
		mt.RegisterResponder(http.MethodGet, findURL, envelopeResponder(404, -1, "존재하지 않는 결제정보입니다.", nil))
		_, err := c.AgainPayment(context.Background(), againReq())
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.NotErrorIs(t, err, ErrNotCharged)
	})
}
