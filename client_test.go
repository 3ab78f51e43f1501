package iamport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientValidation(t *testing.T) {
	cases := []struct {
		name        string
		key, secret string
		opts        []Option
		field       string
	}{
		{"empty key", "", "s", nil, "api_key"},
		{"empty secret", "k", " ", nil, "api_secret"},
		{"http non-loopback", "k", "s", []Option{WithBaseURL("http://api.iamport.kr")}, "base_url"},
		{"http private ip", "k", "s", []Option{WithBaseURL("http://10.0.0.1:8080")}, "base_url"},
		{"ftp", "k", "s", []Option{WithBaseURL("ftp://api.iamport.kr")}, "base_url"},
		{"relative", "k", "s", []Option{WithBaseURL("/payments")}, "base_url"},
		{"tier lower", "k", "s", []Option{WithTier("ab1")}, "tier"},
		{"tier long", "k", "s", []Option{WithTier("ABCD")}, "tier"},
		{"tier short", "k", "s", []Option{WithTier("AB")}, "tier"},
		{"tier symbol", "k", "s", []Option{WithTier("A-1")}, "tier"},
		{"nil http client", "k", "s", []Option{WithHTTPClient(nil)}, "http_client"},
		{"zero settle", "k", "s", []Option{WithSettleWindow(0)}, "settle_window"},
		{"tier empty", "k", "s", []Option{WithTier("")}, "tier"},
		{"tier control", "k", "s", []Option{WithTier("A\nB")}, "tier"},
		{"user agent CRLF", "k", "s", []Option{WithUserAgent("shop/1\r\nX-Evil: 1")}, "user_agent"},
		{"user agent NUL", "k", "s", []Option{WithUserAgent("shop\x00")}, "user_agent"},
		{"window = timeout", "k", "s", []Option{WithTimeout(time.Second), WithSettleWindow(time.Second)}, "settle_window"},
		{"window < http.Client timeout", "k", "s", []Option{WithHTTPClient(&http.Client{Timeout: time.Minute}), WithSettleWindow(30 * time.Second)}, "settle_window"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.key, tc.secret, tc.opts...)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.ErrorIs(t, err, ErrInvalidRequest)
		})
	}
	for _, u := range []string{"http://127.0.0.1:1234", "http://localhost:9", "http://[::1]:80", "http://127.8.9.10", "https://api.iamport.kr"} {
		_, err := NewClient("k", "s", WithBaseURL(u))
		assert.NoError(t, err, u)
	}
}

func TestRequestShape(t *testing.T) {
	c, mt, _ := mockClient(t, WithTier("AB1"), WithUserAgent("shop/2.0"))
	mt.RegisterResponder(http.MethodPost, apiBase+"/users/getToken", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Empty(t, r.Header.Get("Authorization"))
		body := readBody(t, r)
		assert.Equal(t, map[string]any{"imp_key": testKey, "imp_secret": testSecret}, body)
		return tokenReply(testToken, 1800), nil
	})
	mt.RegisterResponder(http.MethodGet, `=~^https://api\.iamport\.kr/payments/imp`, func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
		assert.Equal(t, "AB1", r.Header.Get("Tier"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		assert.True(t, strings.HasPrefix(r.Header.Get("User-Agent"), "shop/2.0 iamport-go/"), r.Header.Get("User-Agent"))
		assert.Equal(t, "/payments/imp%2F1%20x", r.URL.EscapedPath())
		return envelopeReply(200, 0, "", paymentJSON("imp/1 x", "m1", "c1", 1004, "paid")), nil
	})
	p, err := c.GetPayment(context.Background(), "imp/1 x")
	require.NoError(t, err)
	assert.Equal(t, "imp/1 x", p.ImpUID)
	assert.Equal(t, int64(1004), p.Amount)

	mt.RegisterResponder(http.MethodPost, apiBase+"/subscribe/payments/again", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
		assert.Equal(t, "AB1", r.Header.Get("Tier"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Equal(t, map[string]any{
			"customer_uid": "cust_1", "merchant_uid": "order_1", "amount": 9900.0, "name": "월간 구독",
			"tax_free": 900.0, "vat_amount": 818.0, "buyer_email": "a@b.kr", "card_quota": 3.0, "notice_url": "https://shop.kr/hook",
		}, readBody(t, r))
		return envelopeReply(200, 0, "", paymentJSON("imp_2", "order_1", "cust_1", 9900, "paid")), nil
	})
	vat := int64(818)
	p, err = c.AgainPayment(context.Background(), &AgainPaymentRequest{
		CustomerUID: "cust_1", MerchantUID: "order_1", Amount: 9900, Name: "월간 구독",
		TaxFree: 900, VatAmount: &vat, BuyerEmail: "a@b.kr", CardQuota: 3, NoticeURL: "https://shop.kr/hook",
	})
	require.NoError(t, err)
	assert.True(t, p.IsPaid())
}

func TestBaseURLWithPathPrefix(t *testing.T) {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, "https://gw.example.kr/iamport/users/getToken", func(*http.Request) (*http.Response, error) {
		return tokenReply(testToken, 1800), nil
	})
	mt.RegisterResponder(http.MethodGet, `=~^https://gw\.example\.kr/iamport/payments/find/m`,
		envelopeResponder(200, 0, "", paymentJSON("imp_1", "m 1", "c", 10, "paid")))
	c, err := NewClient("k", "s", WithBaseURL("https://gw.example.kr/iamport/"), WithHTTPClient(&http.Client{Transport: mt}), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	p, err := c.FindPayment(context.Background(), "m 1")
	require.NoError(t, err)
	assert.Equal(t, "m 1", p.MerchantUID)
}

func TestEnvelopeErrors(t *testing.T) {
	type check func(t *testing.T, err error)
	isAPI := func(status, code int) check {
		return func(t *testing.T, err error) {
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, status, ae.StatusCode)
			assert.Equal(t, code, ae.Code)
			assert.Equal(t, http.MethodGet, ae.Method)
			assert.Equal(t, "/payments/imp_1", ae.Path)
		}
	}
	isDecode := func(t *testing.T, err error) {
		var de *DecodeError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "/payments/imp_1", de.Path)
	}
	raw := func(status int, ctype, body string) httpmock.Responder {
		return func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(status, body)
			r.Header.Set("Content-Type", ctype)
			return r, nil
		}
	}
	p := paymentJSON("imp_1", "m", "c", 1004, "paid")
	cases := []struct {
		name  string
		resp  httpmock.Responder
		check check
	}{
		{"200 code 1", envelopeResponder(200, 1, "취소할 결제건이 존재하지 않습니다.", nil), isAPI(200, 1)},
		{"200 code -1", envelopeResponder(200, -1, "카드정보 인증에 실패하였습니다.", nil), isAPI(200, -1)},
		{"404 envelope", envelopeResponder(404, -1, "존재하지 않는 결제정보입니다.", nil), func(t *testing.T, err error) {
			isAPI(404, -1)(t, err)
			assert.ErrorIs(t, err, ErrNotFound)
			assert.Contains(t, err.Error(), "존재하지 않는 결제정보입니다.")
		}},
		{"html 502", raw(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"), func(t *testing.T, err error) {
			isAPI(502, 0)(t, err)
			assert.NotErrorIs(t, err, ErrNotFound)
		}},
		{"empty 200", raw(200, "application/json", ""), isDecode},
		{"html 200", raw(200, "text/html", "<html>maintenance</html>"), isDecode},
		{"truncated", raw(200, "application/json", `{"code":0,"message":null,"response":{"imp_uid":"imp_1","amou`), isDecode},
		{"code 0 no response", envelopeResponder(200, 0, "", nil), isDecode},
		{"amount as a non-numeric string", func(*http.Request) (*http.Response, error) {
			q := paymentJSON("imp_1", "m", "c", 0, "paid")
			q["amount"] = "1,004"
			return envelopeReply(200, 0, "", q), nil
		}, func(t *testing.T, err error) {
			isDecode(t, err)
			assert.Contains(t, err.Error(), "amount")
		}},
		{"KRW with decimals", func(*http.Request) (*http.Response, error) {
			q := paymentJSON("imp_1", "m", "c", 0, "paid")
			q["amount"] = 10.5
			return envelopeReply(200, 0, "", q), nil
		}, isDecode},
		{"response is array", envelopeResponder(200, 0, "", []any{p}), isDecode},
		{"code as string", raw(200, "application/json", `{"code":"0","response":{}}`), isDecode},
		{"json null", raw(200, "application/json", `null`), isDecode},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt, _ := mockClient(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_1", tc.resp)
			var err error
			require.NotPanics(t, func() { _, err = c.GetPayment(context.Background(), "imp_1") })
			require.Error(t, err)
			tc.check(t, err)
		})
	}
}

func TestUnauthorizedTwice(t *testing.T) {
	c, mt, tokens := mockClient(t)
	mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_1", envelopeResponder(401, -1, "Unauthorized", nil))
	_, err := c.GetPayment(context.Background(), "imp_1")
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, int64(2), tokens.Load(), "one token, then one refresh after the 401")
	assert.Equal(t, 2, callCount(mt, http.MethodGet, apiBase+"/payments/imp_1"), "the call is repeated once")
}

func TestGetTokenUnauthorizedIsNotRetried(t *testing.T) {
	c, mt, _ := mockClient(t)
	mt.RegisterResponder(http.MethodPost, apiBase+"/users/getToken", envelopeResponder(401, -1, "imp_key 또는 imp_secret이 잘못되었습니다", nil))
	_, err := c.GetPayment(context.Background(), "imp_1")
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, 1, callCount(mt, http.MethodPost, apiBase+"/users/getToken"))
	assert.Equal(t, 0, callCount(mt, http.MethodGet, apiBase+"/payments/imp_1"))
}

func TestReadsRetry5xxAnd429(t *testing.T) {
	var waits []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	c, mt, _ := mockClient(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Jitter: JitterNone, Sleep: sleep}))
	n := 0
	mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_1", func(*http.Request) (*http.Response, error) {
		n++
		switch n {
		case 1:
			return envelopeReply(503, -1, "busy", nil), nil
		case 2:
			r := envelopeReply(429, -1, "slow down", nil)
			r.Header.Set("Retry-After", "7")
			return r, nil
		}
		return envelopeReply(200, 0, "", paymentJSON("imp_1", "m", "c", 1, "paid")), nil
	})
	_, err := c.GetPayment(context.Background(), "imp_1")
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 7 * time.Second}, waits)
}

func TestContextCancelled(t *testing.T) {
	c, mt, _ := mockClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_1", func(r *http.Request) (*http.Response, error) {
		cancel()
		return nil, r.Context().Err()
	})
	_, err := c.GetPayment(ctx, "imp_1")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestDefaultTimeoutAndContextWins(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/users/getToken" {
			fmt.Fprintf(w, `{"code":0,"message":null,"response":{"access_token":"t","now":%d,"expired_at":%d}}`, time.Now().Unix(), time.Now().Unix()+1800)
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		case <-time.After(150 * time.Millisecond):
		}
		fmt.Fprint(w, `{"code":0,"message":null,"response":{"imp_uid":"imp_1","amount":1,"status":"paid"}}`)
	}))
	defer srv.Close()
	defer close(release)
	c, err := NewClient("k", "s", WithBaseURL(srv.URL), WithTimeout(30*time.Millisecond), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.GetPayment(context.Background(), "imp_1")
	require.Error(t, err, "no ctx deadline: the 30ms default applies")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := c.GetPayment(ctx, "imp_1")
	require.NoError(t, err, "the ctx's own deadline wins over the default")
	assert.Equal(t, "imp_1", p.ImpUID)
}

func TestCallerHTTPClientNotMutated(t *testing.T) {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, apiBase+"/users/getToken", func(*http.Request) (*http.Response, error) { return tokenReply(testToken, 1800), nil })
	mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_1", envelopeResponder(200, 0, "", paymentJSON("imp_1", "m", "c", 1, "paid")))
	hc := &http.Client{Transport: mt, Timeout: 7 * time.Second}
	c, err := NewClient("k", "s", WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = c.GetPayment(context.Background(), "imp_1")
	require.NoError(t, err)
	assert.Same(t, mt, hc.Transport, "the caller's transport is wrapped, not replaced")
	assert.Equal(t, 7*time.Second, hc.Timeout)
	assert.NotSame(t, mt, c.HTTPClient().Transport, "the SDK's copy carries the auth transport")
	assert.Equal(t, 7*time.Second, c.HTTPClient().Timeout)
}

func TestHTTPClientAddsTokenOnlyForAPIHost(t *testing.T) {
	c, mt, _ := mockClient(t)
	mt.RegisterResponder(http.MethodGet, apiBase+"/cards", func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
		return httpmock.NewStringResponse(200, `{"code":0}`), nil
	})
	mt.RegisterResponder(http.MethodGet, "https://elsewhere.example/x", func(r *http.Request) (*http.Response, error) {
		assert.Empty(t, r.Header.Get("Authorization"), "the token must not leave the API host")
		return httpmock.NewStringResponse(200, `ok`), nil
	})
	hc := c.HTTPClient()
	for _, u := range []string{apiBase + "/cards", "https://elsewhere.example/x"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not modified")
	}
}

func TestSecretsNeverShown(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mt, _ := mockClient(t, WithLogger(logger), WithRetryPolicy(RetryPolicy{MaxAttempts: 2, Sleep: noSleep}))
	mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_1", envelopeResponder(500, -1, "boom", nil))
	_, err := c.GetPayment(context.Background(), "imp_1")
	require.Error(t, err)
	mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_2", envelopeResponder(200, 0, "", paymentJSON("imp_2", "m", "c", 1, "paid")))
	_, err2 := c.GetPayment(context.Background(), "imp_2")
	require.NoError(t, err2)

	shown := []string{
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c), fmt.Sprint(c), fmt.Sprintf("%v", *c),
		err.Error(), logs.String(),
	}
	for _, s := range shown {
		assert.NotContains(t, s, testSecret)
		assert.NotContains(t, s, testToken)
	}
	assert.Contains(t, logs.String(), "path=/payments/imp_1")
	assert.Contains(t, logs.String(), "status=500")
	assert.Contains(t, logs.String(), "attempt=2")
	assert.Equal(t, 3, strings.Count(logs.String(), "path=/payments/imp_"), "one line per attempt")
}

func TestAPIErrorIs(t *testing.T) {
	assert.ErrorIs(t, &APIError{StatusCode: 404}, ErrNotFound)
	assert.ErrorIs(t, &APIError{StatusCode: 200, Code: 1, Message: "요청하신 customer_uid(c1)로 등록된 정보를 찾을 수 없습니다."}, ErrNotFound)
	assert.NotErrorIs(t, &APIError{StatusCode: 200, Code: 1, Message: "이미 주문이 이루어진 건입니다"}, ErrNotFound)
	assert.ErrorIs(t, &APIError{StatusCode: 401}, ErrUnauthorized)
	assert.NotErrorIs(t, &APIError{StatusCode: 403}, ErrUnauthorized)
	wrapped := fmt.Errorf("job: %w", &APIError{StatusCode: 404})
	assert.True(t, errors.Is(wrapped, ErrNotFound))
}
