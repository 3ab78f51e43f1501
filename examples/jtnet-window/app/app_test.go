package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testAdminToken = "admin-token-for-tests-0123456789"

// testApp is the app on the embedded fake, served on a loopback port.
type testApp struct {
	*App
	url string
	hc  *http.Client // does not follow redirects
}

func startApp(t *testing.T) *testApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	a, err := New(Config{PublicURL: base, AdminToken: testAdminToken})
	require.NoError(t, err)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a}}
	srv.Start()
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &testApp{App: a, url: base, hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (ta *testApp) do(t *testing.T, method, path, contentType, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, ta.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := ta.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// adminAuth is the header that carries the admin token.
var adminAuth = []string{"Authorization", "Bearer " + testAdminToken}

// order creates an order as the page's script does.
func (ta *testApp) order(t *testing.T, plan string) payParams {
	t.Helper()
	resp, body := ta.do(t, http.MethodPost, "/orders", "application/x-www-form-urlencoded", url.Values{"plan": {plan}, "buyer_name": {"홍길동"}, "buyer_email": {"a@example.com"}}.Encode())
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var p payParams
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	return p
}

// window does what fake-iamport.js does: post to the stand-in window.
func (ta *testApp) window(t *testing.T, p payParams, card string, closed bool) map[string]any {
	t.Helper()
	b, _ := json.Marshal(fakeWindowRequest{PG: p.PG, MerchantUID: p.MerchantUID, Name: p.Name, Amount: p.Amount, CustomerUID: p.CustomerUID, BuyerName: p.BuyerName, CardNumber: card, Closed: closed})
	resp, body := ta.do(t, http.MethodPost, "/fake-iamport/request_pay", "application/json", string(b))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var rsp map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &rsp))
	return rsp
}

// callback posts the result as checkout.js does and follows to the result page.
func (ta *testApp) callback(t *testing.T, impUID, merchantUID string, success bool, msg string) (int, string) {
	t.Helper()
	flag := "false"
	if success {
		flag = "true"
	}
	resp, body := ta.do(t, http.MethodPost, "/complete", "application/x-www-form-urlencoded", url.Values{"imp_uid": {impUID}, "merchant_uid": {merchantUID}, "imp_success": {flag}, "error_msg": {msg}}.Encode())
	return ta.follow(t, resp, body)
}

func (ta *testApp) follow(t *testing.T, resp *http.Response, body string) (int, string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		return resp.StatusCode, body
	}
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/"), loc)
	resp, body = ta.do(t, http.MethodGet, loc, "", "", adminAuth...)
	return resp.StatusCode, body
}

func (ta *testApp) storedOrder(t *testing.T, merchantUID string) Order {
	t.Helper()
	o, ok, err := ta.Store().Order(context.Background(), merchantUID)
	require.NoError(t, err)
	require.True(t, ok)
	return o
}

func TestRegisterWithFirstChargePC(t *testing.T) {
	ta := startApp(t)
	p := ta.order(t, "first")
	assert.Equal(t, "jtnet", p.PG)
	assert.Equal(t, "card", p.PayMethod)
	assert.Equal(t, int64(1004), p.Amount)
	assert.Equal(t, ta.url+"/complete/mobile", p.MRedirectURL)
	assert.LessOrEqual(t, len(p.MerchantUID), 40)

	rsp := ta.window(t, p, "", false)
	require.Equal(t, true, rsp["success"], rsp)
	status, page := ta.callback(t, rsp["imp_uid"].(string), p.MerchantUID, true, "")
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "정기결제 등록 완료")
	assert.Contains(t, page, "1,004원")

	sub, ok, _ := ta.Store().Subscription(context.Background(), p.CustomerUID)
	require.True(t, ok)
	assert.Equal(t, "신한카드", sub.CardName)
	assert.NotContains(t, sub.CardNumber, "0230-1234")
	assert.Equal(t, OrderDone, ta.storedOrder(t, p.MerchantUID).Status)
	assert.Equal(t, 1, ta.Fake().Charges(p.MerchantUID))
	_, hasKey := ta.Fake().BillingKey(p.CustomerUID)
	assert.True(t, hasKey)

	// A second post of the same result (reload, double click) changes nothing.
	status, page = ta.callback(t, rsp["imp_uid"].(string), p.MerchantUID, true, "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "정기결제 등록 완료")

	// Charge now: AgainPayment on the stored key (an admin action).
	resp, body := ta.do(t, http.MethodPost, "/subscriptions/"+p.CustomerUID+"/charge", "", "", adminAuth...)
	status, page = ta.follow(t, resp, body)
	require.Equal(t, http.StatusOK, status, page)
	sub, _, _ = ta.Store().Subscription(context.Background(), p.CustomerUID)
	require.Len(t, sub.Charges, 1)
	assert.Equal(t, "paid", sub.Charges[0].Status)
	assert.Equal(t, 1, ta.Fake().Charges(sub.Charges[0].MerchantUID))
	assert.Contains(t, page, sub.Charges[0].MerchantUID)

	// A declined charge is recorded as failed with its reason.
	ta.Fake().DeclineCustomer(p.CustomerUID, "잔액부족")
	resp, body = ta.do(t, http.MethodPost, "/subscriptions/"+p.CustomerUID+"/charge", "", "", adminAuth...)
	status, page = ta.follow(t, resp, body)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "잔액부족")
	sub, _, _ = ta.Store().Subscription(context.Background(), p.CustomerUID)
	require.Len(t, sub.Charges, 2)
	assert.Equal(t, "failed", sub.Charges[1].Status)

	_, index := ta.do(t, http.MethodGet, "/", "", "")
	assert.NotContains(t, index, p.CustomerUID, "the public page lists no subscription")
	_, admin := ta.do(t, http.MethodGet, "/admin", "", "", adminAuth...)
	assert.Contains(t, admin, "/subscriptions/"+p.CustomerUID)
}

func TestRegisterKeyOnlyMobileRedirect(t *testing.T) {
	ta := startApp(t)
	p := ta.order(t, "key")
	assert.Equal(t, int64(0), p.Amount)
	rsp := ta.window(t, p, "", false)
	require.Equal(t, true, rsp["success"], rsp)
	q := url.Values{"imp_uid": {rsp["imp_uid"].(string)}, "merchant_uid": {p.MerchantUID}, "imp_success": {"true"}}
	resp, body := ta.do(t, http.MethodGet, "/complete/mobile?"+q.Encode(), "", "")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	status, page := ta.follow(t, resp, body)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "정기결제 등록 완료")
	assert.Contains(t, page, "빌링키만 발급")
	o := ta.storedOrder(t, p.MerchantUID)
	assert.Equal(t, OrderDone, o.Status)
	assert.Equal(t, "redirect", o.VerifiedBy)
	_, ok, _ := ta.Store().Subscription(context.Background(), p.CustomerUID)
	assert.True(t, ok)
}

func TestBrowserIsNotTrusted(t *testing.T) {
	ta := startApp(t)
	ctx := context.Background()

	// Success claimed for a key-only order that never went through the window.
	p := ta.order(t, "key")
	status, page := ta.callback(t, "imp_123456789012", p.MerchantUID, true, "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "결제 실패")
	_, ok, _ := ta.Store().Subscription(ctx, p.CustomerUID)
	assert.False(t, ok)

	// Success claimed with the imp_uid of another, paid order.
	paid := ta.order(t, "first")
	rsp := ta.window(t, paid, "", false)
	require.Equal(t, true, rsp["success"])
	other := ta.order(t, "first")
	status, page = ta.callback(t, rsp["imp_uid"].(string), other.MerchantUID, true, "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "결제 실패")
	assert.Contains(t, page, "merchant_uid")
	assert.Equal(t, OrderFailed, ta.storedOrder(t, other.MerchantUID).Status)
	_, ok, _ = ta.Store().Subscription(ctx, other.CustomerUID)
	assert.False(t, ok)

	// Success claimed for a declined window.
	declined := ta.order(t, "first")
	rsp = ta.window(t, declined, DeclinedTestCard, false)
	require.Equal(t, false, rsp["success"])
	status, page = ta.callback(t, rsp["imp_uid"].(string), declined.MerchantUID, true, "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "결제가 완료되지 않았습니다 (failed)")

	// Unknown order, malformed result.
	status, _ = ta.callback(t, "imp_1", "order_nope", true, "")
	assert.Equal(t, http.StatusNotFound, status)
	resp, _ := ta.do(t, http.MethodGet, "/complete/mobile?merchant_uid=x&imp_success=maybe", "", "")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestWindowFailures(t *testing.T) {
	ta := startApp(t)
	for _, tc := range []struct {
		name, card string
		closed     bool
		msg        string
	}{
		{"declined", DeclinedTestCard, false, DeclineReason},
		{"closed", "", true, "사용자가 결제를 취소하셨습니다"},
	} {
		p := ta.order(t, "first")
		rsp := ta.window(t, p, tc.card, tc.closed)
		require.Equal(t, false, rsp["success"], tc.name)
		assert.Equal(t, tc.msg, rsp["error_msg"], tc.name)
		imp, _ := rsp["imp_uid"].(string)
		status, page := ta.callback(t, imp, p.MerchantUID, false, tc.msg)
		require.Equal(t, http.StatusOK, status, tc.name)
		assert.Contains(t, page, "결제 실패", tc.name)
		assert.Contains(t, page, tc.msg, tc.name)
		assert.Equal(t, OrderFailed, ta.storedOrder(t, p.MerchantUID).Status, tc.name)
		_, ok, _ := ta.Store().Subscription(context.Background(), p.CustomerUID)
		assert.False(t, ok, tc.name)
		_, hasKey := ta.Fake().BillingKey(p.CustomerUID)
		assert.False(t, hasKey, tc.name)
	}
}

func TestWebhookCompletesAbandonedOrder(t *testing.T) {
	ta := startApp(t)
	p := ta.order(t, "first")
	rsp := ta.window(t, p, "", false)
	require.Equal(t, true, rsp["success"])
	// The browser never comes back; Iamport's webhook arrives.
	ta.Fake().WaitWebhooks()
	hooks := ta.Fake().Webhooks()
	require.NotEmpty(t, hooks)
	assert.Equal(t, http.StatusOK, hooks[len(hooks)-1].StatusCode, hooks[len(hooks)-1].Err)
	o := ta.storedOrder(t, p.MerchantUID)
	assert.Equal(t, OrderDone, o.Status)
	assert.Equal(t, "webhook", o.VerifiedBy)
	_, ok, _ := ta.Store().Subscription(context.Background(), p.CustomerUID)
	assert.True(t, ok)

	// A forged notification is refused by WebhookHandler.
	resp, _ := ta.do(t, http.MethodPost, "/webhook/iamport", "application/json", `{"imp_uid":"`+rsp["imp_uid"].(string)+`","merchant_uid":"order_forged","status":"paid"}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = ta.do(t, http.MethodGet, "/webhook/iamport", "", "")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestStaticAndModes(t *testing.T) {
	ta := startApp(t)
	resp, body := ta.do(t, http.MethodGet, "/", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `src="/static/fake-iamport.js"`)
	assert.Contains(t, body, "정기결제 등록")
	for _, path := range []string{"/static/fake-iamport.js", "/static/checkout.js"} {
		resp, body := ta.do(t, http.MethodGet, path, "", "")
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), "javascript", path)
		assert.Contains(t, body, "request_pay", path)
	}
	resp, _ = ta.do(t, http.MethodPost, "/orders", "application/x-www-form-urlencoded", "plan=free")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	// With credentials: the real SDK and no stand-in. Nothing is sent to
	// Iamport to render the page.
	_, err := New(Config{APIKey: "k", APISecret: "s", PublicURL: "https://shop.example.com"})
	assert.Error(t, err, "IMP code required")
	_, err = New(Config{APIKey: "k", PublicURL: "https://shop.example.com"})
	assert.Error(t, err)
	live, err := New(Config{APIKey: "k", APISecret: "s", IMPCode: "imp12345678", APIBaseURL: "http://127.0.0.1:1", PublicURL: "https://shop.example.com"})
	require.NoError(t, err)
	defer live.Close()
	assert.Nil(t, live.Fake())
	rec := httptest.NewRecorder()
	live.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Contains(t, rec.Body.String(), DefaultSDKURL)
	assert.Contains(t, rec.Body.String(), `data-imp-code="imp12345678"`)
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/static/fake-iamport.js", nil),
		httptest.NewRequest(http.MethodPost, "/fake-iamport/request_pay", bytes.NewReader([]byte("{}"))),
	} {
		rec := httptest.NewRecorder()
		live.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusNotFound, rec.Code, r.URL.Path)
	}
}

func TestWon(t *testing.T) {
	for in, want := range map[int64]string{0: "0원", 1004: "1,004원", 999: "999원", 1000000: "1,000,000원", -1500: "-1,500원"} {
		assert.Equal(t, want, won(in))
	}
}
