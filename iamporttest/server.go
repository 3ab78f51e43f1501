package iamporttest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/billingkr/iamport-go/internal/apitext"
)

// Route strings of the most used endpoints, as accepted by [Server.Requests]
// and [Fault.Route]. The package doc lists every route.
const (
	// RouteToken is getToken.
	RouteToken = "POST /users/getToken"
	// RouteAgain is the billing-key charge (a charge route).
	RouteAgain = "POST /subscribe/payments/again"
	// RouteOnetime is the key-in charge (a charge route).
	RouteOnetime = "POST /subscribe/payments/onetime"
	// RouteRetry charges a failed schedule now (a charge route).
	RouteRetry = "POST /subscribe/payments/schedule/{merchant_uid}/retry"
	// RouteGetPayment is the lookup by imp_uid.
	RouteGetPayment = "GET /payments/{imp_uid}"
	// RouteGetPayments is the multi-id lookup.
	RouteGetPayments = "GET /payments"
	// RouteFind is the lookup by merchant_uid (newest payment).
	RouteFind = "GET /payments/find/{merchant_uid}"
	// RouteFindStatus is the lookup by merchant_uid and payment status.
	RouteFindStatus = "GET /payments/find/{merchant_uid}/{payment_status}"
	// RouteCancel cancels (refunds) a payment.
	RouteCancel = "POST /payments/cancel"
	// RouteSchedule registers scheduled payments.
	RouteSchedule = "POST /subscribe/payments/schedule"
	// RouteUnschedule revokes scheduled payments.
	RouteUnschedule = "POST /subscribe/payments/unschedule"
	// RouteGetBillingKey is the billing-key lookup.
	RouteGetBillingKey = "GET /subscribe/customers/{customer_uid}"
	// RouteIssueBillingKey issues a billing key from card data.
	RouteIssueBillingKey = "POST /subscribe/customers/{customer_uid}"
	// RouteBalance is a payment's balance.
	RouteBalance = "GET /payments/{imp_uid}/balance"
	// RouteUsersPG lists the account's PG channels.
	RouteUsersPG = "GET /users/pg"
	// RouteFindAll is the paged lookup by merchant_uid.
	RouteFindAll = "GET /payments/findAll/{merchant_uid}"
	// RouteFindAllStatus is the paged lookup by merchant_uid and status.
	RouteFindAllStatus = "GET /payments/findAll/{merchant_uid}/{payment_status}"
	// RouteListSchedules lists schedules by time.
	RouteListSchedules = "GET /subscribe/payments/schedule"
	// RoutePrepare registers a prepared amount.
	RoutePrepare = "POST /payments/prepare"
)

// Defaults of a new Server.
const (
	// DefaultAPIKey is the imp_key a Server accepts unless [WithCredentials].
	DefaultAPIKey = "test_api_key"
	// DefaultAPISecret is the imp_secret a Server accepts unless [WithCredentials].
	DefaultAPISecret = "test_api_secret"
	// DefaultTokenLifetime is how long an access token lives unless [WithTokenLifetime].
	DefaultTokenLifetime = 30 * time.Minute
)

const (
	msgUnauthorized   = "Unauthorized"
	msgNoPayment      = apitext.NoPayment
	msgUnknownBuyer   = apitext.UnknownBuyer
	msgAlreadyPaid    = "이미 주문이 이루어진 건입니다"
	msgNothingCancel  = apitext.NothingToCancel
	msgBadCard        = "카드정보 인증에 실패하였습니다."
	msgUserClosed     = "사용자가 결제를 취소하셨습니다"
	msgInternal       = "Internal Server Error"
	pgProvider        = "jtnet"
	pgID              = "tpaytest0m"
	maxBody           = 1 << 20
	maxMerchantUIDLen = 40
	maxCustomerUIDLen = 80
)

// Server is a running fake Iamport API on 127.0.0.1. All of its methods are
// safe for concurrent use.
type Server struct {
	// APIKey and APISecret are the credentials getToken accepts (defaults
	// [DefaultAPIKey], [DefaultAPISecret]). Set them with [WithCredentials];
	// do not change them after NewServer returns.
	APIKey, APISecret string

	ts            *httptest.Server
	clock         *Clock
	clockSub      int
	tokenLifetime time.Duration
	skew          time.Duration
	latency       time.Duration
	webhookURL    string

	closing   chan struct{}
	closeOnce sync.Once

	mu    sync.Mutex
	whCnd *sync.Cond
	st    state

	ext serverExt // control.go: fixed address, wall clock, control API
}

// ServerOption configures a Server in [NewServer].
type ServerOption func(*Server)

// WithClock makes the server read time from c (default: a new Clock at the
// current wall time truncated to the second).
func WithClock(c *Clock) ServerOption { return func(s *Server) { s.clock = c } }

// WithTokenLifetime sets how long an access token lives (default 30 minutes:
// expired_at − now = 1800).
func WithTokenLifetime(d time.Duration) ServerOption {
	return func(s *Server) { s.tokenLifetime = d }
}

// WithServerSkew sets the server's own clock to Clock().Now()+d: now,
// expired_at, started_at, paid_at and every other time the server prints or
// compares use it, so tests can check that clients never trust their local
// clock.
func WithServerSkew(d time.Duration) ServerOption { return func(s *Server) { s.skew = d } }

// WithLatency adds a real-time delay of d to every API request except
// getToken. The delay ends early, with nothing processed, if the request's
// context ends.
func WithLatency(d time.Duration) ServerOption { return func(s *Server) { s.latency = d } }

// WithCredentials sets the imp_key and imp_secret that getToken accepts.
func WithCredentials(key, secret string) ServerOption {
	return func(s *Server) { s.APIKey, s.APISecret = key, secret }
}

// WithWebhookURL sets the console notification URL, used when a request
// carries no notice_url. Webhooks are only sent to loopback URLs.
func WithWebhookURL(u string) ServerOption { return func(s *Server) { s.webhookURL = u } }

// NewServer starts a fake Iamport API on 127.0.0.1 (plain HTTP/1.1), ready
// to use. Call Close when done.
func NewServer(opts ...ServerOption) *Server {
	s := &Server{
		APIKey:        DefaultAPIKey,
		APISecret:     DefaultAPISecret,
		tokenLifetime: DefaultTokenLifetime,
		closing:       make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	if s.clock == nil {
		s.clock = NewClock(time.Now().Truncate(time.Second))
	}
	s.whCnd = sync.NewCond(&s.mu)
	s.st.init()
	mux := http.NewServeMux()
	s.routes(mux)
	s.ts = s.startHTTP(mux) // control.go
	s.clockSub = s.clock.subscribe(s.runDueSchedules)
	return s
}

// URL returns the base URL of the server, like "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.ts.URL }

// Clock returns the clock the server reads (before [WithServerSkew]).
func (s *Server) Clock() *Clock { return s.clock }

// Close stops the server: requests sleeping on a fault wake up and finish,
// pending webhook deliveries are abandoned.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.clock.unsubscribe(s.clockSub)
		s.mu.Lock()
		s.st.closed = true
		s.mu.Unlock()
		s.ts.Close()
		s.mu.Lock()
		for s.st.webhooksInFlight > 0 {
			s.whCnd.Wait()
		}
		s.mu.Unlock()
	})
}

// now is the server's own clock: Clock().Now() + skew.
func (s *Server) now() time.Time { return s.clock.Now().Add(s.skew) }

// faultSleep waits d for FaultDelay and FaultSlowPG: until the server's
// Clock has moved d forward (by Advance, Set, or an iamporttest client's
// waits) or d of real time has passed, whichever comes first, or until the
// server closes.
func (s *Server) faultSleep(d time.Duration) {
	if d <= 0 {
		return
	}
	moved, release := s.clock.after(s.clock.Now().Add(d))
	defer release()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-moved:
	case <-t.C:
	case <-s.closing:
	}
}

// ---- plumbing ----

type reply struct {
	status int
	env    envelope
}

func ok(resp any) reply { return reply{status: http.StatusOK, env: envelope{Response: resp}} }

func fail(status, code int, msg string) reply {
	return reply{status: status, env: envelope{Code: code, Message: sptr(msg)}}
}

func bizErr(code int, msg string) reply { return fail(http.StatusOK, code, msg) }
func badRequest(msg string) reply       { return fail(http.StatusBadRequest, -1, msg) }
func notFound(msg string) reply         { return fail(http.StatusNotFound, -1, msg) }

type reqCtx struct {
	r     *http.Request
	route string
	p     params
	perr  error
	slow  time.Duration // FaultSlowPG: answer a charge only after this delay
}

type handlerFunc func(rc *reqCtx) reply

// servedRoutes is every route the fake serves, for the spec check; set
// once, by the first NewServer.
var (
	servedRoutes     []string
	servedRoutesOnce sync.Once
)

func (s *Server) routes(mux *http.ServeMux) {
	var served []string
	defer servedRoutesOnce.Do(func() { servedRoutes = served })
	h := func(route string, fn handlerFunc) {
		mux.Handle(route, s.wrap(route, fn))
		served = append(served, route)
	}
	h(RouteToken, s.handleGetToken)

	h(RouteAgain, s.handleAgain)
	h(RouteOnetime, s.handleOnetime)
	h(RouteSchedule, s.handleSchedule)
	h(RouteUnschedule, s.handleUnschedule)
	h("GET /subscribe/payments/schedule", s.handleListSchedules)
	h("GET /subscribe/payments/schedule/{merchant_uid}", s.handleGetSchedule)
	h("PUT /subscribe/payments/schedule/{merchant_uid}", s.handleUpdateSchedule)
	h("POST /subscribe/payments/schedule/{merchant_uid}/reschedule", s.handleReschedule)
	h(RouteRetry, s.handleRetry)
	h("GET /subscribe/payments/schedule/customers/{customer_uid}", s.handleCustomerSchedules)

	h("GET /subscribe/customers", s.handleGetCustomers)
	h(RouteGetBillingKey, s.handleGetCustomer)
	h("POST /subscribe/customers/{customer_uid}", s.handleIssueCustomer)
	h("DELETE /subscribe/customers/{customer_uid}", s.handleDeleteCustomer)
	h("GET /subscribe/customers/{customer_uid}/payments", s.handleCustomerPayments)
	h("GET /subscribe/customers/{customer_uid}/schedules", s.handleCustomerSchedules)

	h(RouteGetPayments, s.handleGetPayments)
	h(RouteGetPayment, s.handleGetPayment)
	h(RouteFind, s.handleFind)
	h(RouteFindStatus, s.handleFind)
	h("GET /payments/findAll/{merchant_uid}", s.handleFindAll)
	h("GET /payments/findAll/{merchant_uid}/{payment_status}", s.handleFindAll)
	h("GET /payments/status/{payment_status}", s.handleByStatus)
	h(RouteCancel, s.handleCancel)
	h("POST /payments/prepare", s.handlePrepare)
	h("PUT /payments/prepare", s.handleUpdatePrepare)
	h("GET /payments/prepare/{merchant_uid}", s.handleGetPrepare)
	// GET /payments/{imp_uid}/balance overlaps /payments/find/{merchant_uid}
	// and /payments/findAll/{merchant_uid} in ServeMux's eyes (the path
	// /payments/find/balance matches both), so it is served under the
	// wider pattern, which those two are more specific than.
	mux.Handle("GET /payments/{imp_uid}/{sub}", s.wrap(RouteBalance, func(rc *reqCtx) reply {
		if rc.r.PathValue("sub") != "balance" {
			return fail(http.StatusNotFound, -1, "요청하신 API를 찾을 수 없습니다: "+rc.r.Method+" "+rc.r.URL.Path)
		}
		return s.handleBalance(rc)
	}))
	served = append(served, RouteBalance)
	h(RouteUsersPG, s.handleUsersPG)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeReply(w, fail(http.StatusNotFound, -1, "요청하신 API를 찾을 수 없습니다: "+r.Method+" "+r.URL.Path))
	})
}

func isChargeRoute(route string) bool {
	return route == RouteAgain || route == RouteOnetime || route == RouteRetry
}

func writeReply(w http.ResponseWriter, rep reply) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep.env); err != nil {
		rep = fail(http.StatusInternalServerError, -1, msgInternal)
		buf.Reset()
		_ = enc.Encode(rep.env)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(rep.status)
	_, _ = w.Write(buf.Bytes())
}

const html502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

func (s *Server) wrap(route string, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.st.requests[route]++
		if route == RouteToken {
			s.st.tokenCalls++
		}
		s.mu.Unlock()

		if route != RouteToken {
			if rep, ok := s.authenticate(r); !ok {
				writeReply(w, rep)
				return
			}
			if s.latency > 0 {
				t := time.NewTimer(s.latency)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					return
				case <-s.closing:
					t.Stop()
				}
			}
			s.runDueSchedules()
		}

		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		rc := &reqCtx{r: r, route: route}
		if err != nil {
			rc.perr = err
		} else {
			rc.p, rc.perr = parseParams(r.Header.Get("Content-Type"), body)
		}
		s.mu.Lock()
		s.recordLocked(route, r, rc.p)
		s.mu.Unlock()

		f := s.pickFault(route, s.merchantUIDOf(rc))
		switch f.Kind {
		case FaultReset:
			resetConn(w, true)
			return
		case Fault5xxBeforeCommit:
			writeReply(w, fail(http.StatusInternalServerError, -1, msgInternal))
			return
		case FaultHTML502:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, html502)
			return
		case FaultRedirect:
			http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
			return
		case FaultDelay:
			s.faultSleep(f.Delay)
		case FaultSlowPG:
			if isChargeRoute(route) {
				rc.slow = f.Delay
			}
		}

		rep := fn(rc)

		switch f.Kind {
		case FaultDropAfterCommit:
			resetConn(w, false)
			return
		case Fault5xxAfterCommit:
			writeReply(w, fail(http.StatusInternalServerError, -1, msgInternal))
			return
		case FaultRedirectAfterCommit:
			http.Redirect(w, r, r.URL.String(), http.StatusPermanentRedirect)
			return
		}
		writeReply(w, rep)
	})
}

// resetConn hijacks the connection and closes it without a reply; with rst
// the close sends a TCP RST (connection reset by peer).
func resetConn(w http.ResponseWriter, rst bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// merchantUIDOf finds the merchant_uid a request is about (for fault
// matching): from the path, the body, or the payment an imp_uid names.
func (s *Server) merchantUIDOf(rc *reqCtx) string {
	if m := rc.r.PathValue("merchant_uid"); m != "" {
		return m
	}
	if rc.perr == nil {
		if m := rc.p.str("merchant_uid"); m != "" {
			return m
		}
		if imp := rc.p.str("imp_uid"); imp != "" {
			return s.merchantOfImp(imp)
		}
	}
	if imp := rc.r.PathValue("imp_uid"); imp != "" {
		return s.merchantOfImp(imp)
	}
	return ""
}

func (s *Server) merchantOfImp(imp string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.st.byImp[imp]; p != nil {
		return p.merchantUID
	}
	return ""
}

// authenticate checks the access token: "Bearer <tok>" or the raw token.
func (s *Server) authenticate(r *http.Request) (reply, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	tok := h
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		tok = strings.TrimSpace(h[7:])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if tok != "" && s.st.token != "" && tok == s.st.token && now.Before(s.st.tokenExp) {
		return reply{}, true
	}
	if tok != "" {
		s.st.expiredTokenReqs++
	}
	return fail(http.StatusUnauthorized, -1, msgUnauthorized), false
}

// ---- getToken ----

func (s *Server) handleGetToken(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	key, secret := rc.p.str("imp_key"), rc.p.str("imp_secret")
	if key == "" || secret == "" || key != s.APIKey || secret != s.APISecret {
		return fail(http.StatusUnauthorized, -1, "imp_key, imp_secret 인증에 실패하였습니다.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.st.token != "" && now.Before(s.st.tokenExp) {
		if s.st.tokenExp.Sub(now) <= time.Minute {
			s.st.tokenExp = s.st.tokenExp.Add(5 * time.Minute)
		}
	} else {
		s.st.token = randomHex(20)
		s.st.tokenExp = now.Add(s.tokenLifetime)
	}
	return ok(wireToken{AccessToken: s.st.token, Now: now.Unix(), ExpiredAt: s.st.tokenExp.Unix()})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomInt(max int64) int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(max))
	if err != nil {
		return 0
	}
	return n.Int64()
}

// RevokeTokens invalidates every issued token: requests carrying one get 401,
// and the next getToken issues a new token.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.token = ""
	s.st.tokenExp = time.Time{}
}

// TokenCalls returns the number of getToken requests received (any outcome).
func (s *Server) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.tokenCalls
}

// ExpiredTokenRequests returns the number of API requests that carried an
// expired, revoked or unknown token (and were answered 401). Requests without
// any token are not counted.
func (s *Server) ExpiredTokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.expiredTokenReqs
}

// Requests returns how many requests reached route, a string "METHOD
// /path/pattern" as listed in the package doc (e.g. "POST
// /subscribe/payments/again", "GET /payments/find/{merchant_uid}"). Every
// received request counts, including those answered 401 or hit by a fault.
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.requests[route]
}
