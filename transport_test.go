package iamport

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultSettleWindowCoversTheTimeout: a client that only raises its
// timeout gets a window longer than it, never an error.
func TestDefaultSettleWindowCoversTheTimeout(t *testing.T) {
	c, err := NewClient("k", "s")
	require.NoError(t, err)
	assert.Equal(t, DefaultSettleWindow, c.cfg.settleWindow)
	assert.Greater(t, c.cfg.settleWindow, c.cfg.timeout)
	c, err = NewClient("k", "s", WithTimeout(2*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 3*time.Minute, c.cfg.settleWindow)
	c, err = NewClient("k", "s", WithSettleWindow(900*time.Millisecond))
	require.NoError(t, err, "only the window chosen: the attempts fit in it")
	assert.Equal(t, 600*time.Millisecond, c.cfg.timeout)
}

// TestSecretsScrubbedFromAnswers: a server that echoes the secret, the
// token or the card data of the call in its message does not get them into
// an error or a log line.
func TestSecretsScrubbedFromAnswers(t *testing.T) {
	const secret = "sk_live_Q7w9ZxV3pL0m"
	const card = "9410-7723-5581-0046"
	var logs bytes.Buffer
	mt := newEchoTransport(secret)
	c, err := NewClient("key_1", secret, WithHTTPClient(&http.Client{Transport: mt}),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)

	_, err = c.GetPayment(context.Background(), "imp_1")
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.NotContains(t, err.Error(), secret, "getToken's 401 echoed the secret")

	mt.tokenOK.Store(true)
	_, err = c.OnetimePayment(context.Background(), &OnetimePaymentRequest{MerchantUID: "m1", Amount: 1000,
		CardNumber: card, Expiry: "2031-07", Birth: "850412", Pwd2Digit: "38"})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	for _, leak := range []string{secret, "tok_9d8s7a6f5g4h", card, "9410772355810046", "2031-07", "850412"} {
		assert.NotContains(t, err.Error(), leak)
		assert.NotContains(t, ae.Message, leak)
		assert.NotContains(t, logs.String(), leak)
	}
	assert.Contains(t, ae.Message, "[redacted]", "the message is kept, the secrets cut out")
}

// echoTransport answers getToken with a 401 that echoes the request (until
// tokenOK), and every other call with a refusal that echoes the request
// and its token.
type echoTransport struct {
	secret  string
	tokenOK atomic.Bool
}

func newEchoTransport(secret string) *echoTransport { return &echoTransport{secret: secret} }

func (e *echoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := ""
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
	}
	if r.URL.Path == "/users/getToken" {
		if !e.tokenOK.Load() {
			return envelopeReply(http.StatusUnauthorized, -1, "invalid credentials: "+body, nil), nil
		}
		now := time.Now().Unix()
		return envelopeReply(http.StatusOK, 0, "", map[string]any{"access_token": "tok_9d8s7a6f5g4h", "now": now, "expired_at": now + 1800}), nil
	}
	return envelopeReply(http.StatusOK, -1, "카드정보 인증에 실패하였습니다. "+r.Header.Get("Authorization")+" "+body, nil), nil
}

// TestHTTPClientCloseIdleConnectionsReachesTheTransport: the auth
// transport passes CloseIdleConnections down.
func TestHTTPClientCloseIdleConnectionsReachesTheTransport(t *testing.T) {
	base := &closeCounter{}
	c, err := NewClient("k", "s", WithHTTPClient(&http.Client{Transport: base}))
	require.NoError(t, err)
	c.HTTPClient().CloseIdleConnections()
	assert.Equal(t, int64(1), base.closed.Load())
}

type closeCounter struct{ closed atomic.Int64 }

func (c *closeCounter) RoundTrip(*http.Request) (*http.Response, error) { return nil, io.EOF }
func (c *closeCounter) CloseIdleConnections()                           { c.closed.Add(1) }

// TestDeclaredLengthIsNotAllocatedUpFront: a reply that declares 512 MiB
// and sends a few bytes costs a few bytes, not the declaration.
func TestDeclaredLengthIsNotAllocatedUpFront(t *testing.T) {
	resp := &http.Response{StatusCode: 200, ContentLength: 512 << 20, Body: io.NopCloser(strings.NewReader(`{"code":0}`))}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	raw, err := readLimited(resp, maxSuccessBody+1)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Equal(t, `{"code":0}`, string(raw))
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "allocated for the declared length")
}

// TestNoRedirectIsFollowed: a GET answered with a redirect is an error
// naming the 3xx, and the other host sees nothing.
func TestNoRedirectIsFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/users/getToken" {
			now := time.Now().Unix()
			b := `{"code":0,"response":{"access_token":"t","now":` + itoa(int(now)) + `,"expired_at":` + itoa(int(now+1800)) + `}}`
			_, _ = io.WriteString(w, b)
			return
		}
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(api.Close)
	c, err := NewClient("k", "s", WithBaseURL(api.URL), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.GetPayment(context.Background(), "imp_1")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusFound, ae.StatusCode)
	assert.False(t, ae.FromIamport(), "a redirect is not Iamport's answer")
	assert.NotErrorIs(t, err, ErrNotFound)
	assert.Zero(t, elsewhere.Load())
}

// TestDirectDeclineNeedsNoClock: Iamport's own answer to a charge is that
// charge's payment, whatever its started_at says against the clock measured
// at getToken (a fake whose clock stands still, a server whose clocks
// disagree): its decline is a decline, never "not charged".
func TestDirectDeclineNeedsNoClock(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().Unix()
		switch r.URL.Path {
		case "/users/getToken":
			// The token's clock is an hour ahead of the payments' clock.
			_, _ = io.WriteString(w, `{"code":0,"response":{"access_token":"t","now":`+itoa(int(now+3600))+`,"expired_at":`+itoa(int(now+3600+1800))+`}}`)
		case "/subscribe/payments/again":
			posts.Add(1)
			p := paymentJSON("imp_d", "m_decline", "cust_1", 1000, "failed")
			b, _ := json.Marshal(map[string]any{"code": 0, "response": p})
			_, _ = w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient("k", "s", WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.AgainPayment(context.Background(), &AgainPaymentRequest{CustomerUID: "cust_1", MerchantUID: "m_decline", Amount: 1000})
	var pf *PaymentFailedError
	require.ErrorAs(t, err, &pf)
	assert.Equal(t, "imp_d", pf.Payment.ImpUID)
	assert.Equal(t, int64(1), posts.Load())
}
