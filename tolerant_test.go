package iamport_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	iamport "github.com/billingkr/iamport-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tolerant-decoding table: one odd field in a Payment (as GetPayment,
// and after a charge, receive it) changes only that field. Money fields
// take a number or a numeric string and stay exact; an amount that is not
// exact in its currency is an error naming the field; every other field
// in an unexpected shape is kept as text or left zero.
func TestTolerantPaymentDecoding(t *testing.T) {
	base := `"imp_uid":"imp_t","merchant_uid":"m_t","status":"paid","currency":"KRW","amount":1004`
	cases := []struct {
		name   string
		fields string // replaces or adds fields
		check  func(t *testing.T, p *iamport.Payment)
		errIn  string // a decode error naming this field
	}{
		{name: "custom_data object", fields: `"custom_data":{"plan":"pro","n":2}`, check: func(t *testing.T, p *iamport.Payment) {
			assert.JSONEq(t, `{"plan":"pro","n":2}`, p.CustomData)
		}},
		{name: "custom_data string", fields: `"custom_data":"{\"plan\":\"pro\"}"`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, `{"plan":"pro"}`, p.CustomData)
		}},
		{name: "custom_data array", fields: `"custom_data":[1,"a"]`, check: func(t *testing.T, p *iamport.Payment) {
			assert.JSONEq(t, `[1,"a"]`, p.CustomData)
		}},
		{name: "amount as a quoted number", fields: `"amount":"1004"`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, int64(1004), p.Amount)
		}},
		{name: "USD amount as a quoted decimal", fields: `"currency":"USD","amount":"10.50","cancel_amount":" 0.5 "`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, int64(1050), p.Amount)
			assert.Equal(t, int64(50), p.CancelAmount)
		}},
		{name: "KWD amount with three decimals", fields: `"currency":"KWD","amount":1.234`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, int64(1234), p.Amount)
		}},
		{name: "amount 1004.0 in KRW is exact", fields: `"amount":1004.0`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, int64(1004), p.Amount)
		}},
		{name: "fractional KRW amount", fields: `"amount":1004.5`, errIn: "amount"},
		{name: "fractional KRW amount as a string", fields: `"amount":"1004.5"`, errIn: "amount"},
		{name: "amount that is not a number", fields: `"amount":"a lot"`, errIn: "amount"},
		{name: "fractional KRW cancel_amount", fields: `"cancel_amount":0.5`, errIn: "cancel_amount"},
		{name: "fractional cancel_history amount", fields: `"cancel_history":[{"amount":1.5,"cancelled_at":1}]`, errIn: "cancel_history[0].amount"},
		{name: "card_quota as a string", fields: `"card_quota":"3"`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, 1004, int(p.Amount))
		}},
		{name: "card_type as a string", fields: `"card_type":"1"`, check: func(t *testing.T, p *iamport.Payment) {
			require.NotNil(t, p.CardType)
			assert.Equal(t, 1, *p.CardType)
		}},
		{name: "escrow as Y", fields: `"escrow":"Y","sandbox":"false"`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, "m_t", p.MerchantUID)
		}},
		{name: "paid_at as a quoted number", fields: `"paid_at":"1700000000"`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, int64(1700000000), p.PaidAt.Unix())
		}},
		{name: "paid_at as a date text", fields: `"paid_at":"2026-01-01"`, check: func(t *testing.T, p *iamport.Payment) {
			assert.True(t, p.PaidAt.IsZero())
			assert.True(t, p.IsPaid())
		}},
		{name: "name as a number", fields: `"name":12`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, "", p.Name)
			assert.Equal(t, int64(1004), p.Amount)
		}},
		{name: "unknown fields", fields: `"brand_new":{"x":[1]},"another":null`, check: func(t *testing.T, p *iamport.Payment) {
			assert.Equal(t, "imp_t", p.ImpUID)
		}},
		{name: "promotion object", fields: `"promotion":{"id":"promotion-id-1","discount":100}`, check: func(t *testing.T, p *iamport.Payment) {
			assert.JSONEq(t, `{"id":"promotion-id-1","discount":100}`, string(p.Promotion))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := "{" + base + "," + tc.fields + "}"
			var direct iamport.Payment
			derr := json.Unmarshal([]byte(body), &direct)

			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/users/getToken" {
					_, _ = w.Write([]byte(`{"code":0,"message":null,"response":{"access_token":"t","now":1700000000,"expired_at":1700001800}}`))
					return
				}
				_, _ = w.Write([]byte(`{"code":0,"message":null,"response":` + body + `}`))
			}))
			defer ts.Close()
			c, err := iamport.NewClient("k", "s", iamport.WithBaseURL(ts.URL))
			require.NoError(t, err)
			p, err := c.GetPayment(context.Background(), "imp_t")

			if tc.errIn != "" {
				require.Error(t, err)
				var de *iamport.DecodeError
				require.ErrorAs(t, err, &de)
				assert.Contains(t, err.Error(), tc.errIn)
				require.Error(t, derr)
				assert.Contains(t, derr.Error(), tc.errIn)
				return
			}
			require.NoError(t, err)
			require.NoError(t, derr)
			tc.check(t, p)
			tc.check(t, &direct)
		})
	}
}

// Schedules and billing keys are as tolerant.
func TestTolerantScheduleAndBillingKeyDecoding(t *testing.T) {
	var s iamport.Schedule
	require.NoError(t, json.Unmarshal([]byte(`{"merchant_uid":"m","amount":"9900","currency":"KRW","schedule_at":"1800000000",
		"custom_data":{"plan":"pro"},"payment_status":null,"name":7}`), &s))
	assert.Equal(t, int64(9900), s.Amount)
	assert.Equal(t, int64(1800000000), s.ScheduleAt.Unix())
	assert.JSONEq(t, `{"plan":"pro"}`, s.CustomData, "custom_data is readable as an object too")
	assert.Equal(t, iamport.PaymentStatus(""), s.PaymentStatus)

	err := json.Unmarshal([]byte(`{"merchant_uid":"m","amount":99.5,"currency":"KRW"}`), &s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "amount")

	var k iamport.BillingKey
	require.NoError(t, json.Unmarshal([]byte(`{"customer_uid":"c","card_type":"0","inserted":"1700000000","sandbox":1,"card_name":["x"]}`), &k))
	assert.Equal(t, "c", k.CustomerUID)
	assert.Equal(t, int64(1700000000), k.Inserted.Unix())
	require.NotNil(t, k.CardType, "card_type as a numeric string")
	assert.Equal(t, 0, *k.CardType)
	assert.Empty(t, k.CardName)
	require.NoError(t, json.Unmarshal([]byte(`{"customer_uid":"c","card_type":null}`), &k))
	assert.Nil(t, k.CardType, "null stays nil (JTNet)")
	out, err := json.Marshal(k)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(out), `"card_type":null`), string(out))
}

// A charge answered with odd non-money fields is still a paid charge, not
// an unknown outcome.
func TestTolerantChargeAnswer(t *testing.T) {
	var posts int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/users/getToken":
			_, _ = w.Write([]byte(`{"code":0,"message":null,"response":{"access_token":"t","now":1700000000,"expired_at":1700001800}}`))
		case "/subscribe/payments/again":
			posts++
			_, _ = w.Write([]byte(`{"code":0,"message":null,"response":{"imp_uid":"imp_c","merchant_uid":"m_c","customer_uid":"cust","status":"paid",
				"amount":"9900","currency":"KRW","custom_data":{"order":7},"card_quota":"0","card_type":"1","escrow":"N","paid_at":"1700000001",
				"cancel_receipt_urls":null,"promotion":{"x":1}}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	c, err := iamport.NewClient("k", "s", iamport.WithBaseURL(ts.URL))
	require.NoError(t, err)
	p, err := c.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{CustomerUID: "cust", MerchantUID: "m_c", Amount: 9900})
	require.NoError(t, err)
	assert.True(t, p.IsPaid())
	assert.JSONEq(t, `{"order":7}`, p.CustomData)
	assert.Equal(t, 1, posts)
}
