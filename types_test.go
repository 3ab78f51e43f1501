package iamport

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPaymentMoneyAndTimes(t *testing.T) {
	raw := `{"imp_uid":"imp_1","merchant_uid":"m","amount":10.5,"cancel_amount":0.29,"currency":"USD","status":"paid",
		"started_at":1700000000,"paid_at":1700000005,"failed_at":0,"cancelled_at":null,"card_type":null,
		"cancel_history":[{"pg_tid":"c1","amount":0.29,"cancelled_at":1700000100,"reason":"r","cancellation_id":"x"}],
		"some_new_field":{"nested":[1,2,3]},"promotion":null}`
	var p Payment
	require.NoError(t, json.Unmarshal([]byte(raw), &p))
	assert.Equal(t, int64(1050), p.Amount)
	assert.Equal(t, int64(29), p.CancelAmount, "0.29 must not become 28 through float64")
	assert.Equal(t, int64(1021), p.Refundable())
	assert.Equal(t, time.Unix(1700000000, 0), p.StartedAt)
	assert.True(t, p.FailedAt.IsZero())
	assert.True(t, p.CancelledAt.IsZero())
	assert.Nil(t, p.CardType)
	assert.Nil(t, p.Promotion)
	require.Len(t, p.CancelHistory, 1)
	assert.Equal(t, int64(29), p.CancelHistory[0].Amount)

	b, err := json.Marshal(p)
	require.NoError(t, err)
	var back Payment
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, p, back)
	assert.Contains(t, string(b), `"amount":10.5`)
	assert.Contains(t, string(b), `"failed_at":0`)
}

func TestPaymentDecodeErrorsNameTheField(t *testing.T) {
	for field, raw := range map[string]string{
		"amount":                   `{"amount":"ten"}`,
		"cancel_amount":            `{"amount":1004,"cancel_amount":1.5}`,
		"cancel_history[0].amount": `{"amount":1,"cancel_history":[{"amount":true}]}`,
	} {
		var p Payment
		err := json.Unmarshal([]byte(raw), &p)
		require.Error(t, err, field)
		assert.Contains(t, err.Error(), field)
	}
}

// TestPaymentDecodingTolerates: money fields take a number or a string
// holding one, exactly; a field that carries no money in another shape is
// left zero (or kept as text) and never loses the payment.
func TestPaymentDecodingTolerates(t *testing.T) {
	for name, tc := range map[string]struct {
		raw   string
		check func(t *testing.T, p *Payment)
	}{
		"amount as a string":       {`{"amount":"1004","currency":"KRW"}`, func(t *testing.T, p *Payment) { assert.Equal(t, int64(1004), p.Amount) }},
		"usd amount as a string":   {`{"amount":" 10.50 ","currency":"USD"}`, func(t *testing.T, p *Payment) { assert.Equal(t, int64(1050), p.Amount) }},
		"custom_data as an object": {`{"amount":1,"custom_data":{"plan":"pro"}}`, func(t *testing.T, p *Payment) { assert.JSONEq(t, `{"plan":"pro"}`, p.CustomData) }},
		"custom_data as a string":  {`{"amount":1,"custom_data":"{\"plan\":\"pro\"}"}`, func(t *testing.T, p *Payment) { assert.Equal(t, `{"plan":"pro"}`, p.CustomData) }},
		"status as a number":       {`{"amount":7,"status":5}`, func(t *testing.T, p *Payment) { assert.Equal(t, int64(7), p.Amount); assert.Empty(t, p.Status) }},
		"card_type as text":        {`{"amount":7,"card_type":"credit","imp_uid":"i"}`, func(t *testing.T, p *Payment) { assert.Nil(t, p.CardType); assert.Equal(t, "i", p.ImpUID) }},
		"card_quota as a string":   {`{"amount":7,"card_quota":"3","merchant_uid":"m"}`, func(t *testing.T, p *Payment) { assert.Equal(t, "m", p.MerchantUID) }},
		"paid_at as text":          {`{"amount":7,"paid_at":"yesterday","status":"paid"}`, func(t *testing.T, p *Payment) { assert.True(t, p.PaidAt.IsZero()); assert.True(t, p.IsPaid()) }},
		"started_at as a string":   {`{"amount":7,"started_at":"1700000000"}`, func(t *testing.T, p *Payment) { assert.Equal(t, int64(1700000000), p.StartedAt.Unix()) }},
	} {
		t.Run(name, func(t *testing.T) {
			var p Payment
			require.NoError(t, json.Unmarshal([]byte(tc.raw), &p))
			tc.check(t, &p)
		})
	}
	var p Payment
	assert.Error(t, json.Unmarshal([]byte(`{"amount":"10.5","currency":"KRW"}`), &p), "a fractional KRW amount is never rounded")
	assert.Error(t, json.Unmarshal([]byte(`{"cancel_history":{"amount":1}}`), &p), "a list of money in another shape is an error")
}

func TestBillingKeyAndScheduleDecode(t *testing.T) {
	var k BillingKey
	require.NoError(t, json.Unmarshal([]byte(`{"customer_uid":"c","card_type":1,"inserted":1700000000,"updated":0,"extra":1}`), &k))
	require.NotNil(t, k.CardType)
	assert.Equal(t, 1, *k.CardType)
	assert.True(t, k.Updated.IsZero())

	var s Schedule
	require.NoError(t, json.Unmarshal([]byte(`{"merchant_uid":"m","imp_uid":null,"schedule_at":1700000000,"executed_at":0,"amount":9900,"payment_status":null,"schedule_status":"scheduled"}`), &s))
	assert.Equal(t, int64(9900), s.Amount)
	assert.Equal(t, PaymentStatus(""), s.PaymentStatus)
	assert.Empty(t, s.ImpUID)
	assert.True(t, s.ExecutedAt.IsZero())
}

func FuzzPaymentUnmarshal(f *testing.F) {
	f.Add([]byte(`{"amount":10.5,"currency":"USD","paid_at":1700000000}`))
	f.Add([]byte(`{"amount":1004,"cancel_history":[{"amount":1}],"card_type":null}`))
	f.Add([]byte(`{"amount":"1","started_at":1e99}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Payment
		if json.Unmarshal(b, &p) != nil {
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal of a decoded payment: %v", err)
		}
		var back Payment
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decode: %v\n%s", err, out)
		}
		if back.Amount != p.Amount || back.CancelAmount != p.CancelAmount || !back.PaidAt.Equal(p.PaidAt) {
			t.Fatalf("round trip changed money or time: %+v vs %+v", p, back)
		}
	})
}

// TestEnvelopeDecodeAgreesWithUnmarshalJSON: the one-pass decoding of a
// response (the envelope with paymentWire inside) gives exactly what
// Payment's own UnmarshalJSON gives, for every payment payload in testdata,
// alone and in a page.
func TestEnvelopeDecodeAgreesWithUnmarshalJSON(t *testing.T) {
	c, err := NewClient("k", "s")
	require.NoError(t, err)
	decode := func(body string, out any) error {
		resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1}
		return c.decodeResponse(resp, &request{method: "GET", path: "/x"}, out)
	}
	for _, name := range []string{"payment_card_cancelled.json", "payment_paypal_usd.json", "payment_vbank_paid.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		var env struct {
			Response json.RawMessage `json:"response"`
		}
		require.NoError(t, json.Unmarshal(raw, &env))
		var slow Payment
		require.NoError(t, json.Unmarshal(env.Response, &slow), name)
		var w paymentWire
		require.NoError(t, decode(string(raw), &w), name)
		fast, err := w.toPayment()
		require.NoError(t, err, name)
		assert.Equal(t, slow, *fast, name)

		var page pageList[Payment]
		require.NoError(t, decode(`{"code":0,"response":{"total":1,"next":0,"list":[`+string(env.Response)+`]}}`, &page), name)
		require.Len(t, page.List, 1)
		assert.Equal(t, slow, *page.List[0], name)
	}
	var w paymentWire
	var ae *APIError
	require.ErrorAs(t, decode(`{"code":1,"message":"no","response":{"amount":{}}}`, &w), &ae, "a refusal is an APIError whatever its response")
	assert.True(t, ae.FromIamport())
	var de *DecodeError
	assert.ErrorAs(t, decode(`{"code":0,"response":null}`, &w), &de, "code 0 without a response")
	assert.ErrorAs(t, decode(`{"response":{}}`, &w), &de, "no code: not the envelope")
	assert.ErrorAs(t, decode(`{"code":0,"response":"text"}`, &w), &de, "a response of the wrong shape")
	assert.ErrorAs(t, decode(`{"code":0,"response":{"imp_uid":"a"`, &w), &de, "truncated")
}
