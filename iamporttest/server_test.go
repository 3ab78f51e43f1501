package iamporttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	Code     int             `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
}

type harness struct {
	t   *testing.T
	s   *Server
	tok string
	hc  *http.Client
}

func newHarness(t *testing.T, opts ...ServerOption) *harness {
	t.Helper()
	opts = append([]ServerOption{WithClock(NewClock(t0))}, opts...)
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	h := &harness{t: t, s: s, hc: &http.Client{Timeout: 10 * time.Second}}
	h.tok = h.token().AccessToken
	return h
}

func (h *harness) token() wireToken {
	h.t.Helper()
	st, e, _ := h.send("POST", "/users/getToken", "", map[string]any{"imp_key": h.s.APIKey, "imp_secret": h.s.APISecret})
	require.Equal(h.t, http.StatusOK, st)
	require.Equal(h.t, 0, e.Code)
	var tok wireToken
	require.NoError(h.t, json.Unmarshal(e.Response, &tok))
	return tok
}

// send performs a request; body is a map (JSON), url.Values (form) or nil.
func (h *harness) send(method, path, auth string, body any) (int, env, []byte) {
	h.t.Helper()
	resp, err := h.raw(context.Background(), method, path, auth, body)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	var e env
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(h.t, json.Unmarshal(raw, &e), string(raw))
	}
	return resp.StatusCode, e, raw
}

func (h *harness) raw(ctx context.Context, method, path, auth string, body any) (*http.Response, error) {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		js, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, h.s.URL()+path, rd)
	require.NoError(h.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return h.hc.Do(req)
}

// tick advances the clock and refreshes the harness token.
func (h *harness) tick(d time.Duration) {
	h.t.Helper()
	h.s.Clock().Advance(d)
	h.tok = h.token().AccessToken
}

// call sends with the harness token.
func (h *harness) call(method, path string, body any) (int, env) {
	h.t.Helper()
	st, e, _ := h.send(method, path, "Bearer "+h.tok, body)
	return st, e
}

func obj(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	return m
}

func msg(e env) string {
	if e.Message == nil {
		return ""
	}
	return *e.Message
}

func (h *harness) again(cuid, muid string, amount any) (int, env) {
	h.t.Helper()
	return h.call("POST", "/subscribe/payments/again", map[string]any{
		"customer_uid": cuid, "merchant_uid": muid, "amount": amount, "name": "월 구독",
	})
}

// ---- token ----

func TestGetTokenLifecycle(t *testing.T) {
	h := newHarness(t)
	first := h.token()
	assert.Equal(t, h.tok, first.AccessToken)
	assert.Equal(t, t0.Unix(), first.Now)
	assert.Equal(t, int64(1800), first.ExpiredAt-first.Now)

	// Still valid: same token, same expiry.
	h.s.Clock().Advance(10 * time.Minute)
	second := h.token()
	assert.Equal(t, first.AccessToken, second.AccessToken)
	assert.Equal(t, first.ExpiredAt, second.ExpiredAt)
	assert.Equal(t, t0.Add(10*time.Minute).Unix(), second.Now)

	// Last minute: extended by 5 minutes, same token.
	h.s.Clock().Set(time.Unix(first.ExpiredAt-30, 0))
	third := h.token()
	assert.Equal(t, first.AccessToken, third.AccessToken)
	assert.Equal(t, first.ExpiredAt+300, third.ExpiredAt)

	// After expiry: a new token.
	h.s.Clock().Set(time.Unix(third.ExpiredAt, 0))
	fourth := h.token()
	assert.NotEqual(t, first.AccessToken, fourth.AccessToken)
	assert.Equal(t, int64(1800), fourth.ExpiredAt-fourth.Now)
	assert.Equal(t, 4+1, h.s.TokenCalls())

	// Form encoding works too; bad credentials are 401 with the envelope.
	st, e, _ := h.send("POST", "/users/getToken", "", url.Values{"imp_key": {h.s.APIKey}, "imp_secret": {h.s.APISecret}})
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, 0, e.Code)
	st, e, raw := h.send("POST", "/users/getToken", "", map[string]any{"imp_key": "x", "imp_secret": "y"})
	assert.Equal(t, http.StatusUnauthorized, st)
	assert.Equal(t, -1, e.Code)
	assert.Contains(t, string(raw), `"response":null`)
}

func TestExpiredTokenIs401(t *testing.T) {
	h := newHarness(t, WithTokenLifetime(time.Minute*2))
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	st, _, _ := h.send("GET", "/subscribe/customers/c1", h.tok, nil) // raw token accepted
	assert.Equal(t, http.StatusOK, st)

	h.s.Clock().Advance(2 * time.Minute)
	st, e := h.call("GET", "/subscribe/customers/c1", nil)
	assert.Equal(t, http.StatusUnauthorized, st)
	assert.Equal(t, -1, e.Code)
	assert.Equal(t, 1, h.s.ExpiredTokenRequests())

	st, _, _ = h.send("GET", "/subscribe/customers/c1", "", nil)
	assert.Equal(t, http.StatusUnauthorized, st)
	assert.Equal(t, 1, h.s.ExpiredTokenRequests(), "a missing token is not an expired one")

	h.tok = h.token().AccessToken
	st, _ = h.call("GET", "/subscribe/customers/c1", nil)
	assert.Equal(t, http.StatusOK, st)

	old := h.tok
	h.s.RevokeTokens()
	st, _ = h.call("GET", "/subscribe/customers/c1", nil)
	assert.Equal(t, http.StatusUnauthorized, st)
	h.tok = h.token().AccessToken
	assert.NotEqual(t, old, h.tok)
	assert.Equal(t, 2, h.s.ExpiredTokenRequests())
}

func TestServerSkew(t *testing.T) {
	h := newHarness(t, WithServerSkew(-7*time.Hour))
	tok := h.token()
	assert.Equal(t, t0.Add(-7*time.Hour).Unix(), tok.Now)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	_, e := h.again("c1", "m1", 1000)
	assert.Equal(t, float64(t0.Add(-7*time.Hour).Unix()), obj(t, e.Response)["paid_at"])
}

// ---- again ----

var impRe = regexp.MustCompile(`^imps_\d{12}$`)

func TestAgainPaid(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("cust_1", "4092-0230-1234-5678"))
	st, e := h.call("POST", "/subscribe/payments/again", map[string]any{
		"customer_uid": "cust_1", "merchant_uid": "order_1", "amount": 9900, "name": "월 구독",
		"buyer_name": "홍길동", "custom_data": map[string]any{"plan": "pro"},
	})
	require.Equal(t, http.StatusOK, st)
	require.Equal(t, 0, e.Code)
	assert.Nil(t, e.Message)
	p := obj(t, e.Response)
	assert.Regexp(t, impRe, p["imp_uid"])
	assert.Equal(t, "order_1", p["merchant_uid"])
	assert.Equal(t, "paid", p["status"])
	assert.Equal(t, float64(9900), p["amount"])
	assert.Equal(t, float64(0), p["cancel_amount"])
	assert.Equal(t, "KRW", p["currency"])
	assert.Equal(t, "jtnet", p["pg_provider"])
	assert.Equal(t, "card", p["pay_method"])
	assert.Equal(t, "api", p["channel"])
	assert.Equal(t, "payment", p["customer_uid_usage"])
	assert.Equal(t, "cust_1", p["customer_uid"])
	assert.Equal(t, "신한카드", p["card_name"])
	assert.Equal(t, "4092-02**-****-5678", p["card_number"])
	assert.Contains(t, p, "card_type")
	assert.Nil(t, p["card_type"])
	assert.Equal(t, []any{}, p["cancel_history"])
	assert.Equal(t, false, p["sandbox"])
	assert.Equal(t, float64(t0.Unix()), p["started_at"])
	assert.Equal(t, float64(t0.Unix()), p["paid_at"])
	assert.Equal(t, float64(0), p["failed_at"])
	assert.Equal(t, float64(0), p["cancelled_at"])
	assert.Nil(t, p["fail_reason"])
	assert.Equal(t, `{"plan":"pro"}`, p["custom_data"])
	assert.Equal(t, "홍길동", p["buyer_name"])
	for _, k := range specPaymentFields {
		assert.Contains(t, p, k)
	}
	assert.Equal(t, 1, h.s.Charges("order_1"))
	assert.Equal(t, 1, h.s.ChargeAttempts("order_1"))
	assert.Equal(t, 1, h.s.Requests("POST /subscribe/payments/again"))

	// Paying a paid merchant_uid again is refused.
	st, e = h.again("cust_1", "order_1", 9900)
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, 1, e.Code)
	assert.Equal(t, "이미 주문이 이루어진 건입니다", msg(e))
	assert.Equal(t, "null", string(e.Response))
	assert.Equal(t, 1, h.s.Charges("order_1"))

	// Unknown customer.
	_, e = h.again("nobody", "order_2", 1000)
	assert.Equal(t, 1, e.Code)
	assert.Equal(t, "등록되지 않은 구매자입니다.", msg(e))
	assert.Equal(t, 0, h.s.ChargeAttempts("order_2"))

	// Form encoding.
	st, e = h.call("POST", "/subscribe/payments/again", url.Values{
		"customer_uid": {"cust_1"}, "merchant_uid": {"order_form"}, "amount": {"1000"}, "name": {"x"},
	})
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, "paid", obj(t, e.Response)["status"])
}

var specPaymentFields = []string{"imp_uid", "merchant_uid", "pay_method", "channel", "pg_provider",
	"emb_pg_provider", "pg_tid", "pg_id", "escrow", "apply_num", "bank_code", "bank_name", "card_code",
	"card_name", "card_issuer_code", "card_issuer_name", "card_publisher_code", "card_publisher_name",
	"card_quota", "card_number", "card_type", "vbank_code", "vbank_name", "vbank_num", "vbank_holder",
	"vbank_date", "vbank_issued_at", "name", "amount", "cancel_amount", "currency", "buyer_name",
	"buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "custom_data", "user_agent", "status",
	"started_at", "paid_at", "failed_at", "cancelled_at", "fail_reason", "cancel_reason", "receipt_url",
	"cancel_history", "cancel_receipt_urls", "cash_receipt_issued", "customer_uid", "customer_uid_usage",
	"promotion", "sandbox"}

func TestAgainDeclined(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	require.NoError(t, h.s.RegisterBillingKey("c2", "5111-2222-3333-4444"))
	h.s.DeclineCustomer("c1", "잔액이 부족합니다.")
	h.s.DeclineCard("5111222233334444", "한도초과")

	st, e := h.again("c1", "m1", 5000)
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, 0, e.Code)
	p := obj(t, e.Response)
	assert.Equal(t, "failed", p["status"])
	assert.Equal(t, "잔액이 부족합니다.", p["fail_reason"])
	assert.Equal(t, float64(t0.Unix()), p["failed_at"])
	assert.Equal(t, float64(0), p["paid_at"])

	_, e = h.again("c2", "m2", 5000)
	assert.Equal(t, "한도초과", obj(t, e.Response)["fail_reason"])

	// A failed merchant_uid may be reused: a new record.
	h.s.DeclineCustomer("c1", "")
	h.tick(time.Second)
	_, e = h.again("c1", "m1", 5000)
	assert.Equal(t, "paid", obj(t, e.Response)["status"])
	assert.Equal(t, 1, h.s.Charges("m1"))
	assert.Equal(t, 2, h.s.ChargeAttempts("m1"))
	ps := h.s.PaymentsByMerchantUID("m1")
	require.Len(t, ps, 2)
	assert.Equal(t, "failed", ps[0].Status)
	assert.Equal(t, "paid", ps[1].Status)

	// find returns the newest.
	_, e = h.call("GET", "/payments/find/m1", nil)
	assert.Equal(t, "paid", obj(t, e.Response)["status"])
	_, e = h.call("GET", "/payments/find/m1/failed", nil)
	assert.Equal(t, "failed", obj(t, e.Response)["status"])
}

func TestAmountsUSDExact(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	_, e, raw := h.send("POST", "/subscribe/payments/again", "Bearer "+h.tok,
		json.RawMessage(`{"customer_uid":"c1","merchant_uid":"usd1","amount":10.5,"currency":"USD","name":"x"}`))
	require.Equal(t, 0, e.Code, string(raw))
	assert.Contains(t, string(raw), `"amount":10.5,`)
	assert.Contains(t, string(raw), `"currency":"USD"`)
	assert.Equal(t, int64(1050), h.s.PaymentsByMerchantUID("usd1")[0].Amount)

	_, e = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": obj(t, e.Response)["imp_uid"], "amount": json.Number("0.25")})
	require.Equal(t, 0, e.Code, msg(e))
	assert.Contains(t, string(e.Response), `"cancel_amount":0.25,`)

	// More decimals than the currency allows: 400.
	st, _ := h.call("POST", "/subscribe/payments/again", json.RawMessage(`{"customer_uid":"c1","merchant_uid":"krw1","amount":10.5}`))
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, json.Number("0.05"), formatAmount(5, "USD"))
	assert.Equal(t, json.Number("1000"), formatAmount(1000, "KRW"))
	assert.Equal(t, json.Number("12"), formatAmount(1200, "USD"))
}

// ---- lookups ----

func TestNotFoundEnvelopes(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/payments/imps_000000000000", "/payments/find/nope", "/payments/find/nope/paid", "/payments/findAll/nope"} {
		st, e, raw := h.send("GET", path, "Bearer "+h.tok, nil)
		assert.Equal(t, http.StatusNotFound, st, path)
		assert.Equal(t, -1, e.Code, path)
		assert.Equal(t, "존재하지 않는 결제정보입니다.", msg(e), path)
		assert.Contains(t, string(raw), `"response":null`)
	}
	st, e := h.call("GET", "/subscribe/customers/nobody", nil)
	assert.Equal(t, http.StatusNotFound, st)
	assert.NotZero(t, e.Code)
	assert.Equal(t, "null", string(e.Response))

	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	st, e = h.call("GET", "/subscribe/customers/c1", nil)
	require.Equal(t, http.StatusOK, st)
	c := obj(t, e.Response)
	for _, k := range []string{"customer_uid", "pg_provider", "pg_id", "sandbox", "customer_id", "card_name",
		"card_code", "card_issuer_code", "card_issuer_name", "card_publisher_code", "card_publisher_name",
		"card_number", "card_type", "customer_name", "customer_tel", "customer_email", "customer_addr",
		"customer_postcode", "inserted", "updated"} {
		assert.Contains(t, c, k)
	}
	assert.Nil(t, c["card_type"])
	assert.Equal(t, "jtnet", c["pg_provider"])
	assert.Equal(t, float64(t0.Unix()), c["inserted"])

	st, e = h.call("DELETE", "/subscribe/customers/c1?reason=bye&extra[requester]=admin", nil)
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, "c1", obj(t, e.Response)["customer_uid"])
	st, _ = h.call("GET", "/subscribe/customers/c1", nil)
	assert.Equal(t, http.StatusNotFound, st)
	_, e = h.again("c1", "m1", 100)
	assert.Equal(t, "등록되지 않은 구매자입니다.", msg(e))
	_, found := h.s.BillingKey("c1")
	assert.False(t, found)
}

func TestMultiLookups(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	_, e := h.again("c1", "m1", 100)
	imp := obj(t, e.Response)["imp_uid"].(string)

	st, e := h.call("GET", "/payments?imp_uid[]="+imp+"&merchant_uid[]=m1", nil)
	assert.Equal(t, http.StatusOK, st)
	var list []map[string]any
	require.NoError(t, json.Unmarshal(e.Response, &list))
	assert.Len(t, list, 2)

	st, e = h.call("GET", "/payments?imp_uid[]="+imp+"&imp_uid[]=imps_1", nil)
	assert.Equal(t, http.StatusMultiStatus, st)
	require.NoError(t, json.Unmarshal(e.Response, &list))
	assert.Len(t, list, 1)

	st, _ = h.call("GET", "/payments?imp_uid[]=imps_1", nil)
	assert.Equal(t, http.StatusNotFound, st)

	q := url.Values{}
	for i := 0; i < 101; i++ {
		q.Add("imp_uid[]", fmt.Sprint("imps_", i))
	}
	st, _ = h.call("GET", "/payments?"+q.Encode(), nil)
	assert.Equal(t, http.StatusBadRequest, st)

	require.NoError(t, h.s.RegisterBillingKey("c2", "4092-0230-1234-5678"))
	st, _ = h.call("GET", "/subscribe/customers?customer_uid[]=c1&customer_uid[]=c2", nil)
	assert.Equal(t, http.StatusOK, st)
	st, e = h.call("GET", "/subscribe/customers?customer_uid[]=c1&customer_uid[]=zz", nil)
	assert.Equal(t, http.StatusMultiStatus, st)
	require.NoError(t, json.Unmarshal(e.Response, &list))
	assert.Len(t, list, 1)
	st, _ = h.call("GET", "/subscribe/customers?customer_uid[]=zz", nil)
	assert.Equal(t, http.StatusNotFound, st)
}

// ---- faults ----

func TestFaultKinds(t *testing.T) {
	type check func(t *testing.T, h *harness, resp *http.Response, err error)
	noRecord := func(t *testing.T, h *harness) {
		assert.Equal(t, 0, h.s.ChargeAttempts("m"))
		assert.Empty(t, h.s.Payments())
	}
	committed := func(t *testing.T, h *harness) {
		assert.Equal(t, 1, h.s.Charges("m"))
		assert.Equal(t, 1, h.s.ChargeAttempts("m"))
	}
	cases := []struct {
		kind  FaultKind
		check check
	}{
		{FaultReset, func(t *testing.T, h *harness, _ *http.Response, err error) {
			require.Error(t, err)
			noRecord(t, h)
		}},
		{Fault5xxBeforeCommit, func(t *testing.T, h *harness, resp *http.Response, err error) {
			require.NoError(t, err)
			assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			noRecord(t, h)
		}},
		{FaultDropAfterCommit, func(t *testing.T, h *harness, _ *http.Response, err error) {
			require.Error(t, err)
			committed(t, h)
		}},
		{Fault5xxAfterCommit, func(t *testing.T, h *harness, resp *http.Response, err error) {
			require.NoError(t, err)
			assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			committed(t, h)
		}},
		{FaultHTML502, func(t *testing.T, h *harness, resp *http.Response, err error) {
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
			b, _ := io.ReadAll(resp.Body)
			assert.Contains(t, string(b), "<html>")
			noRecord(t, h)
		}},
	}
	for _, c := range cases {
		t.Run(c.kind.String(), func(t *testing.T) {
			h := newHarness(t)
			require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
			h.s.InjectFault(Fault{Kind: c.kind})
			resp, err := h.raw(context.Background(), "POST", "/subscribe/payments/again", "Bearer "+h.tok,
				map[string]any{"customer_uid": "c1", "merchant_uid": "m", "amount": 1000})
			if resp != nil {
				defer resp.Body.Close()
			}
			c.check(t, h, resp, err)
			// The fault hit once: the next request is normal.
			_, e := h.call("GET", "/payments/find/m", nil)
			if h.s.ChargeAttempts("m") == 0 {
				assert.Equal(t, -1, e.Code)
			} else {
				assert.Equal(t, "paid", obj(t, e.Response)["status"])
			}
			assert.Equal(t, 1, h.s.Requests(RouteAgain))
		})
	}
}

func TestFaultDelayCommitsAfterClientLeft(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	h.s.InjectFault(Fault{Kind: FaultDelay, Delay: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// The client leaves once the server has the request, not on a timer.
		for h.s.Requests(RouteAgain) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := h.raw(ctx, "POST", "/subscribe/payments/again", "Bearer "+h.tok,
		map[string]any{"customer_uid": "c1", "merchant_uid": "m", "amount": 1000})
	require.Error(t, err)
	assert.Equal(t, 0, h.s.ChargeAttempts("m"))
	require.Eventually(t, func() bool { return h.s.Charges("m") == 1 }, 2*time.Second, 5*time.Millisecond)
}

func TestFaultSlowPG(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	h.s.InjectFault(Fault{Kind: FaultSlowPG, Delay: 2 * time.Second, MerchantUID: "m"})
	done := make(chan env, 1)
	go func() {
		resp, err := h.raw(context.Background(), "POST", "/subscribe/payments/again", "Bearer "+h.tok,
			map[string]any{"customer_uid": "c1", "merchant_uid": "m", "amount": 1000})
		if err != nil {
			done <- env{Code: 99}
			return
		}
		defer resp.Body.Close()
		var e env
		_ = json.NewDecoder(resp.Body).Decode(&e)
		done <- e
	}()
	require.Eventually(t, func() bool { return h.s.ChargeAttempts("m") == 1 }, time.Second, time.Millisecond)
	_, e := h.call("GET", "/payments/find/m", nil)
	assert.Equal(t, "ready", obj(t, e.Response)["status"])
	// A second charge while the first is in progress is refused.
	_, e = h.again("c1", "m", 1000)
	assert.Equal(t, 1, e.Code)
	got := <-done
	assert.Equal(t, "paid", obj(t, got.Response)["status"])
	_, e = h.call("GET", "/payments/find/m", nil)
	assert.Equal(t, "paid", obj(t, e.Response)["status"])
	assert.Equal(t, 1, h.s.Charges("m"))
}

func TestFaultMatchingAndFunc(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	h.s.InjectFault(Fault{Kind: Fault5xxBeforeCommit, MerchantUID: "b", Times: 2})
	h.s.InjectFault(Fault{Kind: FaultHTML502, Route: "GET /payments/find/{merchant_uid}", Times: -1})

	st, _ := h.again("c1", "a", 100)
	assert.Equal(t, http.StatusOK, st)
	for i := 0; i < 2; i++ {
		st, _ = h.again("c1", "b", 100)
		assert.Equal(t, http.StatusInternalServerError, st)
	}
	st, _ = h.again("c1", "b", 100)
	assert.Equal(t, http.StatusOK, st)
	for i := 0; i < 3; i++ {
		st, _, _ = h.send("GET", "/payments/find/a", "Bearer "+h.tok, nil)
		assert.Equal(t, http.StatusBadGateway, st)
	}
	h.s.ClearFaults()
	st, _ = h.call("GET", "/payments/find/a", nil)
	assert.Equal(t, http.StatusOK, st)

	var mu sync.Mutex
	var seen []string
	h.s.SetFaultFunc(func(route, m string) Fault {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, route+" "+m)
		if m == "c" && route != "GET /payments/find/{merchant_uid}" {
			return Fault{Kind: Fault5xxAfterCommit}
		}
		return Fault{}
	})
	st, _ = h.again("c1", "c", 100)
	assert.Equal(t, http.StatusInternalServerError, st)
	assert.Equal(t, 1, h.s.Charges("c"))
	_, e := h.call("GET", "/payments/find/c", nil)
	imp := obj(t, e.Response)["imp_uid"].(string)
	st, _ = h.call("GET", "/payments/"+imp, nil) // imp_uid resolves to merchant_uid "c"
	assert.Equal(t, http.StatusInternalServerError, st)
	h.s.SetFaultFunc(nil)
	mu.Lock()
	assert.Contains(t, seen, RouteAgain+" c")
	assert.Contains(t, seen, "GET /payments/{imp_uid} c")
	mu.Unlock()
}

func TestLatency(t *testing.T) {
	h := newHarness(t, WithLatency(100*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := h.raw(ctx, "GET", "/payments/find/x", "Bearer "+h.tok, nil)
	require.Error(t, err)
	start := time.Now()
	st, _ := h.call("GET", "/payments/find/x", nil)
	assert.Equal(t, http.StatusNotFound, st)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
}

// ---- schedules ----

func TestScheduleExecutesWhenClockAdvances(t *testing.T) {
	hooks := make(chan map[string]any, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		hooks <- m
	}))
	defer recv.Close()
	h := newHarness(t, WithWebhookURL(recv.URL))
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	require.NoError(t, h.s.RegisterBillingKey("c2", "4092-0230-1234-0000"))
	h.s.DeclineCustomer("c2", "카드 한도 초과")
	at := t0.Add(time.Hour).Unix()
	st, e := h.call("POST", "/subscribe/payments/schedule", map[string]any{
		"customer_uid": "c1",
		"schedules": []map[string]any{
			{"merchant_uid": "s1", "schedule_at": at, "amount": 1000, "name": "정기"},
			{"merchant_uid": "s2", "schedule_at": at + 86400, "amount": 1000, "name": "정기"},
		},
	})
	require.Equal(t, http.StatusOK, st)
	require.Equal(t, 0, e.Code, msg(e))
	var res []map[string]any
	require.NoError(t, json.Unmarshal(e.Response, &res))
	require.Len(t, res, 2)
	assert.Equal(t, "scheduled", res[0]["schedule_status"])
	assert.Contains(t, res[0], "payment_status")
	assert.Nil(t, res[0]["payment_status"])
	assert.Nil(t, res[0]["imp_uid"])
	assert.Equal(t, float64(at), res[0]["schedule_at"])
	assert.Equal(t, float64(0), res[0]["executed_at"])

	_, e = h.call("POST", "/subscribe/payments/schedule", map[string]any{
		"customer_uid": "c2", "notice_url": "",
		"schedules": []map[string]any{{"merchant_uid": "s3", "schedule_at": at, "amount": 500}},
	})
	require.Equal(t, 0, e.Code, msg(e))

	// Duplicate merchant_uid and unknown customer: code 1.
	_, e = h.call("POST", "/subscribe/payments/schedule", map[string]any{
		"customer_uid": "c1", "schedules": []map[string]any{{"merchant_uid": "s1", "schedule_at": at, "amount": 1000}},
	})
	assert.Equal(t, 1, e.Code)
	_, e = h.call("POST", "/subscribe/payments/schedule", map[string]any{
		"customer_uid": "zz", "schedules": []map[string]any{{"merchant_uid": "s9", "schedule_at": at, "amount": 1000}},
	})
	assert.Equal(t, 1, e.Code)
	// Milliseconds by mistake: 400.
	st, _ = h.call("POST", "/subscribe/payments/schedule", map[string]any{
		"customer_uid": "c1", "schedules": []map[string]any{{"merchant_uid": "s8", "schedule_at": at * 1000, "amount": 1000}},
	})
	assert.Equal(t, http.StatusBadRequest, st)

	h.tick(59 * time.Minute)
	_, e = h.call("GET", "/subscribe/payments/schedule/s1", nil)
	assert.Equal(t, "scheduled", obj(t, e.Response)["schedule_status"])
	assert.Empty(t, h.s.Payments())

	h.tick(time.Minute) // now == schedule_at
	_, e = h.call("GET", "/subscribe/payments/schedule/s1", nil)
	sc := obj(t, e.Response)
	assert.Equal(t, "executed", sc["schedule_status"])
	assert.Equal(t, "paid", sc["payment_status"])
	assert.Equal(t, float64(at), sc["executed_at"])
	assert.Regexp(t, impRe, sc["imp_uid"])
	_, e = h.call("GET", "/payments/"+sc["imp_uid"].(string), nil)
	assert.Equal(t, "payment.scheduled", obj(t, e.Response)["customer_uid_usage"])

	_, e = h.call("GET", "/subscribe/payments/schedule/s3", nil)
	sc3 := obj(t, e.Response)
	assert.Equal(t, "failed", sc3["payment_status"])
	assert.Equal(t, "카드 한도 초과", sc3["fail_reason"])

	got := map[string]string{}
	for i := 0; i < 2; i++ {
		select {
		case m := <-hooks:
			got[m["merchant_uid"].(string)] = m["status"].(string)
			assert.NotEmpty(t, m["imp_uid"])
		case <-time.After(5 * time.Second):
			t.Fatal("webhook not delivered")
		}
	}
	assert.Equal(t, map[string]string{"s1": "paid", "s3": "failed"}, got)
	h.s.WaitWebhooks()
	assert.Len(t, h.s.Webhooks(), 2)

	// retry the failed one after the card recovers.
	h.s.DeclineCustomer("c2", "")
	st, e = h.call("POST", "/subscribe/payments/schedule/s3/retry", nil)
	require.Equal(t, http.StatusOK, st, msg(e))
	assert.Equal(t, "paid", obj(t, e.Response)["status"])
	_, e = h.call("GET", "/subscribe/payments/schedule/s3", nil)
	assert.Equal(t, "paid", obj(t, e.Response)["payment_status"])
	st, _ = h.call("POST", "/subscribe/payments/schedule/s2/retry", nil)
	assert.Equal(t, http.StatusBadRequest, st, "not executed yet")
}

func TestScheduleManagement(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	at := t0.Add(24 * time.Hour).Unix()
	_, e := h.call("POST", "/subscribe/payments/schedule", map[string]any{
		"customer_uid": "c1",
		"schedules": []map[string]any{
			{"merchant_uid": "a", "schedule_at": at, "amount": 1000},
			{"merchant_uid": "b", "schedule_at": at, "amount": 1000},
			{"merchant_uid": "c", "schedule_at": at, "amount": 1000},
		},
	})
	require.Equal(t, 0, e.Code)

	st, e := h.call("PUT", "/subscribe/payments/schedule/a", map[string]any{"schedule_at": at + 3600})
	require.Equal(t, http.StatusOK, st, msg(e))
	assert.Equal(t, float64(at+3600), obj(t, e.Response)["schedule_at"])
	st, _ = h.call("PUT", "/subscribe/payments/schedule/a", map[string]any{"schedule_at": t0.Unix() - 1})
	assert.Equal(t, http.StatusBadRequest, st)
	st, _ = h.call("PUT", "/subscribe/payments/schedule/zz", map[string]any{"schedule_at": at})
	assert.Equal(t, http.StatusNotFound, st)

	st, e = h.call("POST", "/subscribe/payments/unschedule", map[string]any{"customer_uid": "c1", "merchant_uid": []string{"b"}})
	require.Equal(t, http.StatusOK, st)
	var res []map[string]any
	require.NoError(t, json.Unmarshal(e.Response, &res))
	require.Len(t, res, 1)
	assert.Equal(t, "revoked", res[0]["schedule_status"])
	assert.Equal(t, float64(t0.Unix()), res[0]["revoked_at"])
	_, e = h.call("POST", "/subscribe/payments/unschedule", map[string]any{"customer_uid": "c1", "merchant_uid": []string{"b"}})
	assert.Equal(t, 1, e.Code, "nothing to revoke")

	// Reschedule a failed execution.
	h.s.DeclineCustomer("c1", "거절")
	h.tick(25 * time.Hour)
	_, e = h.call("GET", "/subscribe/payments/schedule/c", nil)
	assert.Equal(t, "failed", obj(t, e.Response)["payment_status"])
	st, e = h.call("POST", "/subscribe/payments/schedule/c/reschedule", map[string]any{"schedule_at": t0.Add(48 * time.Hour).Unix()})
	require.Equal(t, http.StatusOK, st, msg(e))
	sc := obj(t, e.Response)
	assert.Equal(t, "scheduled", sc["schedule_status"])
	assert.Nil(t, sc["payment_status"])
	h.s.DeclineCustomer("c1", "")
	h.tick(24 * time.Hour)
	_, e = h.call("GET", "/subscribe/payments/schedule/c", nil)
	assert.Equal(t, "paid", obj(t, e.Response)["payment_status"])
	assert.Equal(t, 1, h.s.Charges("c"))
	assert.Equal(t, 2, h.s.ChargeAttempts("c"))
	assert.Len(t, h.s.Schedules(), 3)
}

func TestScheduleListRangeAndPaging(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	base := t0.Add(time.Hour).Unix()
	var items []map[string]any
	for i := 0; i < 25; i++ {
		items = append(items, map[string]any{"merchant_uid": fmt.Sprint("s", i), "schedule_at": base + int64(i)*60, "amount": 1000})
	}
	_, e := h.call("POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": "c1", "schedules": items})
	require.Equal(t, 0, e.Code)

	from, to := base, base+int64(120*24*3600)
	st, e := h.call("GET", fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d", from, to), nil)
	assert.Equal(t, http.StatusBadRequest, st, "four months")
	assert.NotZero(t, e.Code)
	st, _ = h.call("GET", fmt.Sprintf("/subscribe/payments/schedule/customers/c1?from=%d&to=%d", from, to), nil)
	assert.Equal(t, http.StatusBadRequest, st)

	// 90 days is fine; from inclusive, to exclusive (s24 at base+1440 excluded).
	to = base + 24*60
	st, e = h.call("GET", fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&limit=10&page=1", from, to), nil)
	require.Equal(t, http.StatusOK, st, msg(e))
	page := obj(t, e.Response)
	assert.Equal(t, float64(24), page["total"])
	assert.Equal(t, float64(0), page["previous"])
	assert.Equal(t, float64(2), page["next"])
	list := page["list"].([]any)
	require.Len(t, list, 10)
	assert.Equal(t, "s23", list[0].(map[string]any)["merchant_uid"], "newest first by default")

	_, e = h.call("GET", fmt.Sprintf("/subscribe/payments/schedule?schedule_from=%d&schedule_to=%d&limit=10&page=3&sorting=scheduled", from, to), nil)
	page = obj(t, e.Response)
	assert.Equal(t, float64(2), page["previous"])
	assert.Equal(t, float64(0), page["next"])
	list = page["list"].([]any)
	require.Len(t, list, 4)
	assert.Equal(t, "s23", list[3].(map[string]any)["merchant_uid"])

	// Customer twins, with the hyphenated status filter.
	_, e = h.call("POST", "/subscribe/payments/unschedule", map[string]any{"merchant_uid": []string{"s0", "s1"}})
	require.Equal(t, 0, e.Code)
	for _, p := range []string{"/subscribe/payments/schedule/customers/c1", "/subscribe/customers/c1/schedules"} {
		_, e = h.call("GET", fmt.Sprintf("%s?from=%d&to=%d&schedule-status=revoked", p, from, base+90*86400), nil)
		page = obj(t, e.Response)
		assert.Equal(t, float64(2), page["total"], p)
		_, e = h.call("GET", fmt.Sprintf("%s?from=%d&to=%d&page=2", p, from, base+90*86400), nil)
		page = obj(t, e.Response)
		assert.Equal(t, float64(25), page["total"], p)
		assert.Len(t, page["list"].([]any), 5, p)
	}
}

// ---- payment lists ----

func TestPaymentPaging(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	for i := 0; i < 45; i++ {
		_, e := h.again("c1", fmt.Sprint("m", i), 100)
		require.Equal(t, 0, e.Code)
		h.tick(time.Second)
	}
	_, e := h.call("GET", "/subscribe/customers/c1/payments?page=1", nil)
	page := obj(t, e.Response)
	assert.Equal(t, float64(45), page["total"])
	assert.Equal(t, float64(0), page["previous"])
	assert.Equal(t, float64(2), page["next"])
	assert.Len(t, page["list"].([]any), 20)
	assert.Equal(t, "m44", page["list"].([]any)[0].(map[string]any)["merchant_uid"])
	_, e = h.call("GET", "/subscribe/customers/c1/payments?page=3", nil)
	page = obj(t, e.Response)
	assert.Equal(t, float64(0), page["next"])
	assert.Len(t, page["list"].([]any), 5)

	_, e = h.call("GET", "/payments/status/paid?limit=10&page=5", nil)
	page = obj(t, e.Response)
	assert.Equal(t, float64(45), page["total"])
	assert.Equal(t, float64(0), page["next"])
	assert.Len(t, page["list"].([]any), 5)
	st, _ := h.call("GET", "/payments/status/paid?limit=10&page=6", nil)
	assert.Equal(t, http.StatusBadRequest, st)
	st, _ = h.call("GET", "/payments/status/paid?limit=1001", nil)
	assert.Equal(t, http.StatusBadRequest, st)
	st, _ = h.call("GET", "/payments/status/bogus", nil)
	assert.Equal(t, http.StatusBadRequest, st)

	// from and to are both inclusive; compared on paid_at.
	from, to := t0.Add(10*time.Second).Unix(), t0.Add(19*time.Second).Unix()
	_, e = h.call("GET", fmt.Sprintf("/payments/status/all?from=%d&to=%d&sorting=started", from, to), nil)
	page = obj(t, e.Response)
	assert.Equal(t, float64(10), page["total"])
	assert.Equal(t, "m10", page["list"].([]any)[0].(map[string]any)["merchant_uid"])
	st, _ = h.call("GET", fmt.Sprintf("/payments/status/all?from=%d&to=%d", from, from+91*86400), nil)
	assert.Equal(t, http.StatusBadRequest, st)

	_, e = h.call("GET", "/payments/findAll/m3?limit=5", nil)
	page = obj(t, e.Response)
	assert.Equal(t, float64(1), page["total"])
}

// ---- cancel ----

func TestCancel(t *testing.T) {
	hooks := make(chan map[string]any, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		hooks <- m
	}))
	defer recv.Close()
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	_, e := h.call("POST", "/subscribe/payments/again", map[string]any{
		"customer_uid": "c1", "merchant_uid": "m1", "amount": 10000, "notice_url": recv.URL,
	})
	imp := obj(t, e.Response)["imp_uid"].(string)
	<-hooks // paid webhook

	_, e = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": imp, "amount": 3000, "checksum": 9999})
	assert.Equal(t, 1, e.Code, "checksum mismatch")
	_, e = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": imp, "amount": 10001})
	assert.Equal(t, 1, e.Code, "more than refundable")

	h.tick(time.Minute)
	_, e = h.call("POST", "/payments/cancel", map[string]any{"merchant_uid": "m1", "amount": 3000, "checksum": 10000, "reason": "부분환불"})
	require.Equal(t, 0, e.Code, msg(e))
	p := obj(t, e.Response)
	assert.Equal(t, "cancelled", p["status"])
	assert.Equal(t, float64(3000), p["cancel_amount"])
	assert.Equal(t, "부분환불", p["cancel_reason"])
	assert.Equal(t, float64(t0.Add(time.Minute).Unix()), p["cancelled_at"])
	hist := p["cancel_history"].([]any)
	require.Len(t, hist, 1)
	assert.Equal(t, float64(3000), hist[0].(map[string]any)["amount"])
	assert.NotEmpty(t, hist[0].(map[string]any)["cancellation_id"])

	_, e = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": imp, "checksum": 7000, "enable_webhook": true})
	require.Equal(t, 0, e.Code, msg(e))
	p = obj(t, e.Response)
	assert.Equal(t, float64(10000), p["cancel_amount"])
	assert.Len(t, p["cancel_history"].([]any), 2)
	select {
	case m := <-hooks:
		assert.Equal(t, "cancelled", m["status"])
		assert.NotEmpty(t, m["cancellation_id"])
	case <-time.After(5 * time.Second):
		t.Fatal("no cancel webhook")
	}

	_, e = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": imp})
	assert.Equal(t, 1, e.Code)
	assert.Equal(t, "취소할 결제건이 존재하지 않습니다.", msg(e))
	_, e = h.call("POST", "/payments/cancel", map[string]any{"imp_uid": "imps_nope", "merchant_uid": "m1"})
	assert.Equal(t, 1, e.Code, "imp_uid wins")
	assert.Equal(t, 1, h.s.Charges("m1"), "a cancelled payment still counts as charged")
	// A cancelled merchant_uid cannot be paid again.
	_, e = h.again("c1", "m1", 100)
	assert.Equal(t, 1, e.Code)
}

// ---- keys, key-in, prepare, window ----

func TestOnetimeAndIssue(t *testing.T) {
	h := newHarness(t)
	card := map[string]any{"card_number": "9410-1234-5678-1234", "expiry": "2030-12", "birth": "880101", "pwd_2digit": "12"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range card {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	_, e := h.call("POST", "/subscribe/payments/onetime", with(map[string]any{"merchant_uid": "o1", "amount": 1000}))
	require.Equal(t, 0, e.Code, msg(e))
	p := obj(t, e.Response)
	assert.Equal(t, "paid", p["status"])
	assert.Nil(t, p["customer_uid"])
	assert.Equal(t, "BC카드", p["card_name"])

	_, e = h.call("POST", "/subscribe/payments/onetime", with(map[string]any{"merchant_uid": "o2", "amount": 1000, "customer_uid": "k1"}))
	require.Equal(t, 0, e.Code)
	_, ok := h.s.BillingKey("k1")
	assert.True(t, ok)

	_, e = h.call("POST", "/subscribe/payments/onetime", with(map[string]any{"merchant_uid": "o3", "amount": 1000, "expiry": "12/30"}))
	assert.Equal(t, -1, e.Code)
	assert.Contains(t, msg(e), "카드정보 인증에 실패하였습니다.")
	_, e = h.call("POST", "/subscribe/payments/onetime", with(map[string]any{"merchant_uid": "o3", "amount": 1000, "expiry": "2020-01"}))
	assert.Equal(t, -1, e.Code)

	h.s.RejectCard("9410-1234-5678-1234", "도난 분실 카드")
	_, e = h.call("POST", "/subscribe/customers/k2", card)
	assert.Equal(t, -1, e.Code)
	assert.Equal(t, "도난 분실 카드", msg(e))
	h.s.RejectCard("9410-1234-5678-1234", "")

	st, e := h.call("POST", "/subscribe/customers/k2", with(map[string]any{"customer_name": "김철수", "pg": "jtnet"}))
	require.Equal(t, http.StatusOK, st)
	c := obj(t, e.Response)
	assert.Equal(t, "k2", c["customer_uid"])
	assert.Equal(t, "김철수", c["customer_name"])
	assert.Equal(t, "9410-12**-****-1234", c["card_number"])

	// Reuse maps the uid to the new card.
	h.tick(time.Hour)
	_, e = h.call("POST", "/subscribe/customers/k2", with(map[string]any{"card_number": "5555-6666-7777-8888"}))
	c = obj(t, e.Response)
	assert.Equal(t, "5555-66**-****-8888", c["card_number"])
	assert.Equal(t, float64(t0.Unix()), c["inserted"])
	assert.Equal(t, float64(t0.Add(time.Hour).Unix()), c["updated"])
}

func TestPrepare(t *testing.T) {
	h := newHarness(t)
	_, e := h.call("POST", "/payments/prepare", map[string]any{"merchant_uid": "p1", "amount": 5000})
	require.Equal(t, 0, e.Code)
	_, e = h.call("POST", "/payments/prepare", map[string]any{"merchant_uid": "p1", "amount": 5000})
	assert.Equal(t, 1, e.Code)
	_, e = h.call("PUT", "/payments/prepare", map[string]any{"merchant_uid": "p1", "amount": 6000})
	require.Equal(t, 0, e.Code)
	_, e = h.call("GET", "/payments/prepare/p1", nil)
	assert.Equal(t, float64(6000), obj(t, e.Response)["amount"])
	st, _ := h.call("GET", "/payments/prepare/p2", nil)
	assert.Equal(t, http.StatusNotFound, st)

	r := h.s.RequestPay(WindowRequest{MerchantUID: "p1", Amount: 5000, CustomerUID: "w1"})
	assert.False(t, r.Success, "amount differs from the prepared one")
	r = h.s.RequestPay(WindowRequest{MerchantUID: "p1", Amount: 6000, CustomerUID: "w1"})
	assert.True(t, r.Success, r.ErrorMsg)
}

func TestRequestPay(t *testing.T) {
	h := newHarness(t)
	r := h.s.RequestPay(WindowRequest{MerchantUID: "issue_1", Amount: 0, CustomerUID: "w1", BuyerName: "홍길동"})
	require.True(t, r.Success, r.ErrorMsg)
	assert.Regexp(t, `^imp_\d{12}$`, r.ImpUID)
	_, e := h.call("GET", "/payments/"+r.ImpUID, nil)
	p := obj(t, e.Response)
	assert.Equal(t, "paid", p["status"])
	assert.Equal(t, float64(0), p["amount"])
	assert.Equal(t, "issue", p["customer_uid_usage"])
	assert.Equal(t, "w1", p["customer_uid"])
	st, _ := h.call("GET", "/subscribe/customers/w1", nil)
	assert.Equal(t, http.StatusOK, st)

	r = h.s.RequestPay(WindowRequest{MerchantUID: "first_1", Amount: 9900, CustomerUID: "w2"})
	require.True(t, r.Success)
	_, e = h.call("GET", "/payments/"+r.ImpUID, nil)
	p = obj(t, e.Response)
	assert.Equal(t, "payment", p["customer_uid_usage"])
	assert.Equal(t, float64(9900), p["amount"])

	h.s.DeclineCard("4000-1111-2222-3333", "한도초과")
	r = h.s.RequestPay(WindowRequest{MerchantUID: "first_2", Amount: 9900, CustomerUID: "w3", CardNumber: "4000-1111-2222-3333"})
	assert.False(t, r.Success)
	assert.Equal(t, "한도초과", r.ErrorMsg)
	_, found := h.s.BillingKey("w3")
	assert.False(t, found)
	assert.Equal(t, "failed", h.s.PaymentsByMerchantUID("first_2")[0].Status)

	r = h.s.RequestPay(WindowRequest{MerchantUID: "first_3", Amount: 9900, CustomerUID: "w4", Closed: true})
	assert.False(t, r.Success)
	assert.Equal(t, "사용자가 결제를 취소하셨습니다", r.ErrorMsg)
	assert.NotEmpty(t, r.ErrorCode)
	assert.Equal(t, 0, h.s.ChargeAttempts("first_3"))
}

// ---- load ----

func TestConcurrentChargesWithFaults(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.s.RegisterBillingKey("c1", "4092-0230-1234-5678"))
	var n int
	var nmu sync.Mutex
	reached := map[string]bool{} // merchant_uids with an attempt that was not reset
	h.s.SetFaultFunc(func(route, m string) Fault {
		nmu.Lock()
		defer nmu.Unlock()
		n++
		f := Fault{}
		switch n % 7 {
		case 1:
			f.Kind = Fault5xxAfterCommit
		case 2:
			f.Kind = FaultReset
		case 3:
			f.Kind = FaultDropAfterCommit
		}
		if route == RouteAgain && f.Kind != FaultReset {
			reached[m] = true
		}
		return f
	})
	const total, workers = 400, 32
	jobs := make(chan int)
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body, _ := json.Marshal(map[string]any{"customer_uid": "c1", "merchant_uid": fmt.Sprint("L", i%100), "amount": 100})
				req, _ := http.NewRequest("POST", h.s.URL()+"/subscribe/payments/again", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+h.tok)
				if resp, err := hc.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	for i := 0; i < total; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	nmu.Lock()
	defer nmu.Unlock()
	for i := 0; i < 100; i++ {
		m := fmt.Sprint("L", i)
		want := 0
		if reached[m] {
			want = 1 // committed once; every later attempt is refused
		}
		assert.Equal(t, want, h.s.Charges(m), m)
	}
	assert.GreaterOrEqual(t, len(reached), 90)
	assert.Equal(t, total, h.s.Requests(RouteAgain))
}
