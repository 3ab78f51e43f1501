// Package app is a small merchant web server that registers JTNet billing
// keys (정기결제) through Iamport's payment window, verifies them on the
// server, stores the subscription and charges it again later.
//
// Read it in this order:
//
//  1. POST /orders (createOrder): the server creates the order, so that
//     merchant_uid, customer_uid and amount are its own, and returns the
//     parameters for IMP.request_pay (static/checkout.js opens the window).
//  2. POST /complete (PC: the request_pay callback posts the result) and
//     GET /complete/mobile (mobile: the window redirects to m_redirect_url):
//     both read the result with iamport.ParseRedirect and hand it to
//     complete, which never trusts it: it asks Iamport (VerifyPayment for a
//     first charge, VerifyBillingKey for the key) and only then stores the
//     subscription.
//  3. POST /webhook/iamport: Iamport's notification, through
//     Client.WebhookHandler, which re-fetches the payment. It completes an
//     order the browser never came back for, and updates charges.
//  4. POST /subscriptions/{customer_uid}/charge: "charge now", AgainPayment
//     on the stored billing key. It is an admin action: GET /admin lists the
//     subscriptions, and every /admin and /subscriptions page needs the admin
//     token (Config.AdminToken; see security.go).
//
// As a template it is safe to copy: every response carries a
// Content-Security-Policy with frame-ancestors 'none' and X-Frame-Options
// (no clickjacking); state-changing requests from another origin are
// refused (security.go); no public page shows a customer_uid or another
// customer's card; the browser's report of the window's outcome is never
// final in either direction (complete asks Iamport); notice_url and
// m_redirect_url come from Config.PublicURL, never from a request's Host;
// and the in-memory store is bounded.
//
// Without API credentials the app runs on the embedded fake Iamport
// (iamporttest) and serves static/fake-iamport.js in place of Iamport's
// JavaScript SDK: a stand-in whose IMP.init and IMP.request_pay behave like
// the real ones, with a tiny in-page card window.
package app

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// DefaultSDKURL is Iamport's JavaScript SDK (V1).
const DefaultSDKURL = "https://cdn.iamport.kr/v1/iamport.js"

// The test cards of the embedded fake, which the stand-in window offers:
// GoodTestCard approves, DeclinedTestCard declines with DeclineReason.
const (
	GoodTestCard     = iamporttest.DefaultCardNumber
	DeclinedTestCard = "4000-0000-0000-0002"
	DeclineReason    = "한도초과 (테스트 카드)"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures the app. The zero value runs on the embedded fake.
type Config struct {
	// APIKey and APISecret are the REST API key pair (Iamport console →
	// 시스템 설정 → 내정보). Both empty: run on the embedded fake Iamport.
	APIKey, APISecret string
	// APIBaseURL is the REST API's base URL ("" = https://api.iamport.kr).
	// Ignored on the fake.
	APIBaseURL string
	// IMPCode is the merchant's 가맹점 식별코드 (imp########) for IMP.init.
	// Required with credentials.
	IMPCode string
	// PG is request_pay's pg: "jtnet" (default), or "jtnet.{MID}" when the
	// account has several JTNet MIDs.
	PG string
	// SDKURL is where the page loads the JavaScript SDK from ("" = Iamport's
	// CDN with credentials, the stand-in on the fake).
	SDKURL string
	// PublicURL is the app's address as browsers and Iamport reach it, e.g.
	// https://shop.example.com (required): m_redirect_url and notice_url
	// are built from it, never from a request's Host header (which a
	// client chooses), and cross-origin checks compare with its origin.
	PublicURL string
	// AdminToken guards the admin pages (the subscription list, a
	// subscription's charges, "charge now"): at least 16 characters, e.g.
	// from the ADMIN_TOKEN environment variable. Empty: the admin pages
	// refuse everyone. An example's stand-in for the merchant's own staff
	// sign-in.
	AdminToken string
	// PlanName and PlanAmount are the subscription's product (default
	// "월간 구독", 1004 won): the first charge and every "charge now".
	PlanName   string
	PlanAmount int64
	// Store keeps orders and subscriptions (nil = a new MemStore).
	Store Store
	// Logger receives the app's and the SDK's log lines (nil = discard).
	Logger *slog.Logger
	// WebhookOptions configure the webhook handler, e.g.
	// iamport.WithIamportIPs() in production.
	WebhookOptions []iamport.WebhookOption
}

// App is the merchant's web server. It is an http.Handler.
type App struct {
	cfg    Config
	client *iamport.Client
	fake   *iamporttest.Server // nil with real credentials
	store  Store
	log    *slog.Logger
	mux    *http.ServeMux
	pages  map[string]*template.Template
	origin string // scheme://host of PublicURL
	csp    string

	// mu serialises the completion of orders and updates of subscriptions:
	// the callback, the redirect and the webhook can race for the same
	// order. A service with a database uses a transaction instead.
	mu sync.Mutex
}

// New builds the app. Without credentials it starts the embedded fake
// Iamport (stopped by Close) with its webhooks pointed at the app.
func New(cfg Config) (*App, error) {
	if (cfg.APIKey == "") != (cfg.APISecret == "") {
		return nil, errors.New("set both IAMPORT_API_KEY and IAMPORT_API_SECRET, or neither")
	}
	if cfg.PG == "" {
		cfg.PG = "jtnet"
	}
	if cfg.PlanName == "" {
		cfg.PlanName = "월간 구독"
	}
	if cfg.PlanAmount <= 0 {
		cfg.PlanAmount = 1004
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	origin, err := publicOrigin(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	if cfg.AdminToken != "" && len(cfg.AdminToken) < minAdminToken {
		return nil, fmt.Errorf("the admin token must be at least %d characters", minAdminToken)
	}
	a := &App{cfg: cfg, store: cfg.Store, log: cfg.Logger, origin: origin}
	if a.store == nil {
		a.store = NewMemStore()
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	opts := []iamport.Option{iamport.WithLogger(a.log), iamport.WithUserAgent("jtnet-window-example")}
	if cfg.APIKey == "" {
		a.fake = iamporttest.NewServer(iamporttest.WithWebhookURL(cfg.PublicURL + "/webhook/iamport"))
		a.fake.DeclineCard(DeclinedTestCard, DeclineReason)
		cfg.APIKey, cfg.APISecret = a.fake.APIKey, a.fake.APISecret
		opts = append(opts, iamport.WithBaseURL(a.fake.URL()))
		if a.cfg.IMPCode == "" {
			a.cfg.IMPCode = "imp00000000"
		}
		if a.cfg.SDKURL == "" {
			a.cfg.SDKURL = "/static/fake-iamport.js"
		}
	} else {
		if cfg.IMPCode == "" {
			return nil, errors.New("IAMPORT_IMP_CODE (가맹점 식별코드) is required with credentials")
		}
		if cfg.APIBaseURL != "" {
			opts = append(opts, iamport.WithBaseURL(cfg.APIBaseURL))
		}
		if a.cfg.SDKURL == "" {
			a.cfg.SDKURL = DefaultSDKURL
		}
	}
	client, err := iamport.NewClient(cfg.APIKey, cfg.APISecret, opts...)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.client = client
	if a.pages, err = parsePages(); err != nil {
		a.Close()
		return nil, err
	}
	a.csp = contentSecurityPolicy(a.cfg.SDKURL)
	a.routes()
	return a, nil
}

// Close stops the embedded fake, if any.
func (a *App) Close() {
	if a.fake != nil {
		a.fake.Close()
	}
}

// Fake returns the embedded fake Iamport, nil with real credentials.
func (a *App) Fake() *iamporttest.Server { return a.fake }

// Store returns the app's store.
func (a *App) Store() Store { return a.store }

// ServeHTTP serves the app: security headers on every response, and
// cross-origin state-changing requests refused (security.go).
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.secureHeaders(w)
	if !a.sameOrigin(r) {
		a.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	a.mux.ServeHTTP(w, r)
}

func (a *App) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", a.index)
	m.HandleFunc("POST /orders", a.createOrder)
	m.HandleFunc("POST /complete", a.completeCallback)
	m.HandleFunc("GET /complete/mobile", a.completeRedirect)
	m.HandleFunc("GET /orders/{merchant_uid}", a.showOrder)
	m.HandleFunc("GET /subscriptions/{customer_uid}", a.admin(a.showSubscription))
	m.HandleFunc("POST /subscriptions/{customer_uid}/charge", a.admin(a.chargeNow))
	m.HandleFunc("GET /admin", a.admin(a.adminIndex))
	m.HandleFunc("GET /admin/login", a.loginPage)
	m.HandleFunc("POST /admin/login", a.login)
	m.HandleFunc("POST /admin/logout", a.logout)
	m.Handle("/webhook/iamport", a.client.WebhookHandler(a.onWebhook, a.cfg.WebhookOptions...))
	files := http.FileServerFS(staticFS) // paths /static/... in the embedded static/
	m.Handle("GET /static/checkout.js", files)
	m.Handle("GET /static/style.css", files)
	if a.fake != nil {
		m.Handle("GET /static/fake-iamport.js", files)
		m.HandleFunc("POST /fake-iamport/request_pay", a.fakeRequestPay)
	}
	a.mux = m
}

// ---- pages ----

// index is the public page: the registration form, and nothing about
// other customers.
func (a *App) index(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, "index", map[string]any{
		"IMPCode": a.cfg.IMPCode, "SDKURL": a.cfg.SDKURL, "PlanName": a.cfg.PlanName,
		"PlanAmount": a.cfg.PlanAmount,
	})
}

// showOrder is the buyer's result page, reached by the order's unguessable
// merchant_uid. It shows this order only, and no customer_uid.
func (a *App) showOrder(w http.ResponseWriter, r *http.Request) {
	o, ok, err := a.store.Order(r.Context(), r.PathValue("merchant_uid"))
	if err != nil || !ok {
		a.fail(w, r, http.StatusNotFound, errors.New("알 수 없는 주문입니다"))
		return
	}
	sub, _, _ := a.store.Subscription(r.Context(), o.CustomerUID)
	a.render(w, http.StatusOK, "order", map[string]any{"Order": o, "Sub": sub})
}

func (a *App) showSubscription(w http.ResponseWriter, r *http.Request) {
	sub, ok, err := a.store.Subscription(r.Context(), r.PathValue("customer_uid"))
	if err != nil || !ok {
		a.fail(w, r, http.StatusNotFound, errors.New("알 수 없는 구독입니다"))
		return
	}
	a.render(w, http.StatusOK, "subscription", map[string]any{"Sub": sub})
}

// ---- 1. the order and the window's parameters ----

// payParams are IMP.request_pay's parameters for a JTNet billing key.
type payParams struct {
	PG           string `json:"pg"`
	PayMethod    string `json:"pay_method"`
	MerchantUID  string `json:"merchant_uid"`
	Name         string `json:"name"`
	Amount       int64  `json:"amount"`
	CustomerUID  string `json:"customer_uid"`
	BuyerName    string `json:"buyer_name,omitempty"`
	BuyerEmail   string `json:"buyer_email,omitempty"`
	BuyerTel     string `json:"buyer_tel,omitempty"`
	MRedirectURL string `json:"m_redirect_url"`
	NoticeURL    string `json:"notice_url,omitempty"`
}

// createOrder stores a pending order and answers request_pay's parameters.
// Form fields: plan ("key": billing key only, amount 0; "first": key and
// the first month's charge), buyer_name, buyer_email, buyer_tel.
func (a *App) createOrder(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	o := Order{
		MerchantUID: newUID("order"),
		CustomerUID: newUID("cust"),
		Name:        "정기결제 카드 등록",
		BuyerName:   field(r, "buyer_name"),
		BuyerEmail:  field(r, "buyer_email"),
		BuyerTel:    field(r, "buyer_tel"),
		Status:      OrderPending,
		CreatedAt:   time.Now(),
	}
	switch r.PostForm.Get("plan") {
	case "key":
	case "first":
		o.Name, o.Amount = a.cfg.PlanName, a.cfg.PlanAmount
	default:
		http.Error(w, "plan must be key or first", http.StatusBadRequest)
		return
	}
	if err := a.store.PutOrder(r.Context(), o); err != nil {
		if errors.Is(err, ErrStoreFull) {
			a.log.Warn("order refused: store full")
			http.Error(w, "too many open orders, try again later", http.StatusServiceUnavailable)
			return
		}
		http.Error(w, "could not store the order", http.StatusInternalServerError)
		return
	}
	base := a.cfg.PublicURL
	writeJSON(w, http.StatusOK, payParams{
		PG: a.cfg.PG, PayMethod: "card", MerchantUID: o.MerchantUID, Name: o.Name,
		Amount: o.Amount, CustomerUID: o.CustomerUID,
		BuyerName: o.BuyerName, BuyerEmail: o.BuyerEmail, BuyerTel: o.BuyerTel,
		MRedirectURL: base + "/complete/mobile",
		NoticeURL:    base + "/webhook/iamport",
	})
}

// ---- 2. the window's result: verify, then store ----

// completeCallback is where the page posts the request_pay callback's rsp
// (PC), with the field names of m_redirect_url.
func (a *App) completeCallback(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	a.finish(w, r, r.PostForm, "callback")
}

// completeRedirect is m_redirect_url (mobile): the window sends the browser
// here with imp_uid, merchant_uid, imp_success, error_code and error_msg.
func (a *App) completeRedirect(w http.ResponseWriter, r *http.Request) {
	a.finish(w, r, r.URL.Query(), "redirect")
}

func (a *App) finish(w http.ResponseWriter, r *http.Request, q url.Values, via string) {
	res, err := iamport.ParseRedirect(q)
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, err)
		return
	}
	if _, err := a.complete(r.Context(), res, via); err != nil {
		var nf *unknownOrderError
		if errors.As(err, &nf) {
			a.fail(w, r, http.StatusNotFound, err)
			return
		}
		a.fail(w, r, http.StatusBadGateway, fmt.Errorf("결제 확인 중 오류가 났습니다. 잠시 후 새로고침하세요: %w", err))
		return
	}
	http.Redirect(w, r, "/orders/"+url.PathEscape(res.MerchantUID), http.StatusSeeOther)
}

type unknownOrderError struct{ merchantUID string }

func (e *unknownOrderError) Error() string { return "알 수 없는 주문입니다: " + e.merchantUID }

// complete settles an order from what the browser reported. The browser's
// word is never final, in either direction: a reported success is checked
// with Iamport (verifyAndStore), and so is a reported failure (a forged or
// mistaken "failed" must not lose a payment that went through). An order
// that failed can still be completed later, by a genuine success (the
// webhook, or a verified report). It is idempotent: a done order is
// returned as it is.
func (a *App) complete(ctx context.Context, res *iamport.RedirectResult, via string) (Order, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok, err := a.store.Order(ctx, res.MerchantUID)
	if err != nil {
		return Order{}, err
	}
	if !ok {
		return Order{}, &unknownOrderError{res.MerchantUID}
	}
	if o.Status == OrderDone {
		return o, nil
	}
	if res.Success {
		return a.verifyAndStore(ctx, o, res.ImpUID, via)
	}
	return a.reportedFailure(ctx, o, res, via)
}

// reportedFailure asks Iamport about an order the browser says failed: by
// merchant_uid for a first charge, by customer_uid for a key only. What
// Iamport has decides; the browser's message is only the reason shown when
// Iamport has nothing. Iamport unreachable: the order stays pending.
// Called with a.mu held.
func (a *App) reportedFailure(ctx context.Context, o Order, res *iamport.RedirectResult, via string) (Order, error) {
	reason := res.ErrorMsg
	if reason == "" {
		reason = "결제창이 실패를 알렸습니다 (" + res.ErrorCode + ")"
	}
	if o.Amount > 0 {
		p, err := a.client.FindPayment(ctx, o.MerchantUID)
		switch {
		case errors.Is(err, iamport.ErrNotFound):
		case err != nil:
			return o, err
		case p.IsPaid():
			return a.verifyAndStore(ctx, o, p.ImpUID, via)
		case p.FailReason != "":
			reason = p.FailReason
		}
	} else {
		_, err := a.client.VerifyBillingKey(ctx, o.CustomerUID)
		switch {
		case err == nil:
			return a.verifyAndStore(ctx, o, "", via)
		case errors.Is(err, iamport.ErrNotFound):
		default:
			return o, err
		}
	}
	o.Status, o.FailReason = OrderFailed, reason
	return o, a.store.PutOrder(ctx, o)
}

// verifyAndStore asks Iamport whether the order really went through and, if
// so, stores the subscription. Called with a.mu held.
func (a *App) verifyAndStore(ctx context.Context, o Order, impUID, via string) (Order, error) {
	if o.Amount > 0 {
		// Key and first charge: the payment must be paid, for this order,
		// this billing key and this amount.
		_, err := a.client.VerifyPayment(ctx, impUID, iamport.Expectation{
			MerchantUID: o.MerchantUID, Amount: o.Amount, CustomerUID: o.CustomerUID,
		})
		if err != nil {
			return a.rejected(ctx, o, err)
		}
		o.ImpUID = impUID
	}
	// The key itself (amount 0: the only proof; customer_uid is ours and new
	// for each order, so its existence means this window issued it).
	key, err := a.client.VerifyBillingKey(ctx, o.CustomerUID)
	if err != nil {
		return a.rejected(ctx, o, err)
	}
	sub := Subscription{
		CustomerUID: o.CustomerUID, PlanName: a.cfg.PlanName, PlanAmount: a.cfg.PlanAmount,
		CardName: key.CardName, CardNumber: key.CardNumber, BuyerName: o.BuyerName, BuyerEmail: o.BuyerEmail,
		FirstOrder: o.MerchantUID, CreatedAt: time.Now(),
	}
	if err := a.store.PutSubscription(ctx, sub); err != nil {
		return o, err
	}
	o.Status, o.VerifiedBy = OrderDone, via
	a.log.Info("subscription registered", "merchant_uid", o.MerchantUID, "customer_uid", o.CustomerUID, "amount", o.Amount, "via", via)
	return o, a.store.PutOrder(ctx, o)
}

// rejected ends an order whose verification said no; any other error (Iamport
// unreachable) leaves it pending and is returned.
func (a *App) rejected(ctx context.Context, o Order, err error) (Order, error) {
	var ve *iamport.VerificationError
	switch {
	case errors.As(err, &ve):
		o.FailReason = fmt.Sprintf("검증 실패: %s가 주문과 다릅니다", ve.Field)
		if ve.Field == "status" {
			o.FailReason = "결제가 완료되지 않았습니다 (" + ve.Got + ")"
		}
	case errors.Is(err, iamport.ErrNotFound):
		o.FailReason = "아임포트에 결제 또는 빌링키가 없습니다"
	case errors.Is(err, iamport.ErrInvalidRequest):
		o.FailReason = "결제창 결과가 올바르지 않습니다"
	default:
		return o, err
	}
	a.log.Warn("registration not verified", "merchant_uid", o.MerchantUID, "error", err)
	o.Status = OrderFailed
	return o, a.store.PutOrder(ctx, o)
}

// ---- 3. webhooks ----

// onWebhook runs for every notification that WebhookHandler verified with
// Iamport. Iamport can deliver one twice, so everything here is a state
// change that does nothing the second time.
func (a *App) onWebhook(ctx context.Context, ev *iamport.WebhookEvent, p *iamport.Payment) error {
	a.log.Info("webhook", "imp_uid", ev.ImpUID, "merchant_uid", ev.MerchantUID, "status", ev.Status)
	a.mu.Lock()
	defer a.mu.Unlock()
	if o, ok, err := a.store.Order(ctx, p.MerchantUID); err != nil {
		return err
	} else if ok {
		// A registration whose browser never came back (closed tab, lost
		// network): the payment is paid, so complete the order.
		if p.IsPaid() && o.Status != OrderDone {
			_, err := a.verifyAndStore(ctx, o, p.ImpUID, "webhook")
			return err
		}
		return nil
	}
	sub, ok, err := a.store.Subscription(ctx, p.CustomerUID)
	if err != nil || !ok {
		return err
	}
	for i, ch := range sub.Charges {
		if ch.MerchantUID == p.MerchantUID {
			sub.Charges[i].ImpUID, sub.Charges[i].Status = p.ImpUID, string(p.Status)
			if p.Status == iamport.PaymentFailed {
				sub.Charges[i].Detail = p.FailReason
			}
			return a.store.PutSubscription(ctx, sub)
		}
	}
	return nil
}

// ---- 4. charge now ----

// chargeNow charges the stored billing key once (AgainPayment). The charge
// is recorded as pending, with its merchant_uid, before the call: whatever
// happens next (a crash, a timeout), the merchant_uid is known and a retry
// with it, or the webhook, settles it. It is an admin action (a.admin), and
// a cross-origin post never reaches it (a.sameOrigin).
func (a *App) chargeNow(w http.ResponseWriter, r *http.Request) {
	ctx, cuid := r.Context(), r.PathValue("customer_uid")
	ch := Charge{MerchantUID: newUID("chg"), Status: "pending", At: time.Now()}
	var sub Subscription
	err := a.updateSubscription(ctx, cuid, func(s *Subscription) {
		sub, ch.Amount = *s, s.PlanAmount
		s.Charges = append(s.Charges, ch)
	})
	if err != nil {
		a.fail(w, r, http.StatusNotFound, err)
		return
	}
	p, err := a.client.AgainPayment(ctx, &iamport.AgainPaymentRequest{
		CustomerUID: cuid,
		MerchantUID: ch.MerchantUID, // the idempotency key: a retry must reuse it
		Amount:      ch.Amount,
		Name:        sub.PlanName,
		BuyerName:   sub.BuyerName,
		BuyerEmail:  sub.BuyerEmail,
		NoticeURL:   a.cfg.PublicURL + "/webhook/iamport",
	})
	var declined *iamport.PaymentFailedError
	switch {
	case err == nil:
		ch.ImpUID, ch.Status = p.ImpUID, string(p.Status)
	case errors.As(err, &declined):
		ch.ImpUID, ch.Status, ch.Detail = declined.Payment.ImpUID, string(iamport.PaymentFailed), declined.Payment.FailReason
	case errors.Is(err, iamport.ErrOutcomeUnknown):
		// Not known yet: the webhook, or a retry with the same merchant_uid, settles it.
		ch.Status, ch.Detail = "unknown", "결과 확인 중"
	default:
		ch.Status, ch.Detail = "error", "결제되지 않았습니다: "+err.Error()
	}
	err = a.updateSubscription(ctx, cuid, func(s *Subscription) {
		for i, old := range s.Charges {
			if old.MerchantUID == ch.MerchantUID && !(ch.Status == "unknown" && old.Status != "pending") {
				s.Charges[i] = ch // unless the webhook already knows better
			}
		}
	})
	if err != nil {
		a.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	http.Redirect(w, r, "/subscriptions/"+url.PathEscape(cuid), http.StatusSeeOther)
}

// updateSubscription changes a stored subscription under a.mu.
func (a *App) updateSubscription(ctx context.Context, cuid string, change func(*Subscription)) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok, err := a.store.Subscription(ctx, cuid)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("알 수 없는 구독입니다")
	}
	change(&s)
	return a.store.PutSubscription(ctx, s)
}

// ---- the stand-in payment window (fake mode only) ----

// fakeWindowRequest is what static/fake-iamport.js posts: request_pay's
// parameters plus what the user did in the stand-in window.
type fakeWindowRequest struct {
	PG          string `json:"pg"`
	MerchantUID string `json:"merchant_uid"`
	Name        string `json:"name"`
	Amount      int64  `json:"amount"`
	CustomerUID string `json:"customer_uid"`
	BuyerName   string `json:"buyer_name"`
	BuyerEmail  string `json:"buyer_email"`
	BuyerTel    string `json:"buyer_tel"`
	CardNumber  string `json:"card_number"`
	Closed      bool   `json:"closed"`
}

// fakeRequestPay plays Iamport's side of the payment window on the embedded
// fake. It is not part of a merchant's server: with real credentials the
// page talks to Iamport's own window and this route does not exist.
func (a *App) fakeRequestPay(w http.ResponseWriter, r *http.Request) {
	var req fakeWindowRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	res := a.fake.RequestPay(iamporttest.WindowRequest{
		PG: req.PG, MerchantUID: req.MerchantUID, Name: req.Name, Amount: req.Amount,
		CustomerUID: req.CustomerUID, CardNumber: req.CardNumber,
		BuyerName: req.BuyerName, BuyerEmail: req.BuyerEmail, BuyerTel: req.BuyerTel, Closed: req.Closed,
	})
	writeJSON(w, http.StatusOK, map[string]any{
		"success": res.Success, "imp_uid": res.ImpUID, "merchant_uid": res.MerchantUID,
		"error_code": res.ErrorCode, "error_msg": res.ErrorMsg,
	})
}

// ---- helpers ----

func newUID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "_" + time.Now().Format("20060102") + "_" + hex.EncodeToString(b) // ≤ 40 characters
}

// field is a trimmed form value, at most 40 characters.
func field(r *http.Request, k string) string {
	v := strings.TrimSpace(r.PostForm.Get(k))
	if !utf8.ValidString(v) {
		return ""
	}
	if rs := []rune(v); len(rs) > 40 {
		v = string(rs[:40])
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"won": won}
	pages := map[string]*template.Template{}
	for _, name := range []string{"index", "order", "subscription", "error", "admin", "login"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

func (a *App) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.pages[page].ExecuteTemplate(w, "layout", map[string]any{"Fake": a.fake != nil, "Data": data}); err != nil {
		a.log.Error("render", "page", page, "error", err)
	}
}

func (a *App) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	a.log.Warn("request failed", "path", r.URL.Path, "status", status, "error", err)
	a.render(w, status, "error", map[string]any{"Message": err.Error()})
}

// won formats a KRW amount: 1004 → "1,004원".
func won(v int64) string {
	s := strconv.FormatInt(v, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "원"
}
