package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// registered is a customer with a stored subscription (key and first charge).
func registered(t *testing.T, ta *testApp) payParams {
	t.Helper()
	p := ta.order(t, "first")
	rsp := ta.window(t, p, "", false)
	require.Equal(t, true, rsp["success"], rsp)
	status, page := ta.callback(t, rsp["imp_uid"].(string), p.MerchantUID, true, "")
	require.Equal(t, http.StatusOK, status, page)
	require.Equal(t, OrderDone, ta.storedOrder(t, p.MerchantUID).Status)
	return p
}

func (ta *testApp) charges(t *testing.T, customerUID string) int {
	t.Helper()
	sub, ok, err := ta.Store().Subscription(context.Background(), customerUID)
	require.NoError(t, err)
	require.True(t, ok)
	return len(sub.Charges)
}

// adminCookie signs in with the token and returns the session cookie.
func (ta *testApp) adminCookie(t *testing.T) string {
	t.Helper()
	resp, body := ta.do(t, http.MethodPost, "/admin/login", "application/x-www-form-urlencoded", "token="+url.QueryEscape(testAdminToken))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	for _, c := range resp.Cookies() {
		if c.Name == adminCookie {
			assert.True(t, c.HttpOnly)
			assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func TestCrossSitePostRefused(t *testing.T) {
	ta := startApp(t)
	p := registered(t, ta)
	cookie := ta.adminCookie(t)
	charge := "/subscriptions/" + p.CustomerUID + "/charge"

	// A page on another site posts the "charge now" form with the admin's
	// cookie (as a browser would attach it): refused, nothing charged.
	for _, hdr := range [][]string{
		{"Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
		{"Cookie", cookie, "Sec-Fetch-Site", "same-site", "Origin", "http://127.0.0.1:1"}, // another port on this host
		{"Cookie", cookie, "Origin", "https://evil.example"},                              // an older browser: no Sec-Fetch-Site
		{"Cookie", cookie, "Origin", "null"},
	} {
		resp, body := ta.do(t, http.MethodPost, charge, "application/x-www-form-urlencoded", "", hdr...)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%v: %s", hdr, body)
	}
	assert.Equal(t, 0, ta.charges(t, p.CustomerUID), "no cross-site post charged")

	// Other state-changing routes too: orders, the completion post, sign-in.
	for _, path := range []string{"/orders", "/complete", "/admin/login", "/admin/logout"} {
		resp, _ := ta.do(t, http.MethodPost, path, "application/x-www-form-urlencoded", "plan=key", "Sec-Fetch-Site", "cross-site")
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, path)
	}

	// The same post from the app's own page goes through.
	resp, body := ta.do(t, http.MethodPost, charge, "application/x-www-form-urlencoded", "", "Cookie", cookie, "Sec-Fetch-Site", "same-origin", "Origin", ta.url)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	assert.Equal(t, 1, ta.charges(t, p.CustomerUID))
	resp, body = ta.do(t, http.MethodPost, charge, "", "", "Cookie", cookie, "Origin", ta.url)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	assert.Equal(t, 2, ta.charges(t, p.CustomerUID))

	// Iamport's webhook is server to server: no browser headers to check,
	// and WebhookHandler verifies it with Iamport.
	resp, _ = ta.do(t, http.MethodPost, "/webhook/iamport", "application/json", `{"imp_uid":"imp_nope"}`, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "reaches the handler, which refuses an unknown imp_uid")
}

func TestAdminNeedsAuthentication(t *testing.T) {
	ta := startApp(t)
	p := registered(t, ta)
	charge := "/subscriptions/" + p.CustomerUID + "/charge"
	for _, hdr := range [][]string{
		nil,
		{"Authorization", "Bearer wrong-token-wrong-token"},
		{"Authorization", "Bearer " + testAdminToken + "x"},
		{"Authorization", "Basic " + testAdminToken},
		{"Cookie", adminCookie + "=forged"},
	} {
		resp, body := ta.do(t, http.MethodPost, charge, "", "", hdr...)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%v: %s", hdr, body)
		for _, path := range []string{"/admin", "/subscriptions/" + p.CustomerUID} {
			resp, body := ta.do(t, http.MethodGet, path, "", "", hdr...)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
			assert.NotContains(t, body, p.CustomerUID, path)
		}
	}
	assert.Equal(t, 0, ta.charges(t, p.CustomerUID), "no unauthenticated charge")

	// A wrong token at sign-in sets no cookie.
	resp, _ := ta.do(t, http.MethodPost, "/admin/login", "application/x-www-form-urlencoded", "token=guess")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Empty(t, resp.Cookies())

	// Signed in: the list, the subscription, and "charge now".
	cookie := ta.adminCookie(t)
	resp, body := ta.do(t, http.MethodGet, "/admin", "", "", "Cookie", cookie)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, p.CustomerUID)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	resp, _ = ta.do(t, http.MethodPost, charge, "", "", "Cookie", cookie)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, 1, ta.charges(t, p.CustomerUID))

	// Without an admin token configured, the admin pages refuse everyone.
	closed, err := New(Config{PublicURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	defer closed.Close()
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/admin", nil),
		httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader("token=")),
	} {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", "Bearer ")
		rec := httptest.NewRecorder()
		closed.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, r.URL.Path)
	}
	_, err = New(Config{PublicURL: "http://127.0.0.1:1", AdminToken: "short"})
	assert.Error(t, err, "a short admin token is refused")
}

func TestPublicPagesShowNoCustomerUID(t *testing.T) {
	ta := startApp(t)
	p := registered(t, ta)
	other := registered(t, ta)
	for _, path := range []string{"/", "/orders/" + p.MerchantUID, "/?mobile=1"} {
		resp, err := http.Get(ta.url + path) // no admin credentials
		require.NoError(t, err)
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		for _, cuid := range []string{p.CustomerUID, other.CustomerUID} {
			assert.NotContains(t, b.String(), cuid, path)
		}
		assert.NotContains(t, b.String(), other.MerchantUID, path)
		assert.NotContains(t, b.String(), "/subscriptions/", path)
	}
}

func TestBrowserFailureThenGenuineSuccessCompletes(t *testing.T) {
	ta := startApp(t)
	ctx := context.Background()

	// 1. Key and first charge: the browser says the window failed (no
	// payment yet); later the payment goes through and Iamport's webhook
	// completes the order.
	p := ta.order(t, "first")
	status, page := ta.callback(t, "", p.MerchantUID, false, "네트워크 오류")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "결제 실패")
	require.Equal(t, OrderFailed, ta.storedOrder(t, p.MerchantUID).Status)
	rsp := ta.window(t, p, "", false)
	require.Equal(t, true, rsp["success"], rsp)
	ta.Fake().WaitWebhooks()
	o := ta.storedOrder(t, p.MerchantUID)
	assert.Equal(t, OrderDone, o.Status)
	assert.Equal(t, "webhook", o.VerifiedBy)
	assert.Equal(t, rsp["imp_uid"], o.ImpUID)
	_, ok, _ := ta.Store().Subscription(ctx, p.CustomerUID)
	assert.True(t, ok, "subscription stored")
	// A late failure report changes nothing.
	status, page = ta.callback(t, "", p.MerchantUID, false, "늦은 실패")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "정기결제 등록 완료")

	// 2. Key only (no webhook for amount 0): the window issued the key but
	// the browser reports a failure; the app asks Iamport and completes.
	k := ta.order(t, "key")
	rsp = ta.window(t, k, "", false)
	require.Equal(t, true, rsp["success"], rsp)
	status, page = ta.callback(t, "", k.MerchantUID, false, "브라우저가 실패라고 함")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "정기결제 등록 완료")
	o = ta.storedOrder(t, k.MerchantUID)
	assert.Equal(t, OrderDone, o.Status)
	assert.Equal(t, "callback", o.VerifiedBy)

	// 3. First charge paid, browser says failed: done, whichever of the
	// report and the webhook comes first.
	f := ta.order(t, "first")
	rsp = ta.window(t, f, "", false)
	require.Equal(t, true, rsp["success"], rsp)
	status, page = ta.callback(t, "", f.MerchantUID, false, "실패")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "정기결제 등록 완료")
	ta.Fake().WaitWebhooks()
	assert.Equal(t, OrderDone, ta.storedOrder(t, f.MerchantUID).Status)
	assert.Equal(t, 1, ta.Fake().Charges(f.MerchantUID))
}

func TestSecurityHeaders(t *testing.T) {
	ta := startApp(t)
	p := ta.order(t, "key")
	for _, path := range []string{"/", "/orders/" + p.MerchantUID, "/orders/nope", "/admin", "/admin/login", "/static/checkout.js"} {
		resp, _ := ta.do(t, http.MethodGet, path, "", "")
		csp := resp.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "frame-ancestors 'none'", path)
		assert.Contains(t, csp, "default-src 'self'", path)
		assert.NotContains(t, csp, "script-src 'self' 'unsafe-inline'", path)
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
	}
	assert.Contains(t, contentSecurityPolicy(DefaultSDKURL), "https://cdn.iamport.kr")
}

func TestPublicURLRequired(t *testing.T) {
	for _, u := range []string{"", "/shop", "shop.example.com", "ftp://shop.example.com", "https://user:pw@shop.example.com", "https://"} {
		_, err := New(Config{PublicURL: u})
		assert.Error(t, err, u)
	}
	// notice_url and m_redirect_url come from PublicURL, whatever Host says.
	ta := startApp(t)
	resp, body := ta.do(t, http.MethodPost, "/orders", "application/x-www-form-urlencoded", "plan=key", "Host", "evil.example")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.NotContains(t, body, "evil.example")
	assert.Contains(t, body, ta.url+"/webhook/iamport")
	assert.Contains(t, body, ta.url+"/complete/mobile")
}

func TestOrderStoreBounded(t *testing.T) {
	store := NewMemStoreSize(3)
	a, err := New(Config{PublicURL: "http://127.0.0.1:1", Store: store})
	require.NoError(t, err)
	defer a.Close()
	post := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader("plan=key"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, r)
		return rec
	}
	for range 3 {
		require.Equal(t, http.StatusOK, post().Code)
	}
	for range 5 {
		assert.Equal(t, http.StatusServiceUnavailable, post().Code, "recent pending orders are kept; new ones wait")
	}
	assert.Equal(t, 3, store.Orders())

	// A failed order makes room; an expired pending one too.
	ctx := context.Background()
	var some Order
	store.mu.Lock()
	for _, o := range store.orders {
		some = o
		break
	}
	store.mu.Unlock()
	some.Status = OrderFailed
	require.NoError(t, store.PutOrder(ctx, some))
	assert.Equal(t, http.StatusOK, post().Code)
	assert.Equal(t, 3, store.Orders())
	_, ok, _ := store.Order(ctx, some.MerchantUID)
	assert.False(t, ok, "the failed order was dropped")
	store.now = func() time.Time { return time.Now().Add(PendingOrderTTL + time.Minute) }
	assert.Equal(t, http.StatusOK, post().Code)
	assert.Equal(t, 3, store.Orders())
}
