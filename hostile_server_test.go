package iamport_test

// A hostile Iamport for the money engine's tests (issue 8): an httptest
// server whose every byte the test controls. By default it behaves like the
// real API (a ledger of payments, getToken, charges, lookups, cancels with
// checksums); a test replaces the handler of one route to misbehave the way
// a proxy, a lagging replica or an unlucky network does, and counts every
// request, every money POST, every commit and every refund applied.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Route names of the hostile server.
const (
	hrToken    = "token"    // POST /users/getToken
	hrAgain    = "again"    // POST /subscribe/payments/again
	hrOnetime  = "onetime"  // POST /subscribe/payments/onetime
	hrRetry    = "retry"    // POST /subscribe/payments/schedule/{m}/retry
	hrCancel   = "cancel"   // POST /payments/cancel
	hrLookup   = "lookup"   // GET /payments/find/{m}[/{status}], /payments/findAll/{m}[/{status}], /payments?merchant_uid[]=
	hrPayment  = "payment"  // GET /payments/{imp_uid}
	hrSchedule = "schedule" // GET /subscribe/payments/schedule/{m}
	hrOther    = "other"    // anything else (answered 500 HTML)
)

// hWarmUp is the imp_uid of the warm-up lookup (see warm).
const hWarmUp = "imp_warm_up"

// Iamport's own "no such payment" answer.
const hNotFoundMsg = "존재하지 않는 결제정보입니다."

// hHandler serves one request of a route; n counts that route's requests,
// this one included (1 for the first).
type hHandler func(w http.ResponseWriter, r *http.Request, body []byte, n int)

// hPay is a payment in the hostile server's ledger.
type hPay struct {
	imp, merchant, customer string
	amount, cancelled       int64
	currency, status        string
	started, paidAt, failed int64 // unix seconds on the server's clock
	failReason              string
	history                 []hCancel
}

type hCancel struct {
	amount int64
	at     int64
	reason string
	id     string
}

func (p *hPay) clone() *hPay {
	q := *p
	q.history = append([]hCancel(nil), p.history...)
	return &q
}

// json is the payment as the API sends it.
func (p *hPay) json() map[string]any {
	var cuid, fail any
	if p.customer != "" {
		cuid = p.customer
	}
	if p.failReason != "" {
		fail = p.failReason
	}
	hist := []any{}
	var cancelledAt int64
	for _, h := range p.history {
		hist = append(hist, map[string]any{"pg_tid": "ctid_" + h.id, "amount": h.amount, "cancelled_at": h.at,
			"reason": h.reason, "cancellation_id": h.id, "receipt_url": "https://receipt.example/" + h.id})
		cancelledAt = h.at
	}
	cur := p.currency
	if cur == "" {
		cur = "KRW"
	}
	return map[string]any{
		"imp_uid": p.imp, "merchant_uid": p.merchant, "customer_uid": cuid, "customer_uid_usage": "payment",
		"pay_method": "card", "pg_provider": "jtnet", "pg_tid": "tid_" + p.imp, "pg_id": "jtnet_mid", "channel": "api",
		"amount": p.amount, "cancel_amount": p.cancelled, "currency": cur, "status": p.status,
		"name": "월간 구독", "card_name": "신한카드", "card_number": "409202******5678", "card_type": nil,
		"started_at": p.started, "paid_at": p.paidAt, "failed_at": p.failed, "cancelled_at": cancelledAt,
		"fail_reason": fail, "cancel_reason": nil, "cancel_history": hist, "sandbox": false,
	}
}

type hHit struct {
	method, path string
	body         []byte
}

// hostile is the hostile Iamport.
type hostile struct {
	t   *testing.T
	srv *httptest.Server

	total atomic.Int64 // every request received, getToken included

	mu sync.Mutex
	// tokenDelay is how long getToken takes; tokenSkew is added to the
	// "now" it answers (the server's clock as getToken reads it).
	tokenDelay time.Duration
	tokenSkew  time.Duration
	hits       []hHit
	counts     map[string]int // by route
	handlers   map[string]hHandler
	ledger     []*hPay // in the order they started
	seq        int
	commits    map[string]int // charges committed, by merchant_uid
	refunds    int            // cancels applied
	declines   map[string]string
}

type hConnKey struct{}

// newHostile starts a plain-HTTP hostile server on loopback.
func newHostile(t *testing.T) *hostile {
	t.Helper()
	h := hostileUnstarted(t)
	h.srv.Start()
	return h
}

// newHostileH2 starts a TLS hostile server that speaks HTTP/2. Its
// certificate is ECDSA and its key exchange X25519 alone: handshakes cheap
// enough for a loaded machine under -race.
func newHostileH2(t *testing.T) *hostile {
	t.Helper()
	h := hostileUnstarted(t)
	h.srv.EnableHTTP2 = true
	h.srv.TLS = &tls.Config{Certificates: []tls.Certificate{hCert(t)}, CurvePreferences: []tls.CurveID{tls.X25519}}
	h.srv.StartTLS()
	if tr, ok := h.srv.Client().Transport.(*http.Transport); ok {
		tr.TLSClientConfig.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	return h
}

var (
	hCertOnce sync.Once
	hCertVal  tls.Certificate
	hCertErr  error
)

// hCert is a self-signed ECDSA certificate for 127.0.0.1, made once.
func hCert(t *testing.T) tls.Certificate {
	hCertOnce.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			hCertErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hostile iamport"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		hCertVal, hCertErr = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, err
	})
	require.NoError(t, hCertErr)
	return hCertVal
}

func hostileUnstarted(t *testing.T) *hostile {
	h := &hostile{t: t, counts: map[string]int{}, handlers: map[string]hHandler{}, commits: map[string]int{}, declines: map[string]string{}}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(h.serve))
	h.srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, hConnKey{}, c)
	}
	t.Cleanup(h.srv.Close)
	return h
}

// URL is the server's base URL.
func (h *hostile) URL() string { return h.srv.URL }

// client is an SDK client wired to the server, with a token and an open
// connection (see warm): one attempt per GET (no resends to slow the test
// down), the given attempt timeout and settle window.
func (h *hostile) client(t *testing.T, timeout, window time.Duration, extra ...iamport.Option) *iamport.Client {
	t.Helper()
	c := h.coldClient(t, timeout, window, extra...)
	h.warm(t, c)
	return c
}

// coldClient is client without the warm-up: it has sent nothing.
func (h *hostile) coldClient(t *testing.T, timeout, window time.Duration, extra ...iamport.Option) *iamport.Client {
	t.Helper()
	opts := append([]iamport.Option{
		iamport.WithBaseURL(h.URL()),
		iamport.WithHTTPClient(h.srv.Client()),
		iamport.WithTimeout(timeout),
		iamport.WithSettleWindow(window),
		iamport.WithRetryPolicy(iamport.RetryPolicy{MaxAttempts: 1}),
	}, extra...)
	c, err := iamport.NewClient("hostile_key", "hostile_secret", opts...)
	require.NoError(t, err)
	return c
}

// fastClient is the usual client of these tests: attempts of 5s (room for
// a new TLS connection on a loaded machine under -race), a settle window of
// 6s whose waits take no real time (RetryPolicy.Sleep returns at once: the
// window passes as the waits add up), so a case takes milliseconds unless
// an attempt really hangs.
func (h *hostile) fastClient(t *testing.T) *iamport.Client {
	return h.client(t, hTimeout, hWindow, iamport.WithRetryPolicy(iamport.RetryPolicy{MaxAttempts: 1,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}))
}

// The attempt timeout and settle window of fastClient.
const (
	hTimeout = 5 * time.Second
	hWindow  = 6 * time.Second
)

// warm fetches a token and opens a connection before the call under test
// (GET /payments/imp_warm_up, which no test watches), so that the call's
// attempts are the money call and its lookups alone: on a loaded machine
// under -race, twenty tests starting at once can make a first getToken
// miss its attempt timeout. The warm-up tries again until it has a token.
func (h *hostile) warm(t *testing.T, c *iamport.Client) {
	t.Helper()
	var err error
	for range 20 {
		if _, err = c.GetPayment(context.Background(), hWarmUp); errors.Is(err, iamport.ErrNotFound) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.ErrorIs(t, err, iamport.ErrNotFound, "warm-up: the hostile server does not answer")
}

// proxied makes every lookup route (find, payment, schedule) answer with
// write: a proxy in front of the API that passes only the charge through.
func (h *hostile) proxied(write func(w http.ResponseWriter)) {
	for _, route := range []string{hrLookup, hrPayment, hrSchedule} {
		h.on(route, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) { write(w) })
	}
}

// on replaces a route's handler.
func (h *hostile) on(route string, fn hHandler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handlers[route] = fn
}

func hRoute(r *http.Request) string {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && p == "/users/getToken":
		return hrToken
	case p == "/subscribe/payments/again":
		return hrAgain
	case p == "/subscribe/payments/onetime":
		return hrOnetime
	case strings.HasPrefix(p, "/subscribe/payments/schedule/") && strings.HasSuffix(p, "/retry"):
		return hrRetry
	case p == "/payments/cancel":
		return hrCancel
	case r.Method == http.MethodGet && (strings.HasPrefix(p, "/payments/find/") || strings.HasPrefix(p, "/payments/findAll/")):
		return hrLookup
	case r.Method == http.MethodGet && p == "/payments" && len(r.URL.Query()["merchant_uid[]"]) > 0:
		return hrLookup
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/payments/") && strings.Count(p, "/") == 2 && p != "/payments/prepare":
		return hrPayment
	case r.Method == http.MethodGet && p == "/payments" && len(r.URL.Query()["imp_uid[]"]) > 0:
		return hrPayment
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/subscribe/payments/schedule/") && strings.Count(p, "/") == 4:
		return hrSchedule
	}
	return hrOther
}

func (h *hostile) serve(w http.ResponseWriter, r *http.Request) {
	h.total.Add(1)
	body, _ := io.ReadAll(r.Body)
	route := hRoute(r)
	h.mu.Lock()
	h.hits = append(h.hits, hHit{method: r.Method, path: r.URL.Path, body: body})
	h.counts[route]++
	n := h.counts[route]
	fn := h.handlers[route]
	h.mu.Unlock()
	if fn == nil {
		fn = h.defaultHandler(route)
	}
	fn(w, r, body, n)
}

func (h *hostile) defaultHandler(route string) hHandler {
	switch route {
	case hrToken:
		return h.token
	case hrAgain:
		return h.again
	case hrOnetime:
		return h.onetime
	case hrRetry:
		return h.retry
	case hrCancel:
		return h.cancel
	case hrLookup:
		return h.lookup
	case hrPayment:
		return h.payment
	case hrSchedule:
		return h.schedule
	}
	return func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
		h.t.Logf("hostile: unexpected %s %s", r.Method, r.URL.RequestURI())
		hWriteHTML(w, http.StatusInternalServerError)
	}
}

// ---- counters ----

// count is how many requests a route received.
func (h *hostile) count(route string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[route]
}

// asked is how many lookups (GETs other than the warm-up) the server got.
func (h *hostile) asked() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, x := range h.hits {
		if x.method == http.MethodGet && x.path != "/payments/"+hWarmUp {
			n++
		}
	}
	return n
}

// posts is how many POSTs reached path.
func (h *hostile) posts(path string) int { return h.hitsTo(http.MethodPost, path) }

// hitsTo is how many requests with method ("" = any) reached path.
func (h *hostile) hitsTo(method, path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, x := range h.hits {
		if x.path == path && (method == "" || x.method == method) {
			n++
		}
	}
	return n
}

// bodiesContain says whether any request body received contains s.
func (h *hostile) bodiesContain(s string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.hits {
		if bytes.Contains(x.body, []byte(s)) {
			return true
		}
	}
	return false
}

func (h *hostile) describeHits() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, x := range h.hits {
		fmt.Fprintf(&b, "%s %s; ", x.method, x.path)
	}
	return b.String()
}

// committed is how many charges were committed for merchant_uid.
func (h *hostile) committed(m string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.commits[m]
}

// applied is how many cancels were applied.
func (h *hostile) applied() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.refunds
}

// ---- the ledger ----

func hNow() int64 { return time.Now().Unix() }

// add puts a payment in the ledger and returns a copy.
func (h *hostile) add(p hPay) *hPay {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.addLocked(p).clone()
}

func (h *hostile) addLocked(p hPay) *hPay {
	h.seq++
	if p.imp == "" {
		p.imp = fmt.Sprintf("imp_h%06d", h.seq)
	}
	if p.started == 0 {
		p.started = hNow()
	}
	if p.status == "paid" && p.paidAt == 0 {
		p.paidAt = p.started
	}
	if p.status == "failed" && p.failed == 0 {
		p.failed = p.started
	}
	q := &p
	h.ledger = append(h.ledger, q)
	return q
}

// commit records a charge of merchant_uid: paid, or failed when the
// customer is set to decline.
func (h *hostile) commit(m, cuid string, amount int64, currency string) *hPay {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := hPay{merchant: m, customer: cuid, amount: amount, currency: currency, status: "paid"}
	if reason, ok := h.declines[cuid]; ok {
		p.status, p.failReason = "failed", reason
	} else {
		h.commits[m]++
	}
	return h.addLocked(p).clone()
}

// decline makes every charge of cuid fail with reason.
func (h *hostile) decline(cuid, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.declines[cuid] = reason
}

// byMerchant is the payments of m, newest first.
func (h *hostile) byMerchant(m string) []*hPay {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*hPay
	for i := len(h.ledger) - 1; i >= 0; i-- {
		if h.ledger[i].merchant == m {
			out = append(out, h.ledger[i].clone())
		}
	}
	return out
}

func (h *hostile) paidFor(m string) *hPay {
	for _, p := range h.byMerchant(m) {
		if p.status == "paid" || p.status == "cancelled" {
			return p
		}
	}
	return nil
}

func (h *hostile) byImp(imp string) *hPay {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.ledger {
		if p.imp == imp {
			return p.clone()
		}
	}
	return nil
}

// ---- writers ----

func hWriteEnvelope(w http.ResponseWriter, status, code int, msg string, resp any) {
	env := map[string]any{"code": code, "message": nil, "response": resp}
	if msg != "" {
		env["message"] = msg
	}
	b, _ := json.Marshal(env)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// hWriteNotFound is Iamport's own "no such payment".
func hWriteNotFound(w http.ResponseWriter) {
	hWriteEnvelope(w, http.StatusNotFound, -1, hNotFoundMsg, nil)
}

// hWriteHTML is what nginx in front of the API answers.
func hWriteHTML(w http.ResponseWriter, status int) {
	text := http.StatusText(status)
	b := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", status, text, status, text)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Server", "nginx")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b)
}

func hWriteEmpty(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// hHangUp closes the connection without a reply (HTTP/1 only): the request
// was read in full, the reply is lost.
func hHangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("hostile: hijack: %v", err))
	}
	_ = conn.Close()
}

// hGoAway ends an HTTP/2 connection after the request was read: a GOAWAY
// frame with last-stream-id 0 (so the client believes no stream was
// processed, which net/http answers by replaying the request on a new
// connection when it can), then the connection is closed.
func hGoAway(r *http.Request) {
	c, ok := r.Context().Value(hConnKey{}).(net.Conn)
	if !ok {
		panic("hostile: no connection in the request's context")
	}
	if _, ok := c.(*tls.Conn); !ok {
		panic("hostile: GOAWAY needs the HTTP/2 (TLS) server")
	}
	frame := make([]byte, 9+8)
	frame[2] = 8   // length
	frame[3] = 0x7 // GOAWAY
	// flags 0, stream 0; payload: last-stream-id 0, error code NO_ERROR
	binary.BigEndian.PutUint32(frame[9:], 0)
	binary.BigEndian.PutUint32(frame[13:], 0)
	_, _ = c.Write(frame)
	_ = c.Close()
}

// hRedirect answers status with a Location.
func hRedirect(w http.ResponseWriter, status int, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<html><body>%d</body></html>\n", status)
}

// writeFound answers a lookup with these payments (newest first), in the
// shape of the endpoint asked: find (the newest, filtered by the status
// segment), findAll (a page) or GET /payments (an array).
func (h *hostile) writeFound(w http.ResponseWriter, r *http.Request, ps ...*hPay) {
	p := r.URL.Path
	var status string
	if rest, ok := strings.CutPrefix(p, "/payments/find/"); ok {
		if i := strings.Index(rest, "/"); i >= 0 {
			status = rest[i+1:]
		}
	} else if rest, ok := strings.CutPrefix(p, "/payments/findAll/"); ok {
		if i := strings.Index(rest, "/"); i >= 0 {
			status = rest[i+1:]
		}
	}
	var list []any
	for _, x := range ps {
		if status == "" || x.status == status {
			list = append(list, x.json())
		}
	}
	if len(list) == 0 {
		hWriteNotFound(w)
		return
	}
	switch {
	case strings.HasPrefix(p, "/payments/findAll/"):
		hWriteEnvelope(w, http.StatusOK, 0, "", map[string]any{"total": len(list), "previous": 0, "next": 0, "list": list})
	case p == "/payments":
		hWriteEnvelope(w, http.StatusOK, 0, "", list)
	default:
		hWriteEnvelope(w, http.StatusOK, 0, "", list[0])
	}
}

// lookupKey is the merchant_uid a lookup asks for.
func hLookupKey(r *http.Request) string {
	p := r.URL.EscapedPath()
	for _, pre := range []string{"/payments/find/", "/payments/findAll/"} {
		if rest, ok := strings.CutPrefix(p, pre); ok {
			if i := strings.Index(rest, "/"); i >= 0 {
				rest = rest[:i]
			}
			m, _ := url.PathUnescape(rest)
			return m
		}
	}
	if v := r.URL.Query()["merchant_uid[]"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// ---- default (realistic) handlers ----

// slowToken makes getToken take delay and answer a "now" skew ahead of the
// clock that stamps payments.
func (h *hostile) slowToken(delay, skew time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tokenDelay, h.tokenSkew = delay, skew
}

func (h *hostile) token(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
	h.mu.Lock()
	delay, skew := h.tokenDelay, h.tokenSkew
	h.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	now := time.Now().Add(skew).Unix()
	hWriteEnvelope(w, http.StatusOK, 0, "", map[string]any{"access_token": "tok_hostile", "now": now, "expired_at": now + 1800})
}

type hChargeBody struct {
	MerchantUID string      `json:"merchant_uid"`
	CustomerUID string      `json:"customer_uid"`
	Amount      json.Number `json:"amount"`
	Currency    string      `json:"currency"`
	CardNumber  string      `json:"card_number"`
}

func hParseCharge(body []byte) hChargeBody {
	var b hChargeBody
	_ = json.Unmarshal(body, &b)
	return b
}

func (b hChargeBody) amount() int64 {
	n, _ := b.Amount.Int64()
	return n
}

// chargeOrRefuse is the real API's charge: a merchant_uid already paid is
// refused ("already paid"); anything else is charged (or declined).
func (h *hostile) chargeOrRefuse(w http.ResponseWriter, b hChargeBody) {
	if h.paidFor(b.MerchantUID) != nil {
		hWriteEnvelope(w, http.StatusOK, 1, "이미 주문이 이루어진 건입니다", nil)
		return
	}
	p := h.commit(b.MerchantUID, b.CustomerUID, b.amount(), b.Currency)
	hWriteEnvelope(w, http.StatusOK, 0, "", p.json())
}

func (h *hostile) again(w http.ResponseWriter, _ *http.Request, body []byte, _ int) {
	h.chargeOrRefuse(w, hParseCharge(body))
}

func (h *hostile) onetime(w http.ResponseWriter, _ *http.Request, body []byte, _ int) {
	h.chargeOrRefuse(w, hParseCharge(body))
}

// The schedule behind RetrySchedule: its customer and amount.
const (
	hSchedCustomer = "cust_sched"
	hSchedAmount   = 14900
)

func hRetryKey(r *http.Request) string {
	p := strings.TrimSuffix(strings.TrimPrefix(r.URL.EscapedPath(), "/subscribe/payments/schedule/"), "/retry")
	m, _ := url.PathUnescape(p)
	return m
}

func (h *hostile) retry(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
	h.chargeOrRefuse(w, hChargeBody{MerchantUID: hRetryKey(r), CustomerUID: hSchedCustomer, Amount: json.Number(fmt.Sprint(hSchedAmount))})
}

func (h *hostile) schedule(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
	m, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/subscribe/payments/schedule/"))
	// A schedule revoked an hour ago, or executed by its newest payment.
	s := map[string]any{"customer_uid": hSchedCustomer, "merchant_uid": m, "imp_uid": nil, "amount": hSchedAmount, "currency": "KRW",
		"name": "월간 구독", "schedule_at": hNow() - 3600, "executed_at": 0, "revoked_at": hNow() - 3600,
		"schedule_status": "revoked", "payment_status": nil, "fail_reason": nil}
	if ps := h.byMerchant(m); len(ps) > 0 {
		s["imp_uid"], s["payment_status"], s["schedule_status"] = ps[0].imp, ps[0].status, "executed"
		s["executed_at"], s["revoked_at"] = ps[0].started, 0
	}
	hWriteEnvelope(w, http.StatusOK, 0, "", s)
}

func (h *hostile) lookup(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
	h.writeFound(w, r, h.byMerchant(hLookupKey(r))...)
}

func (h *hostile) payment(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
	if r.URL.Path == "/payments" { // GET /payments?imp_uid[]=…
		var list []any
		for _, imp := range r.URL.Query()["imp_uid[]"] {
			if p := h.byImp(imp); p != nil {
				list = append(list, p.json())
			}
		}
		if len(list) == 0 {
			hWriteNotFound(w)
			return
		}
		hWriteEnvelope(w, http.StatusOK, 0, "", list)
		return
	}
	imp, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/payments/"))
	p := h.byImp(imp)
	if p == nil {
		hWriteNotFound(w)
		return
	}
	hWriteEnvelope(w, http.StatusOK, 0, "", p.json())
}

type hCancelBody struct {
	ImpUID      string       `json:"imp_uid"`
	MerchantUID string       `json:"merchant_uid"`
	Amount      *json.Number `json:"amount"`
	Checksum    *json.Number `json:"checksum"`
	Reason      string       `json:"reason"`
}

// applyCancel is the real API's cancel: it refuses a missing or fully
// cancelled payment, a checksum that is not the refundable balance and an
// amount above it; otherwise it refunds and records the cancel.
func (h *hostile) applyCancel(body []byte) (p *hPay, code int, msg string) {
	var b hCancelBody
	_ = json.Unmarshal(body, &b)
	h.mu.Lock()
	defer h.mu.Unlock()
	var q *hPay
	for i := len(h.ledger) - 1; i >= 0; i-- {
		x := h.ledger[i]
		if (b.ImpUID != "" && x.imp == b.ImpUID) || (b.ImpUID == "" && x.merchant == b.MerchantUID) {
			q = x
			break
		}
	}
	if q == nil || (q.status != "paid" && q.status != "cancelled") || q.amount == q.cancelled {
		return nil, 1, "취소할 결제건이 존재하지 않습니다."
	}
	left := q.amount - q.cancelled
	if b.Checksum != nil {
		if c, _ := b.Checksum.Int64(); c != left {
			return nil, 1, "[환불가능금액 불일치] 요청하신 checksum과 환불가능금액이 일치하지 않습니다."
		}
	}
	amt := left
	if b.Amount != nil {
		if a, _ := b.Amount.Int64(); a > 0 {
			amt = a
		}
	}
	if amt > left {
		return nil, 1, "취소요청금액이 취소가능금액을 초과합니다."
	}
	h.refunds++
	q.cancelled += amt
	q.status = "cancelled"
	q.history = append(q.history, hCancel{amount: amt, at: hNow(), reason: b.Reason, id: fmt.Sprintf("cx_%d", h.refunds)})
	return q.clone(), 0, ""
}

func (h *hostile) cancel(w http.ResponseWriter, _ *http.Request, body []byte, _ int) {
	p, code, msg := h.applyCancel(body)
	if code != 0 {
		hWriteEnvelope(w, http.StatusOK, code, msg, nil)
		return
	}
	hWriteEnvelope(w, http.StatusOK, 0, "", p.json())
}

// ---- the other host, for redirects ----

// hBystander is another host that records what reaches it and answers like
// Iamport would ("paid"), so that a followed redirect is visible.
type hBystander struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   int
	bodies []string
}

func newHBystander(t *testing.T) *hBystander {
	b := &hBystander{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.hits++
		b.bodies = append(b.bodies, string(body))
		b.mu.Unlock()
		c := hParseCharge(body)
		p := &hPay{imp: "imp_evil", merchant: c.MerchantUID, customer: c.CustomerUID, amount: c.amount(), status: "paid", started: hNow(), paidAt: hNow()}
		hWriteEnvelope(w, http.StatusOK, 0, "", p.json())
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *hBystander) received() (int, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits, strings.Join(b.bodies, "\n")
}

// ---- outcome assertions ----

// hRequireUnknown asserts outcome 4 for merchant_uid m: ErrOutcomeUnknown,
// never ErrNotCharged, with the merchant_uid to look it up by.
func hRequireUnknown(t *testing.T, p *iamport.Payment, err error, m string) {
	t.Helper()
	require.Error(t, err, "got a payment (%s) where the outcome is unknown", hDescribePayment(p))
	require.NotErrorIs(t, err, iamport.ErrNotCharged, "not charged is a lie here")
	require.ErrorIs(t, err, iamport.ErrOutcomeUnknown)
	assert.Nil(t, p)
	var ce *iamport.ChargeError
	if assert.ErrorAs(t, err, &ce) {
		assert.Equal(t, m, ce.MerchantUID)
	}
}

// hRequireNotCharged asserts the lookup-proven outcome 3 for merchant_uid m.
func hRequireNotCharged(t *testing.T, p *iamport.Payment, err error, m string) {
	t.Helper()
	require.Error(t, err, "got a payment (%s) where nothing was charged", hDescribePayment(p))
	require.ErrorIs(t, err, iamport.ErrNotCharged)
	require.NotErrorIs(t, err, iamport.ErrOutcomeUnknown)
	assert.Nil(t, p)
	var ce *iamport.ChargeError
	if assert.ErrorAs(t, err, &ce) {
		assert.Equal(t, m, ce.MerchantUID)
	}
}

// hRequirePaid asserts outcome 1: the payment the server committed.
func hRequirePaid(t *testing.T, p *iamport.Payment, err error, want *hPay) {
	t.Helper()
	require.NoError(t, err)
	require.NotNil(t, p)
	require.NotNil(t, want, "the server committed nothing, yet the SDK reports a payment")
	assert.Equal(t, iamport.PaymentPaid, p.Status)
	assert.Equal(t, want.imp, p.ImpUID, "the payment returned is the one the server committed")
	assert.Equal(t, want.merchant, p.MerchantUID)
	assert.Equal(t, want.amount, p.Amount)
}

func hDescribePayment(p *iamport.Payment) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("imp_uid %s, merchant_uid %s, customer_uid %q, amount %d, status %s", p.ImpUID, p.MerchantUID, p.CustomerUID, p.Amount, p.Status)
}

// hSorted is a stable list of map keys, for table tests over maps.
func hSorted[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
