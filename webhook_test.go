package iamport_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

const routeGetPayment = "GET /payments/{imp_uid}"

func whRequest(method, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, "/webhook", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r.RemoteAddr = "192.0.2.10:40000"
	return r
}

// whPad makes a JSON webhook of exactly n bytes.
func whPad(n int) string {
	head, tail := `{"imp_uid":"imp_1","merchant_uid":"m1","pad":"`, `"}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	full := &iamport.WebhookEvent{ImpUID: "imp_1", MerchantUID: "m1", Status: iamport.PaymentPaid}
	cases := []struct {
		name, ct, body string
		want           *iamport.WebhookEvent
		field          string // expected *ValidationError field
	}{
		{"json", "application/json", `{"imp_uid":"imp_1","merchant_uid":"m1","status":"paid"}`, full, ""},
		{"json with charset and unknown fields", "application/json; charset=utf-8",
			`{"imp_uid":"imp_1","merchant_uid":"m1","status":"paid","custom":{"a":[1,2]},"tier":null}`, full, ""},
		{"json with cancellation_id", "application/json",
			`{"imp_uid":"imp_1","merchant_uid":"m1","status":"cancelled","cancellation_id":"cx_1"}`,
			&iamport.WebhookEvent{ImpUID: "imp_1", MerchantUID: "m1", Status: iamport.PaymentCancelled, CancellationID: "cx_1"}, ""},
		{"json sniffed", "", ` {"imp_uid":"imp_1","merchant_uid":"m1","status":"paid"}`, full, ""},
		{"json as text/plain", "text/plain", `{"imp_uid":"imp_1","merchant_uid":"m1","status":"paid"}`, full, ""},
		{"form", "application/x-www-form-urlencoded", "imp_uid=imp_1&merchant_uid=m1&status=paid", full, ""},
		{"form sniffed, unknown fields", "", "imp_uid=imp_1&merchant_uid=m1&status=paid&extra=1", full, ""},
		{"form same value twice", "application/x-www-form-urlencoded", "imp_uid=imp_1&imp_uid=imp_1&merchant_uid=m1&status=paid", full, ""},
		{"only imp_uid", "application/json", `{"imp_uid":"imp_1"}`, &iamport.WebhookEvent{ImpUID: "imp_1"}, ""},
		{"exactly 64 KiB", "application/json", whPad(iamport.MaxWebhookBody), &iamport.WebhookEvent{ImpUID: "imp_1", MerchantUID: "m1"}, ""},

		{"empty", "application/json", "", nil, "body"},
		{"blank", "", "  \n", nil, "body"},
		{"missing imp_uid json", "application/json", `{"merchant_uid":"m1","status":"paid"}`, nil, "imp_uid"},
		{"empty imp_uid json", "application/json", `{"imp_uid":"","merchant_uid":"m1"}`, nil, "imp_uid"},
		{"missing imp_uid form", "application/x-www-form-urlencoded", "merchant_uid=m1&status=paid", nil, "imp_uid"},
		{"truncated json", "application/json", `{"imp_uid":"imp_1"`, nil, "body"},
		{"json array", "application/json", `[{"imp_uid":"imp_1"}]`, nil, "body"},
		{"imp_uid a number", "application/json", `{"imp_uid":12345}`, nil, "body"},
		{"data after the object", "application/json", `{"imp_uid":"imp_1"} {"imp_uid":"imp_2"}`, nil, "body"},
		{"form declared as json", "application/json", "imp_uid=imp_1&status=paid", nil, "body"},
		{"bad escape", "application/x-www-form-urlencoded", "imp_uid=%zz", nil, "body"},
		{"form conflicting values", "application/x-www-form-urlencoded", "imp_uid=imp_1&imp_uid=imp_2", nil, "imp_uid"},
		{"control character", "application/json", `{"imp_uid":"imp_1\n"}`, nil, "imp_uid"},
		{"merchant_uid too long", "application/json", `{"imp_uid":"imp_1","merchant_uid":"` + strings.Repeat("m", 41) + `"}`, nil, "merchant_uid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := iamport.ParseWebhook(whRequest(http.MethodPost, tc.ct, tc.body))
			if tc.want != nil {
				require.NoError(t, err)
				assert.Equal(t, tc.want, ev)
				return
			}
			require.Error(t, err)
			assert.Nil(t, ev)
			var ve *iamport.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
		})
	}
}

func TestParseWebhookTooLarge(t *testing.T) {
	t.Parallel()
	body := whPad(iamport.MaxWebhookBody + 1)
	_, err := iamport.ParseWebhook(whRequest(http.MethodPost, "application/json", body))
	assert.ErrorIs(t, err, iamport.ErrWebhookTooLarge)

	// Length unknown in advance (chunked): still cut at 64 KiB + 1.
	r := whRequest(http.MethodPost, "application/json", "")
	r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), -1
	_, err = iamport.ParseWebhook(r)
	assert.ErrorIs(t, err, iamport.ErrWebhookTooLarge)

	// A body without end is not read to its end.
	r = whRequest(http.MethodPost, "", "")
	r.Body, r.ContentLength = io.NopCloser(io.MultiReader(strings.NewReader("imp_uid="), whInfinite{})), -1
	_, err = iamport.ParseWebhook(r)
	assert.ErrorIs(t, err, iamport.ErrWebhookTooLarge)
}

type whInfinite struct{}

func (whInfinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func FuzzParseWebhook(f *testing.F) {
	f.Add("application/json", []byte(`{"imp_uid":"imp_1","merchant_uid":"m1","status":"paid"}`))
	f.Add("application/x-www-form-urlencoded", []byte("imp_uid=imp_1&merchant_uid=m1&status=paid&cancellation_id=c"))
	f.Add("", []byte(`{"imp_uid":"imp_1","status":"cancelled","cancellation_id":"x"}`))
	f.Add("text/plain; charset=\"", []byte("imp_uid=%FF&status=%00"))
	f.Add("application/json", []byte(`{"imp_uid":"\ud800"}`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		ev, err := iamport.ParseWebhook(r)
		if len(body) > iamport.MaxWebhookBody {
			if !errors.Is(err, iamport.ErrWebhookTooLarge) {
				t.Fatalf("%d bytes: %v", len(body), err)
			}
			return
		}
		if err != nil {
			if ev != nil || !errors.Is(err, iamport.ErrInvalidRequest) {
				t.Fatalf("event %v, error %v", ev, err)
			}
			return
		}
		if ev.ImpUID == "" {
			t.Fatal("event without imp_uid")
		}
		for _, s := range []string{ev.ImpUID, ev.MerchantUID, string(ev.Status), ev.CancellationID} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
				t.Fatalf("unclean field %q", s)
			}
		}
	})
}

// whRecorder records the calls of a webhook func.
type whRecorder struct {
	mu   sync.Mutex
	evs  []iamport.WebhookEvent
	ps   []*iamport.Payment
	fail error
}

func (w *whRecorder) fn(_ context.Context, ev *iamport.WebhookEvent, p *iamport.Payment) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.evs = append(w.evs, *ev)
	w.ps = append(w.ps, p)
	return w.fail
}

func (w *whRecorder) calls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.evs)
}

func whServe(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// whPaid is a fake with a client and a paid first charge of 1004 made in
// the payment window.
func whPaid(t *testing.T) (*iamporttest.Server, *iamport.Client, iamporttest.WindowResult) {
	t.Helper()
	s, c := ckFake(t)
	res := ckWindow(t, s, "order_w", "cust_w", 1004, "")
	require.True(t, res.Success, res.ErrorMsg)
	return s, c, res
}

func TestWebhookHandlerCallsFuncWithIamportsPayment(t *testing.T) {
	t.Parallel()
	s, c, res := whPaid(t)
	var rec whRecorder
	h := c.WebhookHandler(rec.fn)

	resp := whServe(h, whRequest(http.MethodPost, "application/json", `{"imp_uid":"`+res.ImpUID+`","merchant_uid":"order_w","status":"paid"}`))
	assert.Equal(t, http.StatusOK, resp.Code, resp.Body.String())
	require.Equal(t, 1, rec.calls())
	assert.Equal(t, iamport.WebhookEvent{ImpUID: res.ImpUID, MerchantUID: "order_w", Status: iamport.PaymentPaid}, rec.evs[0])
	assert.Equal(t, int64(1004), rec.ps[0].Amount)
	assert.Equal(t, "cust_w", rec.ps[0].CustomerUID)
	assert.Equal(t, 1, s.Requests(routeGetPayment), "the payment is re-fetched")

	// Form-encoded, as the console can be set to send.
	resp = whServe(h, whRequest(http.MethodPost, "application/x-www-form-urlencoded", "imp_uid="+res.ImpUID+"&merchant_uid=order_w&status=paid"))
	assert.Equal(t, http.StatusOK, resp.Code, resp.Body.String())
	// Only an imp_uid: fn gets Iamport's status.
	resp = whServe(h, whRequest(http.MethodPost, "", `{"imp_uid":"`+res.ImpUID+`"}`))
	assert.Equal(t, http.StatusOK, resp.Code, resp.Body.String())
	require.Equal(t, 3, rec.calls())
	assert.Equal(t, iamport.PaymentPaid, rec.evs[2].Status)
	assert.Equal(t, "order_w", rec.evs[2].MerchantUID)
}

func TestWebhookHandlerDuplicateDelivery(t *testing.T) {
	t.Parallel()
	_, c, res := whPaid(t)
	var rec whRecorder
	h := c.WebhookHandler(rec.fn)
	body := `{"imp_uid":"` + res.ImpUID + `","merchant_uid":"order_w","status":"paid"}`
	for range 2 {
		resp := whServe(h, whRequest(http.MethodPost, "application/json", body))
		require.Equal(t, http.StatusOK, resp.Code)
	}
	require.Equal(t, 2, rec.calls(), "a duplicate is delivered to fn again: fn must be idempotent")
	assert.Equal(t, rec.evs[0], rec.evs[1])
	assert.Equal(t, *rec.ps[0], *rec.ps[1])
}

func TestWebhookHandlerRefusals(t *testing.T) {
	t.Parallel()
	s, c, res := whPaid(t)
	s.DeclineCard("4000-0000-0000-0002", "한도초과")
	declined := ckWindow(t, s, "order_x", "cust_x", 1004, "4000-0000-0000-0002")
	require.False(t, declined.Success)
	require.NotEmpty(t, declined.ImpUID)

	var rec whRecorder
	h := c.WebhookHandler(rec.fn)
	lookups := func() int { return s.Requests(routeGetPayment) }

	cases := []struct {
		name       string
		method, ct string
		body       string
		status     int
		lookup     bool // whether the payment is fetched before the refusal
	}{
		{"GET", http.MethodGet, "", "", http.StatusMethodNotAllowed, false},
		{"PUT", http.MethodPut, "application/json", `{"imp_uid":"` + res.ImpUID + `"}`, http.StatusMethodNotAllowed, false},
		{"64 KiB + 1", http.MethodPost, "application/json", whPad(iamport.MaxWebhookBody + 1), http.StatusRequestEntityTooLarge, false},
		{"malformed", http.MethodPost, "application/json", `{"imp_uid":`, http.StatusBadRequest, false},
		{"missing imp_uid", http.MethodPost, "application/json", `{"merchant_uid":"order_w","status":"paid"}`, http.StatusBadRequest, false},
		{"empty body", http.MethodPost, "", "", http.StatusBadRequest, false},
		{"unknown imp_uid", http.MethodPost, "application/json", `{"imp_uid":"imp_999999999999","merchant_uid":"order_w","status":"paid"}`, http.StatusBadRequest, true},
		{"real imp_uid, another merchant_uid", http.MethodPost, "application/json", `{"imp_uid":"` + res.ImpUID + `","merchant_uid":"order_other","status":"paid"}`, http.StatusBadRequest, true},
		{"declined payment claimed paid", http.MethodPost, "application/json", `{"imp_uid":"` + declined.ImpUID + `","merchant_uid":"order_x","status":"paid"}`, http.StatusBadRequest, true},
		{"paid payment claimed cancelled", http.MethodPost, "application/x-www-form-urlencoded", "imp_uid=" + res.ImpUID + "&merchant_uid=order_w&status=cancelled", http.StatusBadRequest, true},
	}
	for _, tc := range cases {
		before := lookups()
		resp := whServe(h, whRequest(tc.method, tc.ct, tc.body))
		assert.Equal(t, tc.status, resp.Code, "%s: %s", tc.name, resp.Body.String())
		if tc.status == http.StatusMethodNotAllowed {
			assert.Equal(t, http.MethodPost, resp.Header().Get("Allow"), tc.name)
		}
		assert.Equal(t, tc.lookup, lookups() > before, "%s: lookup", tc.name)
	}
	assert.Zero(t, rec.calls(), "fn is never called for a refused notification")

	// The same handler still accepts the true notification of that payment.
	resp := whServe(h, whRequest(http.MethodPost, "application/json", `{"imp_uid":"`+declined.ImpUID+`","merchant_uid":"order_x","status":"failed"}`))
	assert.Equal(t, http.StatusOK, resp.Code)
	require.Equal(t, 1, rec.calls())
	assert.Equal(t, iamport.PaymentFailed, rec.ps[0].Status)
	assert.Equal(t, "한도초과", rec.ps[0].FailReason)
}

func TestWebhookHandlerFuncError(t *testing.T) {
	t.Parallel()
	_, c, res := whPaid(t)
	rec := whRecorder{fail: errors.New("database down")}
	resp := whServe(c.WebhookHandler(rec.fn), whRequest(http.MethodPost, "application/json", `{"imp_uid":"`+res.ImpUID+`","merchant_uid":"order_w","status":"paid"}`))
	assert.Equal(t, http.StatusInternalServerError, resp.Code)
	assert.NotContains(t, resp.Body.String(), "database down", "fn's error is not shown to the sender")
	assert.Equal(t, 1, rec.calls())
}

func TestWebhookHandlerIamportUnreachable(t *testing.T) {
	t.Parallel()
	gone, _ := ckFake(t)
	dead := gone.Client(iamport.WithRetryPolicy(iamport.RetryPolicy{MaxAttempts: 1}))
	gone.Close()
	var rec whRecorder
	resp := whServe(dead.WebhookHandler(rec.fn), whRequest(http.MethodPost, "application/json", `{"imp_uid":"imp_123","merchant_uid":"m1","status":"paid"}`))
	assert.Equal(t, http.StatusBadGateway, resp.Code, resp.Body.String())
	assert.Zero(t, rec.calls())

	// Iamport answering 500 (or HTML from a proxy) is 502 too.
	mc, mt := ckMock(t)
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/payments/imp_123", httpmock.NewStringResponder(500, "<html>oops</html>"))
	resp = whServe(mc.WebhookHandler(rec.fn), whRequest(http.MethodPost, "application/json", `{"imp_uid":"imp_123"}`))
	assert.Equal(t, http.StatusBadGateway, resp.Code)
	assert.Zero(t, rec.calls())
}

func TestWebhookHandlerCancellationID(t *testing.T) {
	t.Parallel()
	c, mt := ckMock(t)
	p := ckPayment("imp_c", "m_c", "cust_c", 1004, "KRW", "cancelled")
	p["cancel_amount"] = 1004
	p["cancel_history"] = []any{map[string]any{"pg_tid": "t1", "amount": 1004, "cancelled_at": 1700000100, "reason": "고객 요청", "cancellation_id": "cx_1", "receipt_url": ""}}
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/payments/imp_c", httpmock.ResponderFromResponse(ckEnvelope(200, p)))
	var rec whRecorder
	h := c.WebhookHandler(rec.fn)

	resp := whServe(h, whRequest(http.MethodPost, "application/json", `{"imp_uid":"imp_c","merchant_uid":"m_c","status":"cancelled","cancellation_id":"cx_1"}`))
	require.Equal(t, http.StatusOK, resp.Code)
	resp = whServe(h, whRequest(http.MethodPost, "application/json", `{"imp_uid":"imp_c","merchant_uid":"m_c","status":"cancelled","cancellation_id":"cx_forged"}`))
	require.Equal(t, http.StatusOK, resp.Code)
	require.Equal(t, 2, rec.calls())
	assert.Equal(t, "cx_1", rec.evs[0].CancellationID, "kept: Iamport's cancel history has it")
	assert.Empty(t, rec.evs[1].CancellationID, "dropped: not in Iamport's cancel history")
	assert.Equal(t, int64(0), rec.ps[0].Refundable())
}

func TestWebhookHandlerAllowList(t *testing.T) {
	t.Parallel()
	_, c, res := whPaid(t)
	body := `{"imp_uid":"` + res.ImpUID + `","merchant_uid":"order_w","status":"paid"}`
	post := func(remote string, hdr map[string]string) *http.Request {
		r := whRequest(http.MethodPost, "application/json", body)
		r.RemoteAddr = remote
		for k, v := range hdr {
			r.Header.Add(k, v)
		}
		return r
	}
	xff := func(v string) map[string]string { return map[string]string{"X-Forwarded-For": v} }
	fwd := func(v string) map[string]string { return map[string]string{"Forwarded": v} }
	iam := iamport.WithIamportIPs()
	lo := iamport.WithTrustedProxies(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	proxies := iamport.WithTrustedProxies(netip.MustParsePrefix("10.0.0.0/8"))
	cases := []struct {
		name   string
		opts   []iamport.WebhookOption
		req    *http.Request
		status int
	}{
		{"off by default", nil, post("198.51.100.7:1234", nil), http.StatusOK},
		{"iamport address", []iamport.WebhookOption{iam}, post("52.78.100.19:5000", nil), http.StatusOK},
		{"iamport address, v4-mapped v6", []iamport.WebhookOption{iam}, post("[::ffff:52.78.48.223]:5000", nil), http.StatusOK},
		{"other address", []iamport.WebhookOption{iam}, post("198.51.100.7:1234", nil), http.StatusForbidden},
		{"loopback", []iamport.WebhookOption{iam}, post("127.0.0.1:1234", nil), http.StatusForbidden},
		{"header ignored without trusted proxies", []iamport.WebhookOption{iam}, post("127.0.0.1:1234", xff("52.78.5.241")), http.StatusForbidden},
		{"trusted header name alone believes nothing", []iamport.WebhookOption{iam, iamport.WithTrustedProxyHeader("X-Forwarded-For")}, post("127.0.0.1:1234", xff("52.78.5.241")), http.StatusForbidden},
		{"direct peer's forged header ignored", []iamport.WebhookOption{iam, lo}, post("198.51.100.7:1234", xff("52.78.5.241")), http.StatusForbidden},
		{"direct iamport peer, garbage header ignored", []iamport.WebhookOption{iam, lo}, post("52.78.5.241:1234", map[string]string{"X-Real-IP": "not-an-ip"}), http.StatusOK},
		{"trusted proxy, proxy's entry", []iamport.WebhookOption{iam, lo, iamport.WithTrustedProxyHeader("x-forwarded-for")}, post("127.0.0.1:1234", xff("203.0.113.9, 52.78.5.241")), http.StatusOK},
		{"trusted proxy, any header", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1234", xff("203.0.113.9, 52.78.5.241")), http.StatusOK},
		{"trusted proxy, forged first entry", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1234", xff("52.78.5.241, 203.0.113.9")), http.StatusForbidden},
		{"chain walked past trusted hops", []iamport.WebhookOption{iam, lo, proxies}, post("127.0.0.1:1", xff("52.78.5.241, 10.1.2.3, 10.4.5.6")), http.StatusOK},
		{"chain stops at the first untrusted hop", []iamport.WebhookOption{iam, lo, proxies}, post("127.0.0.1:1", xff("52.78.5.241, 203.0.113.9, 10.4.5.6")), http.StatusForbidden},
		{"trusted peer without a header is judged itself", []iamport.WebhookOption{iamport.WithAllowedIPs(netip.MustParsePrefix("127.0.0.0/8")), lo}, post("127.0.0.1:1", nil), http.StatusOK},
		{"trusted peer, no header, not allowed", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", nil), http.StatusForbidden},
		{"trusted proxy, header garbage", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", map[string]string{"X-Real-IP": "not-an-ip"}), http.StatusForbidden},
		{"trusted proxy, unknown hop", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", xff("52.78.5.241, unknown")), http.StatusForbidden},
		{"X-Real-IP", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", map[string]string{"X-Real-IP": "52.78.48.223"}), http.StatusOK},
		{"Forwarded header, IPv6 with port", []iamport.WebhookOption{iamport.WithAllowedIPs(netip.MustParsePrefix("2001:db8::/32")), lo}, post("127.0.0.1:1", fwd(`for="[2001:db8:cafe::17]:4711";proto=https`)), http.StatusOK},
		{"Forwarded: for= inside another parameter's value", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", fwd("for=203.0.113.9;host=for=52.78.100.19")), http.StatusForbidden},
		{"Forwarded: quoted for= inside host", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", fwd(`for=203.0.113.9;host="for=52.78.100.19"`)), http.StatusForbidden},
		{"Forwarded: FOR= is for=", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", fwd(`FOR=52.78.100.19;proto=https`)), http.StatusOK},
		{"Forwarded: last element is the proxy's", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", fwd(`for=52.78.100.19, for=203.0.113.9`)), http.StatusForbidden},
		{"Forwarded: two for= in one element", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", fwd(`for=203.0.113.9;for=52.78.100.19`)), http.StatusForbidden},
		{"Forwarded: obfuscated hop", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", fwd(`for=52.78.100.19, for=_hidden`)), http.StatusForbidden},
		{"two headers that disagree", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", map[string]string{"Forwarded": "for=52.78.100.19", "X-Forwarded-For": "203.0.113.9"}), http.StatusForbidden},
		{"two headers that agree", []iamport.WebhookOption{iam, lo}, post("127.0.0.1:1", map[string]string{"Forwarded": "for=52.78.100.19", "X-Forwarded-For": "52.78.100.19"}), http.StatusOK},
		{"named header: the other is not read", []iamport.WebhookOption{iam, lo, iamport.WithTrustedProxyHeader("X-Forwarded-For")}, post("127.0.0.1:1", map[string]string{"Forwarded": "for=203.0.113.9", "X-Forwarded-For": "52.78.100.19"}), http.StatusOK},
		{"named header missing: the trusted peer itself", []iamport.WebhookOption{iam, lo, iamport.WithTrustedProxyHeader("X-Real-IP")}, post("127.0.0.1:1", xff("52.78.100.19")), http.StatusForbidden},
		{"own prefix", []iamport.WebhookOption{iamport.WithAllowedIPs(netip.MustParsePrefix("10.0.0.0/8"))}, post("10.20.30.40:1", nil), http.StatusOK},
		{"options add up", []iamport.WebhookOption{iamport.WithAllowedIPs(netip.MustParsePrefix("10.0.0.0/8")), iam}, post("52.78.100.19:1", nil), http.StatusOK},
		{"trusted header alone changes nothing", []iamport.WebhookOption{iamport.WithTrustedProxyHeader("X-Forwarded-For")}, post("198.51.100.7:1", xff("garbage")), http.StatusOK},
	}
	for _, tc := range cases {
		var rec whRecorder
		resp := whServe(c.WebhookHandler(rec.fn, tc.opts...), tc.req)
		assert.Equal(t, tc.status, resp.Code, "%s: %s", tc.name, resp.Body.String())
		assert.Equal(t, tc.status == http.StatusOK, rec.calls() == 1, tc.name)
	}
	assert.Len(t, iamport.IamportWebhookIPs(), 3)
	assert.True(t, iamport.IamportWebhookIPs()[0].Contains(netip.MustParseAddr("52.78.100.19")))
}

func TestWebhookHandlerDeliveredByFake(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, c := ckFake(t, iamporttest.WithWebhookURL(srv.URL+"/webhook"))
	var rec whRecorder
	mux.Handle("/webhook", c.WebhookHandler(rec.fn))

	res := ckWindow(t, s, "order_f", "cust_f", 1004, "")
	require.True(t, res.Success)
	s.WaitWebhooks()
	hooks := s.Webhooks()
	require.Len(t, hooks, 1)
	assert.Equal(t, http.StatusOK, hooks[0].StatusCode, hooks[0].Err)
	require.Equal(t, 1, rec.calls())
	assert.Equal(t, res.ImpUID, rec.evs[0].ImpUID)
	assert.Equal(t, iamport.PaymentPaid, rec.evs[0].Status)
	assert.Equal(t, int64(1004), rec.ps[0].Amount)
}

func TestWebhookHandlerLogsRefusalsWithoutSecrets(t *testing.T) {
	t.Parallel()
	var buf whBuffer
	s, _, res := whPaid(t)
	c := s.Client(iamport.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	var rec whRecorder
	resp := whServe(c.WebhookHandler(rec.fn), whRequest(http.MethodPost, "application/json", `{"imp_uid":"`+res.ImpUID+`","merchant_uid":"order_forged"}`))
	require.Equal(t, http.StatusBadRequest, resp.Code)
	out := buf.String()
	assert.Contains(t, out, "merchant_uid does not match")
	assert.Contains(t, out, res.ImpUID)
	assert.NotContains(t, out, s.APISecret)
}

func TestWebhookHandlerNilFunc(t *testing.T) {
	t.Parallel()
	_, c := ckFake(t)
	assert.Panics(t, func() { c.WebhookHandler(nil) })
}

type whBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *whBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *whBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWebhookHandlerNilBodyAndUndeclaredLength(t *testing.T) {
	srv := iamporttest.NewServer()
	defer srv.Close()
	called := false
	h := srv.Client().WebhookHandler(func(context.Context, *iamport.WebhookEvent, *iamport.Payment) error { called = true; return nil })

	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/webhook", nil)
	r.Body = nil
	require.NotPanics(t, func() { h.ServeHTTP(rec, r) })
	assert.Equal(t, http.StatusBadRequest, rec.Code)

	big := strings.NewReader(`{"imp_uid":"` + strings.Repeat("x", iamport.MaxWebhookBody) + `"}`)
	rec = httptest.NewRecorder()
	r = httptest.NewRequest(http.MethodPost, "/webhook", big)
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = -1 // chunked: the size is not declared
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.False(t, called)
	assert.Zero(t, srv.Requests("GET /payments/{imp_uid}"), "no lookup for a refused body")
}

// readTrap is a body that records whether anything read it.
type readTrap struct{ read bool }

func (b *readTrap) Read(p []byte) (int, error) { b.read = true; return 0, io.EOF }
func (b *readTrap) Close() error               { return nil }

func TestWebhookHandlerDeclaredLengthOverCapRefusedUnread(t *testing.T) {
	t.Parallel()
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	var rec whRecorder
	h := srv.Client().WebhookHandler(rec.fn)

	body := &readTrap{}
	r := httptest.NewRequest(http.MethodPost, "/webhook", nil)
	r.Body, r.ContentLength = body, iamport.MaxWebhookBody+1
	resp := whServe(h, r)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.Code)
	assert.False(t, body.read, "the body is not read")

	// At the cap exactly, the body is read.
	r = whRequest(http.MethodPost, "application/json", whPad(iamport.MaxWebhookBody))
	assert.Equal(t, int64(iamport.MaxWebhookBody), r.ContentLength)
	resp = whServe(h, r)
	assert.NotEqual(t, http.StatusRequestEntityTooLarge, resp.Code)
	lookups := srv.Requests(routeGetPayment)

	// Over a real connection: the client declares 10 MB and sends none of
	// it; the answer is 413 at once, without "100 Continue".
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: 10000000\r\nExpect: 100-continue\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	got, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer got.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, got.StatusCode)
	assert.Zero(t, rec.calls())
	assert.Equal(t, lookups, srv.Requests(routeGetPayment), "no lookup for a refused body")
}
