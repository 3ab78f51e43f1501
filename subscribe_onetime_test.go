package iamport

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func onetimeReq() *OnetimePaymentRequest {
	return &OnetimePaymentRequest{
		MerchantUID: "order/1", Amount: 1050, Currency: "USD", Name: "Starter",
		CardNumber: "4092 0230 1234 5678", Expiry: "2028-12", Birth: "880101", Pwd2Digit: "12",
		CustomerUID: "cust_1", PG: "nice", BuyerEmail: "jane@example.com", CardQuota: 3,
	}
}

func TestOnetimePaymentRequestShape(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		p := paymentJSON("imp_1", "order/1", "cust_1", 0, "paid")
		p["amount"], p["currency"] = 10.5, "USD"
		return ok200(p)
	})
	p, err := c.OnetimePayment(context.Background(), onetimeReq())
	require.NoError(t, err)
	assert.True(t, p.IsPaid())
	assert.Equal(t, int64(1050), p.Amount)
	reqs := log.all()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/subscribe/payments/onetime", r.Path)
	assert.Equal(t, "Bearer "+testToken, r.Auth)
	assert.JSONEq(t, `{"merchant_uid":"order/1","amount":10.5,"currency":"USD","card_number":"4092-0230-1234-5678",
		"expiry":"2028-12","birth":"880101","pwd_2digit":"12","customer_uid":"cust_1","pg":"nice","name":"Starter",
		"buyer_email":"jane@example.com","card_quota":3}`, string(r.Body))
}

func TestOnetimePaymentValidation(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response { return ok200(nil) })
	cases := map[string]func(r *OnetimePaymentRequest){
		"merchant_uid": func(r *OnetimePaymentRequest) { r.MerchantUID = strings.Repeat("m", 41) },
		"customer_uid": func(r *OnetimePaymentRequest) { r.CustomerUID = strings.Repeat("c", 81) },
		"amount":       func(r *OnetimePaymentRequest) { r.Amount = 0 },
		"card_number":  func(r *OnetimePaymentRequest) { r.CardNumber = "4092" },
		"expiry":       func(r *OnetimePaymentRequest) { r.Expiry = "2028-13" },
		"pwd_2digit":   func(r *OnetimePaymentRequest) { r.Pwd2Digit = "ab" },
	}
	for field, mutate := range cases {
		r := onetimeReq()
		mutate(r)
		_, err := c.OnetimePayment(context.Background(), r)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, field)
		assert.Equal(t, field, ve.Field)
		assert.NotContains(t, err.Error(), "4092")
	}
	_, err := c.OnetimePayment(context.Background(), nil)
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, 0, log.count())
}

func TestOnetimePaymentDecline(t *testing.T) {
	t.Parallel()
	c, _ := routedClient(t, func(r seenRequest) *http.Response {
		p := paymentJSON("imp_1", "order/1", "cust_1", 0, "failed")
		p["amount"], p["currency"] = 10.5, "USD"
		return ok200(p)
	})
	_, err := c.OnetimePayment(context.Background(), onetimeReq())
	var pf *PaymentFailedError
	require.ErrorAs(t, err, &pf)
	assert.Equal(t, "잔액부족", pf.Payment.FailReason)
	assert.NotContains(t, err.Error(), "4092")
}

func TestOnetimePaymentReconcilesWithMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		customerUID string // of the payment found
		amount      any
		wantErr     error
	}{
		{"same customer and amount: paid", "cust_1", 10.5, nil},
		{"another customer: not this charge, never absence", "cust_2", 10.5, ErrOutcomeUnknown},
		{"another amount: not this charge, never absence", "cust_1", 11, ErrOutcomeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, log := routedClient(t, func(r seenRequest) *http.Response {
				if r.Method == http.MethodPost {
					return envelopeReply(http.StatusBadGateway, -1, "", nil)
				}
				assert.Equal(t, "/payments/find/order%2F1", r.Path)
				p := paymentJSON("imp_1", "order/1", tc.customerUID, 0, "paid")
				p["amount"], p["currency"] = tc.amount, "USD"
				return ok200(p)
			})
			p, err := c.OnetimePayment(context.Background(), onetimeReq())
			if tc.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "imp_1", p.ImpUID)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			posts := 0
			for _, r := range log.all() {
				if r.Method == http.MethodPost {
					posts++
				}
			}
			assert.Equal(t, 1, posts, "a charge is never resent")
		})
	}
}

func TestOnetimePaymentWithoutCustomerMatchesAnyCustomer(t *testing.T) {
	t.Parallel()
	c, _ := routedClient(t, func(r seenRequest) *http.Response {
		if r.Method == http.MethodPost {
			return nil // connection reset after the request went out
		}
		return ok200(paymentJSON("imp_9", "order/2", "", 5000, "paid"))
	})
	p, err := c.OnetimePayment(context.Background(), &OnetimePaymentRequest{
		MerchantUID: "order/2", Amount: 5000, CardNumber: "4092023012345678", Expiry: "2028-12",
	})
	require.NoError(t, err)
	assert.Equal(t, "imp_9", p.ImpUID)
}

func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	t.Run("paid", func(t *testing.T) {
		t.Parallel()
		c, log := routedClient(t, func(r seenRequest) *http.Response {
			return ok200(paymentJSON("imp_2", "sub/06", "cust_1", 9900, "paid"))
		})
		p, err := c.RetrySchedule(context.Background(), "sub/06")
		require.NoError(t, err)
		assert.True(t, p.IsPaid())
		r := log.all()[0]
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/subscribe/payments/schedule/sub%2F06/retry", r.Path)
		assert.Equal(t, "{}", string(r.Body), "an empty JSON object: a POST with a body net/http cannot resend by itself")
		assert.Equal(t, "Bearer "+testToken, r.Auth)
	})
	t.Run("declined", func(t *testing.T) {
		t.Parallel()
		c, _ := routedClient(t, func(r seenRequest) *http.Response {
			return ok200(paymentJSON("imp_2", "sub/06", "cust_1", 9900, "failed"))
		})
		_, err := c.RetrySchedule(context.Background(), "sub/06")
		var pf *PaymentFailedError
		require.ErrorAs(t, err, &pf)
	})
	for _, tc := range []struct {
		name    string
		started time.Duration // relative to now
		status  string
		wantErr error
	}{
		{"lost answer, new payment found: paid", 0, "paid", nil},
		{"lost answer, the schedule already paid earlier: its payment (the repeat rule)", -time.Hour, "paid", nil},
		{"lost answer, earlier failed attempt: not this call's", -time.Hour, "failed", ErrNotCharged},
		{"lost answer, new failed payment: declined", 0, "failed", &PaymentFailedError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := routedClient(t, func(r seenRequest) *http.Response {
				if r.Method == http.MethodPost {
					return envelopeReply(http.StatusInternalServerError, -1, "", nil)
				}
				p := paymentJSON("imp_3", "sub/06", "cust_1", 9900, tc.status)
				p["started_at"] = time.Now().Add(tc.started).Unix()
				return ok200(p)
			})
			p, err := c.RetrySchedule(context.Background(), "sub/06")
			switch want := tc.wantErr.(type) {
			case nil:
				require.NoError(t, err)
				assert.Equal(t, "imp_3", p.ImpUID)
			case *PaymentFailedError:
				require.ErrorAs(t, err, &want)
			default:
				require.ErrorIs(t, err, want)
			}
		})
	}
	t.Run("refused: the schedule is paid already", func(t *testing.T) {
		t.Parallel()
		c, _ := routedClient(t, func(r seenRequest) *http.Response {
			if r.Method == http.MethodPost {
				return envelopeReply(http.StatusBadRequest, -1, "결제에 실패한 결제예약건이 아닙니다.", nil)
			}
			p := paymentJSON("imp_3", "sub/06", "cust_1", 9900, "paid")
			p["started_at"] = time.Now().Add(-24 * time.Hour).Unix()
			return ok200(p)
		})
		got, err := c.RetrySchedule(context.Background(), "sub/06")
		require.NoError(t, err, "calling again after an unknown outcome returns the paid charge (the repeat rule)")
		assert.Equal(t, "imp_3", got.ImpUID)
	})
	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		c, log := routedClient(t, func(r seenRequest) *http.Response { return nil })
		_, err := c.RetrySchedule(context.Background(), "")
		require.ErrorIs(t, err, ErrInvalidRequest)
		assert.Equal(t, 0, log.count())
	})
}
