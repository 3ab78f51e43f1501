package iamport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

const (
	testKey    = "test_key_1234"
	testSecret = "s3cr3t-imp-secret-value"
	testToken  = "tok_abcdef0123456789"
	apiBase    = "https://api.iamport.kr"
)

// noSleep makes retry and reconciliation waits instant, so tests never sleep.
func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

// mockClient is a Client on an httpmock transport whose getToken answers
// testToken. It returns the transport and a counter of getToken calls.
func mockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport, *atomic.Int64) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	var tokens atomic.Int64
	mt.RegisterResponder(http.MethodPost, apiBase+"/users/getToken", func(r *http.Request) (*http.Response, error) {
		tokens.Add(1)
		return tokenReply(testToken, 1800), nil
	})
	all := append([]Option{
		WithHTTPClient(&http.Client{Transport: mt}),
		WithRetryPolicy(RetryPolicy{Sleep: noSleep}),
		// Long enough for a page of 1,000 payments under -race on a loaded
		// machine; the settle window's waits take no time (noSleep).
		WithTimeout(20 * time.Second),
		WithSettleWindow(30 * time.Second),
	}, opts...)
	c, err := NewClient(testKey, testSecret, all...)
	require.NoError(t, err)
	return c, mt, &tokens
}

func tokenReply(tok string, life int64) *http.Response {
	now := time.Now().Unix()
	return envelopeReply(http.StatusOK, 0, "", map[string]any{"access_token": tok, "now": now, "expired_at": now + life})
}

// envelopeReply is an Iamport envelope response.
func envelopeReply(status, code int, msg string, response any) *http.Response {
	env := map[string]any{"code": code, "message": nil, "response": response}
	if msg != "" {
		env["message"] = msg
	}
	b, _ := json.Marshal(env)
	resp := httpmock.NewBytesResponse(status, b)
	resp.Header.Set("Content-Type", "application/json; charset=utf-8")
	return resp
}

func envelopeResponder(status, code int, msg string, response any) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) { return envelopeReply(status, code, msg, response), nil }
}

// paymentJSON is a realistic KRW payment as the API sends it.
func paymentJSON(impUID, merchantUID, customerUID string, amount int64, status string) map[string]any {
	now := time.Now().Unix()
	p := map[string]any{
		"imp_uid": impUID, "merchant_uid": merchantUID, "customer_uid": customerUID,
		"pay_method": "card", "pg_provider": "jtnet", "pg_tid": "tid_" + impUID, "pg_id": "jtnet_mid",
		"amount": amount, "cancel_amount": 0, "currency": "KRW", "status": status,
		"name": "월간 구독", "card_name": "신한카드", "card_number": "4092-02**-****-5678", "card_type": nil,
		"started_at": now, "paid_at": 0, "failed_at": 0, "cancelled_at": 0, "fail_reason": nil,
		"cancel_history": []any{}, "customer_uid_usage": "payment", "sandbox": false,
	}
	switch status {
	case "paid":
		p["paid_at"] = now
	case "failed":
		p["failed_at"] = now
		p["fail_reason"] = "잔액부족"
	}
	return p
}

func readBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

func callCount(mt *httpmock.MockTransport, method, url string) int {
	return mt.GetCallCountInfo()[fmt.Sprintf("%s %s", method, url)]
}
