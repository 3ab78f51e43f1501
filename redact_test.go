package iamport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCardDataStillReachesTheWire: the masking methods change what generic
// encoders print, never what the SDK sends to Iamport.
func TestCardDataStillReachesTheWire(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	var mu sync.Mutex
	bodies := map[string]map[string]any{}
	record := func(reply any) httpmock.Responder {
		return func(r *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(r.Body)
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, err
			}
			mu.Lock()
			bodies[r.URL.Path] = m
			mu.Unlock()
			env, _ := json.Marshal(map[string]any{"code": 0, "message": nil, "response": reply})
			resp := httpmock.NewBytesResponse(http.StatusOK, env)
			resp.Header.Set("Content-Type", "application/json")
			return resp, nil
		}
	}
	now := time.Now().Unix()
	mt.RegisterResponder(http.MethodPost, apiBase+"/users/getToken",
		record(map[string]any{"access_token": "tok_wire", "now": now, "expired_at": now + 1800}))
	p := paymentJSON("imp_wire", "m_leak", "cust_leak", 1000, "paid")
	mt.RegisterResponder(http.MethodPost, apiBase+"/subscribe/payments/onetime", record(p))
	mt.RegisterResponder(http.MethodPost, apiBase+"/subscribe/customers/cust_leak",
		record(map[string]any{"customer_uid": "cust_leak", "pg_provider": "jtnet", "card_number": leakMasked, "inserted": now, "updated": 0}))
	c, err := NewClient(testKey, testSecret, WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)

	reqs := leakRequests()
	ot := reqs[0].v.(OnetimePaymentRequest)
	ik := reqs[1].v.(IssueBillingKeyRequest)
	_, err = c.OnetimePayment(context.Background(), &ot)
	require.NoError(t, err)
	_, err = c.IssueBillingKey(context.Background(), &ik)
	require.NoError(t, err)

	for _, path := range []string{"/subscribe/payments/onetime", "/subscribe/customers/cust_leak"} {
		b := bodies[path]
		require.NotNil(t, b, path)
		assert.Equal(t, "5409-2638-1052-7716", b["card_number"], path)
		assert.Equal(t, leakCard.expiry, b["expiry"], path)
		assert.Equal(t, leakCard.birth, b["birth"], path)
		assert.Equal(t, leakCard.pwd2, b["pwd_2digit"], path)
		assert.Equal(t, leakCard.cvc, b["cvc"], path)
	}
	// And the caller's requests were not changed by being sent.
	assert.Equal(t, leakCard.number, ot.CardNumber)
	assert.Equal(t, leakCard.number, ik.CardNumber)
}

func TestMaskCardNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                        "",
		"5409-2638-1052-7716":     "540926******7716",
		"5409 2638 1052 7716":     "540926******7716",
		"4111111111111":           "411111***1111", // 13 digits
		"6011000990139424123":     "601100*********4123",
		"4111-1111":               "[redacted]", // too short to be a card
		"5409263810527716a":       "[redacted]",
		"54092638105277161234567": "[redacted]", // too long
	} {
		assert.Equal(t, want, maskCardNumber(in), in)
	}
}

func TestMarshalJSONShape(t *testing.T) {
	t.Parallel()
	reqs := leakRequests()
	b, err := json.Marshal(reqs[0].v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"merchant_uid":"m_leak","amount":1000,"name":"plan","customer_uid":"cust_leak","pg":"jtnet",
		"card_number":"540926******7716","expiry":"[redacted]","birth":"[redacted]","pwd_2digit":"[redacted]","cvc":"[redacted]",
		"buyer_name":"Kim","buyer_email":"kim@example.com"}`, string(b))
	b, err = json.Marshal(reqs[1].v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"customer_uid":"cust_leak","pg":"jtnet","customer_name":"Kim","customer_email":"kim@example.com",
		"card_number":"540926******7716","expiry":"[redacted]","birth":"[redacted]","pwd_2digit":"[redacted]","cvc":"[redacted]"}`, string(b))
	// An empty field stays empty: a reader sees that no CVC was given.
	b, err = json.Marshal(IssueBillingKeyRequest{CustomerUID: "c"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"customer_uid":"c"}`, string(b))
}
