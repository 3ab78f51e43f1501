package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billingkr/iamport-go/examples/jtnet-window/app"
	"github.com/billingkr/iamport-go/iamporttest"
)

const adminToken = "e2e-admin-token-0123456789abcdef"

// env is the example app on the embedded fake, served on a random loopback
// port, with a record of what the browser sent to the completion routes.
type env struct {
	app *app.App
	url string

	mu   sync.Mutex
	hits []hit
}

// hit is one request of the browser to /complete (the PC callback's post)
// or /complete/mobile (m_redirect_url).
type hit struct {
	method, path string
	values       url.Values // the query, or the posted form
}

func startApp(t *testing.T) *env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	e := &env{url: "http://" + ln.Addr().String()}
	e.app, err = app.New(app.Config{PublicURL: e.url, AdminToken: adminToken})
	require.NoError(t, err)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(e.serve)}}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		e.app.Close()
	})
	return e
}

func (e *env) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/complete") {
		h := hit{method: r.Method, path: r.URL.Path, values: r.URL.Query()}
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
			r.Body = io.NopCloser(bytes.NewReader(b))
			h.values, _ = url.ParseQuery(string(b))
		}
		e.mu.Lock()
		e.hits = append(e.hits, h)
		e.mu.Unlock()
	}
	e.app.ServeHTTP(w, r)
}

// hitsFor returns the completion requests made for one merchant_uid.
func (e *env) hitsFor(merchantUID string) []hit {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []hit
	for _, h := range e.hits {
		if h.values.Get("merchant_uid") == merchantUID {
			out = append(out, h)
		}
	}
	return out
}

// chromiumPath finds Chromium, or skips the test (fails it under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("CHROMIUM_PATH"), "/usr/bin/chromium"}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal("chromium not found, and CI is set: this test must run in CI (apt-get install -y chromium, or set CHROMIUM_PATH)")
	}
	t.Skip("chromium not found: apt-get install -y chromium")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile; it stops with
// the test.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx
		t.Fatalf("starting chromium at %s: %v", path, err)
	}
	return ctx
}

// tab opens a new tab whose uncaught JavaScript exceptions fail the test.
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	var mu sync.Mutex
	var exceptions []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if ex, ok := ev.(*runtime.EventExceptionThrown); ok {
			d := ex.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			mu.Lock()
			exceptions = append(exceptions, fmt.Sprintf("%s:%d %s", d.URL, d.LineNumber+1, text))
			mu.Unlock()
		}
	}))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		assert.Empty(t, exceptions, "uncaught JavaScript exceptions")
	})
	tctx, tcancel := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(tcancel)
	return tctx
}

// page is what the result page shows.
type page struct {
	location, heading, merchantUID, customerUID, body string
}

// register fills the form, opens the stand-in window, and either pays with
// card or closes the window; it returns the result page.
func register(t *testing.T, ctx context.Context, e *env, plan string, mobile bool, card string, closeWindow bool) page {
	t.Helper()
	start := e.url + "/"
	if mobile {
		start += "?mobile=1"
	}
	button := "#imp-standin-pay"
	if closeWindow {
		button = "#imp-standin-close"
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(start),
		chromedp.WaitVisible(chromedp.CSS("#subscribe-form")),
		chromedp.Click(chromedp.CSS("#plan-"+plan)),
		chromedp.Click(chromedp.CSS("#subscribe")),
		chromedp.WaitVisible(chromedp.CSS("#imp-standin-window")),
		chromedp.SetValue(chromedp.CSS("#imp-standin-card"), card),
		chromedp.Click(chromedp.CSS(button)),
		chromedp.WaitVisible(chromedp.CSS("#result")),
	))
	var p page
	var err error
	read := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return strings.TrimSpace(s)
	}
	p.heading = read("#result h1")
	p.merchantUID = read("#merchant-uid")
	p.body = read("#result")
	// The result page shows no customer_uid: the test takes it from the
	// app's store.
	o, ok, err := e.app.Store().Order(context.Background(), p.merchantUID)
	require.NoError(t, err)
	require.True(t, ok, "order %s stored", p.merchantUID)
	p.customerUID = o.CustomerUID
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	require.NoError(t, err)
	assert.NotContains(t, html, p.customerUID, "the result page shows no customer_uid")
	p.location, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return p
}

func TestPaymentWindowInChromium(t *testing.T) {
	path := chromiumPath(t)
	e := startApp(t)
	browser := newBrowser(t, path)
	fake := e.app.Fake()
	require.NotNil(t, fake)
	bg := context.Background()

	for _, tc := range []struct {
		name   string
		plan   string // key (amount 0) or first (amount 1004)
		amount int64
		mobile bool
	}{
		{"amount 0, PC callback", "key", 0, false},
		{"amount 1004, PC callback", "first", 1004, false},
		{"amount 0, mobile redirect", "key", 0, true},
		{"amount 1004, mobile redirect", "first", 1004, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tab(t, browser)
			p := register(t, ctx, e, tc.plan, tc.mobile, app.GoodTestCard, false)

			assert.Equal(t, "정기결제 등록 완료", p.heading, p.body)
			assert.Equal(t, e.url+"/orders/"+p.merchantUID, p.location)
			require.NotEmpty(t, p.merchantUID)
			require.NotEmpty(t, p.customerUID)

			// The browser reported through the channel of its mode, exactly as
			// the real window does.
			hits := e.hitsFor(p.merchantUID)
			require.Len(t, hits, 1, "%+v", hits)
			if tc.mobile {
				assert.Equal(t, "GET /complete/mobile", hits[0].method+" "+hits[0].path)
			} else {
				assert.Equal(t, "POST /complete", hits[0].method+" "+hits[0].path)
			}
			assert.Equal(t, "true", hits[0].values.Get("imp_success"))
			impUID := hits[0].values.Get("imp_uid")
			assert.NotEmpty(t, impUID)

			// The fake: a billing key for the customer_uid; for 1004 the first
			// payment, paid.
			key, ok := fake.BillingKey(p.customerUID)
			require.True(t, ok, "billing key registered at the fake")
			assert.Equal(t, "jtnet", key.PGProvider)
			pays := fake.PaymentsByMerchantUID(p.merchantUID)
			require.Len(t, pays, 1)
			assert.Equal(t, impUID, pays[0].ImpUID)
			assert.Equal(t, "paid", pays[0].Status)
			assert.Equal(t, tc.amount, pays[0].Amount)
			assert.Equal(t, p.customerUID, pays[0].CustomerUID)

			// The app: the order is done and the subscription stored.
			o, ok, err := e.app.Store().Order(bg, p.merchantUID)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, app.OrderDone, o.Status)
			sub, ok, err := e.app.Store().Subscription(bg, p.customerUID)
			require.NoError(t, err)
			require.True(t, ok, "subscription stored")
			assert.Equal(t, key.CardNumber, sub.CardNumber)
			assert.Contains(t, p.body, key.CardNumber)
			if tc.amount > 0 {
				assert.Equal(t, 1, fake.Charges(p.merchantUID))
				assert.Contains(t, p.body, "1,004원")
				assert.Equal(t, impUID, o.ImpUID)
				// Iamport's webhook for the first charge reached the app's
				// WebhookHandler and was accepted.
				fake.WaitWebhooks()
				assert.True(t, webhookAccepted(fake.Webhooks(), impUID), "webhook for %s answered 200", impUID)
			} else {
				assert.Contains(t, p.body, "빌링키만 발급")
			}

			if tc.amount > 0 && !tc.mobile {
				// "Charge now": AgainPayment on the stored key, by the
				// signed-in admin.
				adminLogin(t, ctx, e)
				require.NoError(t, chromedp.Do(ctx,
					chromedp.Navigate(e.url+"/subscriptions/"+p.customerUID),
					chromedp.WaitVisible(chromedp.CSS("#charge-now")),
					chromedp.Click(chromedp.CSS("#charge-now")),
					// The page already has the table: wait for the new row.
					chromedp.WaitVisible(chromedp.CSS("#charges tr.paid")),
				))
				charges, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#charges")))
				require.NoError(t, err)
				sub, _, err = e.app.Store().Subscription(bg, p.customerUID)
				require.NoError(t, err)
				require.Len(t, sub.Charges, 1)
				assert.Equal(t, "paid", sub.Charges[0].Status)
				assert.Contains(t, charges, sub.Charges[0].MerchantUID)
				assert.Contains(t, charges, "paid")
				assert.Equal(t, 1, fake.Charges(sub.Charges[0].MerchantUID))
			}
		})
	}

	for _, tc := range []struct {
		name        string
		plan        string
		mobile      bool
		card        string
		closeWindow bool
		reason      string
	}{
		{"declined card, PC callback", "first", false, app.DeclinedTestCard, false, app.DeclineReason},
		{"declined card, mobile redirect", "key", true, app.DeclinedTestCard, false, app.DeclineReason},
		{"closed window, PC callback", "key", false, app.GoodTestCard, true, "사용자가 결제를 취소하셨습니다"},
		{"closed window, mobile redirect", "first", true, app.GoodTestCard, true, "사용자가 결제를 취소하셨습니다"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tab(t, browser)
			p := register(t, ctx, e, tc.plan, tc.mobile, tc.card, tc.closeWindow)

			assert.Equal(t, "결제 실패", p.heading, p.body)
			assert.Contains(t, p.body, tc.reason)
			hits := e.hitsFor(p.merchantUID)
			require.Len(t, hits, 1, "%+v", hits)
			assert.Equal(t, tc.mobile, hits[0].path == "/complete/mobile")
			assert.Equal(t, "false", hits[0].values.Get("imp_success"))
			assert.Equal(t, tc.reason, hits[0].values.Get("error_msg"))

			// Nothing stored, at the fake or in the app.
			_, hasKey := fake.BillingKey(p.customerUID)
			assert.False(t, hasKey, "no billing key")
			for _, pay := range fake.PaymentsByMerchantUID(p.merchantUID) {
				assert.NotEqual(t, "paid", pay.Status)
			}
			if tc.closeWindow {
				assert.Empty(t, fake.PaymentsByMerchantUID(p.merchantUID), "a closed window makes no payment")
			}
			_, ok, err := e.app.Store().Subscription(bg, p.customerUID)
			require.NoError(t, err)
			assert.False(t, ok, "no subscription stored")
			o, ok, err := e.app.Store().Order(bg, p.merchantUID)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, app.OrderFailed, o.Status)
		})
	}
}

func webhookAccepted(hooks []iamporttest.Webhook, impUID string) bool {
	for _, h := range hooks {
		if h.ImpUID == impUID && h.StatusCode == http.StatusOK {
			return true
		}
	}
	return false
}

// adminLogin signs the browser in at /admin/login with the admin token.
func adminLogin(t *testing.T, ctx context.Context, e *env) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS("#admin-token")),
		chromedp.SetValue(chromedp.CSS("#admin-token"), adminToken),
		chromedp.Click(chromedp.CSS("#admin-login")),
		chromedp.WaitVisible(chromedp.CSS("#admin")),
	))
}

// attacker serves a page of another origin (another loopback port: another
// origin, the same site) that posts a form to target when loaded.
func attacker(t *testing.T, target string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s"><input name="x" value="1"></form>
<script>document.getElementById('f').submit()</script>`, target)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// waitAnswer waits until the attacker's self-posting form has brought the
// browser to the app's answer, and returns the answer's text.
func waitAnswer(t *testing.T, ctx context.Context, e *env) string {
	t.Helper()
	require.Eventually(t, func() bool {
		l, err := chromedp.Run(ctx, chromedp.Location())
		return err == nil && strings.HasPrefix(l, e.url)
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("body"))))
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	require.NoError(t, err)
	return body
}

func TestAttacksInChromium(t *testing.T) {
	path := chromiumPath(t)
	e := startApp(t)
	browser := newBrowser(t, path)
	fake := e.app.Fake()
	bg := context.Background()

	// A victim's subscription, registered in the window.
	victim := register(t, tab(t, browser), e, "first", false, app.GoodTestCard, false)
	require.Equal(t, "정기결제 등록 완료", victim.heading, victim.body)
	charges := func() int {
		sub, ok, err := e.app.Store().Subscription(bg, victim.customerUID)
		require.NoError(t, err)
		require.True(t, ok)
		return len(sub.Charges)
	}

	t.Run("public page lists no customer", func(t *testing.T) {
		ctx := tab(t, browser)
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(e.url+"/"),
			chromedp.WaitVisible(chromedp.CSS("#subscribe-form")),
		))
		html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		require.NoError(t, err)
		assert.NotContains(t, html, victim.customerUID)
		assert.NotContains(t, html, victim.merchantUID)
		assert.NotContains(t, html, "/subscriptions/")
	})

	t.Run("admin pages need the admin", func(t *testing.T) {
		ctx := tab(t, browser)
		for _, u := range []string{e.url + "/admin", e.url + "/subscriptions/" + victim.customerUID} {
			require.NoError(t, chromedp.Do(ctx,
				chromedp.Navigate(u),
				chromedp.WaitVisible(chromedp.CSS("#login")),
			))
			html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
			require.NoError(t, err)
			assert.Contains(t, html, "관리자 로그인이 필요합니다", u)
			assert.NotContains(t, html, victim.customerUID, u)
		}
		// A stranger's page posts "charge now" before anyone signed in.
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(attacker(t, e.url+"/subscriptions/"+victim.customerUID+"/charge")),
			chromedp.WaitReady(chromedp.CSS("body")),
		))
		waitAnswer(t, ctx, e)
		assert.Equal(t, 0, charges())
	})

	t.Run("cross-site post refused even with the admin's cookie", func(t *testing.T) {
		ctx := tab(t, browser)
		adminLogin(t, ctx, e) // the browser now holds the admin's session cookie
		evil := attacker(t, e.url+"/subscriptions/"+victim.customerUID+"/charge")
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(evil),
			chromedp.WaitReady(chromedp.CSS("body")),
		))
		assert.Contains(t, waitAnswer(t, ctx, e), "cross-origin request refused")
		assert.Equal(t, 0, charges(), "the stranger's post charged nothing")
		assert.Equal(t, 0, fake.Charges(victim.merchantUID)-1, "only the registration's first charge")

		// The admin's own click on the app's page does charge.
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(e.url+"/subscriptions/"+victim.customerUID),
			chromedp.WaitVisible(chromedp.CSS("#charge-now")),
			chromedp.Click(chromedp.CSS("#charge-now")),
			chromedp.WaitVisible(chromedp.CSS("#charges tr.paid")), // the new row, after the post
		))
		assert.Equal(t, 1, charges())
	})

	t.Run("pages refuse to be framed", func(t *testing.T) {
		ctx := tab(t, browser)
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(e.url+"/"),
			chromedp.WaitVisible(chromedp.CSS("#subscribe-form")),
		))
		xfo, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/').then(r => r.headers.get('X-Frame-Options'))`, chromedp.EvalAwaitPromise))
		require.NoError(t, err)
		csp, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/').then(r => r.headers.get('Content-Security-Policy'))`, chromedp.EvalAwaitPromise))
		require.NoError(t, err)
		assert.Equal(t, "DENY", xfo)
		assert.Contains(t, csp, "frame-ancestors 'none'")
	})

	t.Run("browser failure then webhook success completes the order", func(t *testing.T) {
		ctx := tab(t, browser)
		p := register(t, ctx, e, "first", false, app.GoodTestCard, true) // the user closes the window
		require.Equal(t, "결제 실패", p.heading, p.body)
		o, _, err := e.app.Store().Order(bg, p.merchantUID)
		require.NoError(t, err)
		require.Equal(t, app.OrderFailed, o.Status)

		// The payment goes through after all (the window retried, the
		// user paid on another device): Iamport's webhook reaches the app.
		res := fake.RequestPay(iamporttest.WindowRequest{
			PG: "jtnet", MerchantUID: p.merchantUID, Name: o.Name, Amount: o.Amount,
			CustomerUID: p.customerUID, CardNumber: app.GoodTestCard,
		})
		require.True(t, res.Success, res.ErrorMsg)
		fake.WaitWebhooks()
		assert.True(t, webhookAccepted(fake.Webhooks(), res.ImpUID))
		o, _, err = e.app.Store().Order(bg, p.merchantUID)
		require.NoError(t, err)
		assert.Equal(t, app.OrderDone, o.Status)
		assert.Equal(t, "webhook", o.VerifiedBy)
		_, ok, err := e.app.Store().Subscription(bg, p.customerUID)
		require.NoError(t, err)
		assert.True(t, ok, "subscription stored")

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Reload(),
			chromedp.WaitVisible(chromedp.CSS("#result")),
		))
		heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result h1")))
		require.NoError(t, err)
		assert.Equal(t, "정기결제 등록 완료", strings.TrimSpace(heading))
	})
}
