package iamporttest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file runs the fake as a standalone server that tests in any language
// can drive: a fixed listening address ([WithAddr], [WithListener]), a clock
// that follows wall time ([WithWallClock]) and a control API over HTTP under
// [ControlPrefix] ([WithControlAPI]). The CLI's `iamport fake` uses all
// three.

// ControlPrefix is the path under which [WithControlAPI] serves the control
// API. The real API has no such path.
const ControlPrefix = "/__fake/"

// wallTick is how often a wall clock is brought up to date (and due
// schedules run).
const wallTick = 100 * time.Millisecond

// serverExt is the state of the options of this file.
type serverExt struct {
	addr     string
	ln       net.Listener
	control  bool
	wallInit bool // WithWallClock: start on wall time

	wallOnce sync.Once
	mu       sync.Mutex
	manual   bool          // the wall clock is stopped (manual mode)
	offset   time.Duration // wall mode: clock = time.Now() + offset
	seed     *Seed         // re-applied by a reset
}

// WithAddr makes the server listen on addr (e.g. "127.0.0.1:8080") instead
// of a random loopback port. NewServer panics if it cannot listen there, as
// httptest does; use [WithListener] to handle that error yourself.
func WithAddr(addr string) ServerOption { return func(s *Server) { s.ext.addr = addr } }

// WithListener makes the server serve on ln (which it closes on Close).
func WithListener(ln net.Listener) ServerOption { return func(s *Server) { s.ext.ln = ln } }

// WithWallClock makes the server's clock follow wall time (brought up to
// date every 100 ms), so that a long-running server stamps payments with the time
// they happen. The clock can still be moved ([Server.AdvanceClock],
// [Server.SetClock], the control API), which shifts it from wall time from
// then on, and stopped ([Server.SetClockMode] "manual"). Without this option the clock stands
// still unless moved. With [WithClock] the given clock is the one that
// follows wall time.
func WithWallClock() ServerOption { return func(s *Server) { s.ext.wallInit = true } }

// WithControlAPI serves the control API under [ControlPrefix], the stand-in
// payment window script at /iamport.js and /v1/iamport.js, and its
// request_pay endpoint. See [Server.ControlHandler] for the routes.
func WithControlAPI() ServerOption { return func(s *Server) { s.ext.control = true } }

// startHTTP starts the HTTP server of NewServer with the options above.
func (s *Server) startHTTP(mux *http.ServeMux) *httptest.Server {
	if s.ext.control {
		s.controlRoutes(mux)
	}
	ts := httptest.NewUnstartedServer(mux)
	ln := s.ext.ln
	if ln == nil && s.ext.addr != "" {
		var err error
		if ln, err = net.Listen("tcp", s.ext.addr); err != nil {
			panic(fmt.Sprintf("iamporttest: failed to listen on %s: %v", s.ext.addr, err))
		}
	}
	if ln != nil {
		_ = ts.Listener.Close()
		ts.Listener = ln
	}
	ts.Start()
	if a, ok := ts.Listener.Addr().(*net.TCPAddr); ok && (a.IP == nil || a.IP.IsUnspecified()) {
		// Listening on every interface: the URL clients on this machine
		// (and the SDK's loopback rule for plain http) can use.
		ts.URL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	if s.ext.wallInit {
		s.ext.mu.Lock()
		s.ext.offset = time.Until(s.clock.Now())
		s.ext.mu.Unlock()
		s.startWallClock()
	} else {
		s.ext.manual = true
	}
	return ts
}

// startWallClock starts (once) the goroutine that keeps the clock on wall
// time while it is not in manual mode.
func (s *Server) startWallClock() {
	s.ext.wallOnce.Do(func() {
		go func() {
			t := time.NewTicker(wallTick)
			defer t.Stop()
			for {
				s.tickWall()
				select {
				case <-s.closing:
					return
				case <-t.C:
				}
			}
		}()
	})
}

func (s *Server) tickWall() {
	s.ext.mu.Lock()
	if s.ext.manual {
		s.ext.mu.Unlock()
		return
	}
	now := time.Now().Add(s.ext.offset)
	s.ext.mu.Unlock()
	s.clock.Set(now)
}

// ClockMode is "wall" when the server's clock follows wall time
// ([WithWallClock]), "manual" when it moves only when told to.
func (s *Server) ClockMode() string {
	s.ext.mu.Lock()
	defer s.ext.mu.Unlock()
	if s.ext.manual {
		return "manual"
	}
	return "wall"
}

// SetClockMode switches the clock between "wall" (follows wall time from
// its current reading on: it never jumps) and "manual" (stands still unless
// moved).
func (s *Server) SetClockMode(mode string) error {
	switch mode {
	case "manual":
		s.ext.mu.Lock()
		s.ext.manual = true
		s.ext.mu.Unlock()
	case "wall":
		s.ext.mu.Lock()
		if s.ext.manual {
			s.ext.offset = time.Until(s.clock.Now())
			s.ext.manual = false
		}
		s.ext.mu.Unlock()
		s.startWallClock()
	default:
		return fmt.Errorf("iamporttest: clock mode %q: want wall or manual", mode)
	}
	return nil
}

// AdvanceClock moves the server's clock by d, in either mode: in wall mode
// the shift is kept from then on (Clock.Advance alone would be undone by the
// next tick). Due schedules run before it returns.
func (s *Server) AdvanceClock(d time.Duration) { s.moveClock(d, time.Time{}) }

// SetClock moves the server's clock to t, in either mode (see AdvanceClock).
func (s *Server) SetClock(t time.Time) { s.moveClock(0, t) }

func (s *Server) moveClock(d time.Duration, to time.Time) {
	s.ext.mu.Lock()
	if to.IsZero() {
		to = s.clock.Now().Add(d)
	}
	if !s.ext.manual {
		s.ext.offset = time.Until(to)
	}
	s.ext.mu.Unlock()
	s.clock.Set(to)
}

// ---- seed ----

// Seed is fixtures for a fake: billing keys and cards that decline or are
// refused. It is the JSON of `iamport fake --seed file.json` and of the
// control API's POST /__fake/seed.
type Seed struct {
	BillingKeys []SeedBillingKey `json:"billing_keys,omitempty"`
	// DeclineCustomers: charges on these keys decline with the reason.
	DeclineCustomers []SeedDecline `json:"decline_customers,omitempty"`
	// DeclineCards: charges with these card numbers decline with the reason.
	DeclineCards []SeedDecline `json:"decline_cards,omitempty"`
	// RejectCards: issuing a key from (or a key-in charge with) these card
	// numbers fails with code -1 and the reason as message.
	RejectCards []SeedDecline `json:"reject_cards,omitempty"`
}

// SeedBillingKey is a billing key to register ([Server.RegisterBillingKey]).
type SeedBillingKey struct {
	CustomerUID string `json:"customer_uid"`
	CardNumber  string `json:"card_number,omitempty"` // "" = DefaultCardNumber
}

// SeedDecline names a customer_uid or a card number and a reason.
type SeedDecline struct {
	CustomerUID string `json:"customer_uid,omitempty"`
	CardNumber  string `json:"card_number,omitempty"`
	Reason      string `json:"reason"`
}

// ApplySeed registers the seed's billing keys and declining or refused
// cards, the refusals first (so a seeded key from a refused card fails).
// It stops at the first error.
func (s *Server) ApplySeed(sd Seed) error {
	for _, r := range sd.RejectCards {
		if cardDigits(r.CardNumber) == "" {
			return fmt.Errorf("iamporttest: seed: reject_cards: invalid card number")
		}
		s.RejectCard(r.CardNumber, r.Reason)
	}
	for _, d := range sd.DeclineCards {
		if cardDigits(d.CardNumber) == "" {
			return fmt.Errorf("iamporttest: seed: decline_cards: invalid card number")
		}
		s.DeclineCard(d.CardNumber, d.Reason)
	}
	for _, d := range sd.DeclineCustomers {
		if d.CustomerUID == "" {
			return fmt.Errorf("iamporttest: seed: decline_customers: customer_uid is required")
		}
		s.DeclineCustomer(d.CustomerUID, d.Reason)
	}
	for _, k := range sd.BillingKeys {
		card := k.CardNumber
		if card == "" {
			card = DefaultCardNumber
		}
		if err := s.RegisterBillingKey(k.CustomerUID, card); err != nil {
			return fmt.Errorf("seed: billing key %q: %w", k.CustomerUID, err)
		}
	}
	return nil
}

// SetResetSeed sets the seed that [Server.Reset] applies again after
// clearing the state (the CLI's demo key and --seed file).
func (s *Server) SetResetSeed(sd Seed) {
	s.ext.mu.Lock()
	defer s.ext.mu.Unlock()
	s.ext.seed = &sd
}

// Reset forgets every payment, billing key, schedule, prepared amount,
// declining card, fault, webhook record and counter, as if the server had
// just started, then applies the seed set with [Server.SetResetSeed]. The
// current access token stays valid (clients need not notice) and the clock
// is not moved. It waits for webhook deliveries in flight.
func (s *Server) Reset() error {
	s.mu.Lock()
	for s.st.webhooksInFlight > 0 {
		s.whCnd.Wait()
	}
	tok, exp, closed := s.st.token, s.st.tokenExp, s.st.closed
	s.st = state{}
	s.st.init()
	s.st.token, s.st.tokenExp, s.st.closed = tok, exp, closed
	s.mu.Unlock()
	s.ext.mu.Lock()
	sd := s.ext.seed
	s.ext.mu.Unlock()
	if sd != nil {
		return s.ApplySeed(*sd)
	}
	return nil
}

// ---- fault names ----

// faultNames are the control API's names of the fault kinds.
var faultNames = map[string]FaultKind{
	"reset":                 FaultReset,
	"5xx_before_commit":     Fault5xxBeforeCommit,
	"drop_after_commit":     FaultDropAfterCommit,
	"5xx_after_commit":      Fault5xxAfterCommit,
	"html_502":              FaultHTML502,
	"delay":                 FaultDelay,
	"slow_pg":               FaultSlowPG,
	"redirect":              FaultRedirect,
	"redirect_after_commit": FaultRedirectAfterCommit,
}

// ParseFaultKind reads a fault kind by its control-API name ("reset",
// "5xx_before_commit", "drop_after_commit", "5xx_after_commit", "html_502",
// "delay", "slow_pg") or its Go name ("FaultReset", …).
func ParseFaultKind(name string) (FaultKind, error) {
	if k, ok := faultNames[strings.ToLower(name)]; ok {
		return k, nil
	}
	for k := FaultReset; k <= FaultSlowPG; k++ {
		if k.String() == name {
			return k, nil
		}
	}
	return FaultNone, fmt.Errorf("unknown fault kind %q", name)
}

func faultName(k FaultKind) string {
	for n, v := range faultNames {
		if v == k {
			return n
		}
	}
	return "none"
}

// ---- the control API ----

// ControlHandler returns the control API (what [WithControlAPI] mounts
// under [ControlPrefix]): JSON over HTTP, for tests in any language.
//
//	GET    /__fake/                  what is here, the credentials, the clock
//	POST   /__fake/reset             forget everything, re-apply the seed
//	POST   /__fake/seed              apply a Seed (JSON)
//	POST   /__fake/billing-keys      {"customer_uid","card_number"?}
//	GET    /__fake/billing-keys      the billing keys
//	POST   /__fake/declines          {"customer_uid"|"card_number","reason"} ("" reason undoes)
//	POST   /__fake/rejects           {"card_number","reason"}
//	GET    /__fake/faults            faults waiting to hit
//	POST   /__fake/faults            {"kind","route"?,"merchant_uid"?,"times"?,"delay"?}
//	DELETE /__fake/faults            clear faults and latency
//	POST   /__fake/latency           {"delay":"200ms","route"?} every request (0 clears)
//	GET    /__fake/clock             {"now","unix","mode"}
//	POST   /__fake/clock             {"advance":"1h"} | {"set":RFC 3339} | {"mode":"wall"|"manual"}
//	POST   /__fake/tokens/expire     revoke every access token
//	GET    /__fake/counters          getToken calls, requests by route, charges by merchant_uid
//	GET    /__fake/ledger            payments (?merchant_uid=, ?status=) and totals
//	GET    /__fake/schedules         scheduled payments
//	GET    /__fake/webhooks          webhook deliveries
//	POST   /__fake/window/request_pay  the stand-in payment window's request (CORS)
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	s.controlRoutes(mux)
	return mux
}

func (s *Server) controlRoutes(mux *http.ServeMux) {
	h := func(pattern string, fn func(r *http.Request) (int, any)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			status, v := fn(r)
			writeJSON(w, status, v)
		})
	}
	p := strings.TrimSuffix(ControlPrefix, "/")
	h("GET "+p+"/{$}", s.ctlIndex)
	h(p+"/", func(r *http.Request) (int, any) {
		return http.StatusNotFound, ctlError("no such control route: " + r.Method + " " + r.URL.Path)
	})
	h("POST "+p+"/reset", func(*http.Request) (int, any) {
		if err := s.Reset(); err != nil {
			return http.StatusInternalServerError, ctlError(err.Error())
		}
		return ctlOK()
	})
	h("POST "+p+"/seed", s.ctlSeed)
	h("POST "+p+"/billing-keys", s.ctlRegisterKey)
	h("GET "+p+"/billing-keys", s.ctlListKeys)
	h("POST "+p+"/declines", s.ctlDecline)
	h("POST "+p+"/rejects", s.ctlReject)
	h("GET "+p+"/faults", s.ctlListFaults)
	h("POST "+p+"/faults", s.ctlInjectFault)
	h("DELETE "+p+"/faults", func(*http.Request) (int, any) { s.ClearFaults(); return ctlOK() })
	h("POST "+p+"/latency", s.ctlLatency)
	h("GET "+p+"/clock", func(*http.Request) (int, any) { return http.StatusOK, s.clockView() })
	h("POST "+p+"/clock", s.ctlClock)
	h("POST "+p+"/tokens/expire", func(*http.Request) (int, any) { s.RevokeTokens(); return ctlOK() })
	h("GET "+p+"/counters", s.ctlCounters)
	h("GET "+p+"/ledger", s.ctlLedger)
	h("GET "+p+"/schedules", s.ctlSchedules)
	h("GET "+p+"/webhooks", s.ctlWebhooks)
	s.windowRoutes(mux)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

type ctlErr struct {
	Error string `json:"error"`
}

func ctlError(msg string) ctlErr { return ctlErr{Error: msg} }

func ctlOK() (int, any) { return http.StatusOK, map[string]bool{"ok": true} }

// decodeBody reads a JSON body into v (an empty body leaves v as it is).
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %w", err)
	}
	return nil
}

func badCtl(err error) (int, any) { return http.StatusBadRequest, ctlError(err.Error()) }

func (s *Server) ctlIndex(*http.Request) (int, any) {
	return http.StatusOK, map[string]any{
		"api_url":    s.URL(),
		"api_key":    s.APIKey,
		"api_secret": s.APISecret,
		"clock":      s.clockView(),
		"window_js":  s.URL() + "/iamport.js",
		"routes": []string{
			"POST /__fake/reset", "POST /__fake/seed", "POST|GET /__fake/billing-keys",
			"POST /__fake/declines", "POST /__fake/rejects", "GET|POST|DELETE /__fake/faults",
			"POST /__fake/latency", "GET|POST /__fake/clock", "POST /__fake/tokens/expire",
			"GET /__fake/counters", "GET /__fake/ledger", "GET /__fake/schedules",
			"GET /__fake/webhooks", "POST /__fake/window/request_pay", "GET /iamport.js",
		},
		"fault_kinds": []string{"reset", "5xx_before_commit", "drop_after_commit", "5xx_after_commit", "html_502", "delay", "slow_pg"},
	}
}

func (s *Server) ctlSeed(r *http.Request) (int, any) {
	var sd Seed
	if err := decodeBody(r, &sd); err != nil {
		return badCtl(err)
	}
	if err := s.ApplySeed(sd); err != nil {
		return badCtl(err)
	}
	return ctlOK()
}

func (s *Server) ctlRegisterKey(r *http.Request) (int, any) {
	var k SeedBillingKey
	if err := decodeBody(r, &k); err != nil {
		return badCtl(err)
	}
	if err := s.ApplySeed(Seed{BillingKeys: []SeedBillingKey{k}}); err != nil {
		return badCtl(err)
	}
	bk, _ := s.BillingKey(k.CustomerUID)
	return http.StatusOK, keyView(bk)
}

type ctlKey struct {
	CustomerUID string `json:"customer_uid"`
	PGProvider  string `json:"pg_provider"`
	CardName    string `json:"card_name"`
	CardNumber  string `json:"card_number"`
	Inserted    int64  `json:"inserted"`
	Updated     int64  `json:"updated"`
}

func keyView(k BillingKey) ctlKey {
	return ctlKey{CustomerUID: k.CustomerUID, PGProvider: k.PGProvider, CardName: k.CardName,
		CardNumber: k.CardNumber, Inserted: unixOf(k.Inserted), Updated: unixOf(k.Updated)}
}

func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func (s *Server) ctlListKeys(*http.Request) (int, any) {
	s.mu.Lock()
	list := make([]ctlKey, 0, len(s.st.keys))
	for _, k := range s.st.keys {
		if !k.deleted {
			list = append(list, keyView(k.snapshot()))
		}
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].CustomerUID < list[j].CustomerUID })
	return http.StatusOK, list
}

func (s *Server) ctlDecline(r *http.Request) (int, any) {
	var d SeedDecline
	if err := decodeBody(r, &d); err != nil {
		return badCtl(err)
	}
	switch {
	case d.CustomerUID != "" && d.CardNumber != "":
		return badCtl(errors.New("give customer_uid or card_number, not both"))
	case d.CustomerUID != "":
		s.DeclineCustomer(d.CustomerUID, d.Reason)
	case cardDigits(d.CardNumber) != "":
		s.DeclineCard(d.CardNumber, d.Reason)
	default:
		return badCtl(errors.New("customer_uid or a valid card_number is required"))
	}
	return ctlOK()
}

func (s *Server) ctlReject(r *http.Request) (int, any) {
	var d SeedDecline
	if err := decodeBody(r, &d); err != nil {
		return badCtl(err)
	}
	if cardDigits(d.CardNumber) == "" {
		return badCtl(errors.New("a valid card_number is required"))
	}
	s.RejectCard(d.CardNumber, d.Reason)
	return ctlOK()
}

// ctlFault is a Fault in the control API's JSON.
type ctlFault struct {
	Kind        string `json:"kind"`
	Route       string `json:"route,omitempty"`
	MerchantUID string `json:"merchant_uid,omitempty"`
	Times       int    `json:"times,omitempty"`
	Delay       string `json:"delay,omitempty"`
	Left        int    `json:"left,omitempty"`
}

func (s *Server) ctlInjectFault(r *http.Request) (int, any) {
	var f ctlFault
	if err := decodeBody(r, &f); err != nil {
		return badCtl(err)
	}
	kind, err := ParseFaultKind(f.Kind)
	if err != nil {
		return badCtl(err)
	}
	var d time.Duration
	if f.Delay != "" {
		if d, err = time.ParseDuration(f.Delay); err != nil || d < 0 {
			return badCtl(fmt.Errorf("delay %q: want a duration like 1.5s", f.Delay))
		}
	}
	if (kind == FaultDelay || kind == FaultSlowPG) && d == 0 {
		return badCtl(errors.New("kind " + f.Kind + " needs a delay"))
	}
	if f.Times < -1 {
		return badCtl(errors.New("times: want -1 (forever), 0 (once) or a count"))
	}
	s.InjectFault(Fault{Kind: kind, Route: f.Route, MerchantUID: f.MerchantUID, Times: f.Times, Delay: d})
	return ctlOK()
}

func (s *Server) ctlListFaults(*http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ctlFault, 0, len(s.st.faults))
	for _, e := range s.st.faults {
		if e.left == 0 {
			continue
		}
		cf := ctlFault{Kind: faultName(e.f.Kind), Route: e.f.Route, MerchantUID: e.f.MerchantUID, Times: e.f.Times, Left: e.left}
		if e.f.Delay > 0 {
			cf.Delay = e.f.Delay.String()
		}
		out = append(out, cf)
	}
	return http.StatusOK, out
}

// ctlLatency delays every request (or every request of one route) by a
// fixed real-time delay, getToken included only when named. It uses the
// fault function: it replaces any set with SetFaultFunc.
func (s *Server) ctlLatency(r *http.Request) (int, any) {
	var body struct {
		Delay string `json:"delay"`
		Route string `json:"route"`
	}
	if err := decodeBody(r, &body); err != nil {
		return badCtl(err)
	}
	d, err := time.ParseDuration(body.Delay)
	if err != nil || d < 0 {
		return badCtl(fmt.Errorf("delay %q: want a duration like 200ms", body.Delay))
	}
	if d == 0 {
		s.SetFaultFunc(nil)
		return ctlOK()
	}
	route := body.Route
	s.SetFaultFunc(func(rt, _ string) Fault {
		if (route == "" && rt != RouteToken) || rt == route {
			return Fault{Kind: FaultDelay, Delay: d}
		}
		return Fault{}
	})
	return ctlOK()
}

type clockView struct {
	Now  string `json:"now"`
	Unix int64  `json:"unix"`
	Mode string `json:"mode"`
}

func (s *Server) clockView() clockView {
	t := s.now()
	return clockView{Now: t.UTC().Format(time.RFC3339), Unix: t.Unix(), Mode: s.ClockMode()}
}

func (s *Server) ctlClock(r *http.Request) (int, any) {
	var body struct {
		Advance string `json:"advance"`
		Set     string `json:"set"`
		Mode    string `json:"mode"`
	}
	if err := decodeBody(r, &body); err != nil {
		return badCtl(err)
	}
	if body.Mode != "" {
		if err := s.SetClockMode(body.Mode); err != nil {
			return badCtl(err)
		}
	}
	switch {
	case body.Advance != "" && body.Set != "":
		return badCtl(errors.New("give advance or set, not both"))
	case body.Advance != "":
		d, err := time.ParseDuration(body.Advance)
		if err != nil {
			return badCtl(fmt.Errorf("advance %q: want a duration like 24h", body.Advance))
		}
		s.AdvanceClock(d)
	case body.Set != "":
		t, err := time.Parse(time.RFC3339, body.Set)
		if err != nil {
			return badCtl(fmt.Errorf("set %q: want RFC 3339, like 2026-12-01T00:00:00+09:00", body.Set))
		}
		s.SetClock(t)
	}
	return http.StatusOK, s.clockView()
}

func (s *Server) ctlCounters(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := struct {
		TokenCalls           int            `json:"token_calls"`
		ExpiredTokenRequests int            `json:"expired_token_requests"`
		Requests             map[string]int `json:"requests"`
		Charges              map[string]int `json:"charges"`
		ChargeAttempts       map[string]int `json:"charge_attempts"`
	}{
		TokenCalls: s.st.tokenCalls, ExpiredTokenRequests: s.st.expiredTokenReqs,
		Requests: map[string]int{}, Charges: map[string]int{}, ChargeAttempts: map[string]int{},
	}
	for k, v := range s.st.requests {
		out.Requests[k] = v
	}
	only := r.URL.Query().Get("merchant_uid")
	for m, ps := range s.st.byMerchant {
		if only != "" && m != only {
			continue
		}
		n := 0
		for _, p := range ps {
			if !p.paidAt.IsZero() {
				n++
			}
		}
		out.Charges[m] = n
		out.ChargeAttempts[m] = len(ps)
	}
	if only != "" {
		out.Charges[only] += 0
		out.ChargeAttempts[only] += 0
	}
	return http.StatusOK, out
}

// ctlPayment is a ledger entry: amounts in the currency's minor unit, times
// in UNIX seconds (0 when unset).
type ctlPayment struct {
	ImpUID       string `json:"imp_uid"`
	MerchantUID  string `json:"merchant_uid"`
	CustomerUID  string `json:"customer_uid"`
	Channel      string `json:"channel"`
	Name         string `json:"name"`
	Amount       int64  `json:"amount"`
	CancelAmount int64  `json:"cancel_amount"`
	Currency     string `json:"currency"`
	Status       string `json:"status"`
	FailReason   string `json:"fail_reason,omitempty"`
	CancelReason string `json:"cancel_reason,omitempty"`
	CardNumber   string `json:"card_number,omitempty"`
	StartedAt    int64  `json:"started_at"`
	PaidAt       int64  `json:"paid_at"`
	FailedAt     int64  `json:"failed_at"`
	CancelledAt  int64  `json:"cancelled_at"`
}

type ctlTally struct {
	Count   int              `json:"count"`
	Amounts map[string]int64 `json:"amounts"`
}

func (s *Server) ctlLedger(r *http.Request) (int, any) {
	q := r.URL.Query()
	m, status := q.Get("merchant_uid"), q.Get("status")
	var list []Payment
	if m != "" {
		list = s.PaymentsByMerchantUID(m)
	} else {
		list = s.Payments()
	}
	out := struct {
		Payments []ctlPayment `json:"payments"`
		// Charged: payments that took money (paid, or paid then cancelled).
		Charged ctlTally            `json:"charged"`
		Status  map[string]ctlTally `json:"by_status"`
	}{Payments: []ctlPayment{}, Charged: ctlTally{Amounts: map[string]int64{}}, Status: map[string]ctlTally{}}
	for _, p := range list {
		if status != "" && p.Status != status {
			continue
		}
		out.Payments = append(out.Payments, ctlPayment{
			ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, CustomerUID: p.CustomerUID, Channel: p.Channel,
			Name: p.Name, Amount: p.Amount, CancelAmount: p.CancelAmount, Currency: p.Currency,
			Status: p.Status, FailReason: p.FailReason, CancelReason: p.CancelReason, CardNumber: p.CardNumber,
			StartedAt: unixOf(p.StartedAt), PaidAt: unixOf(p.PaidAt), FailedAt: unixOf(p.FailedAt), CancelledAt: unixOf(p.CancelledAt),
		})
		t := out.Status[p.Status]
		if t.Amounts == nil {
			t.Amounts = map[string]int64{}
		}
		t.Count++
		t.Amounts[p.Currency] += p.Amount
		out.Status[p.Status] = t
		if !p.PaidAt.IsZero() {
			out.Charged.Count++
			out.Charged.Amounts[p.Currency] += p.Amount
		}
	}
	return http.StatusOK, out
}

func (s *Server) ctlSchedules(*http.Request) (int, any) {
	type view struct {
		CustomerUID    string `json:"customer_uid"`
		MerchantUID    string `json:"merchant_uid"`
		ImpUID         string `json:"imp_uid"`
		ScheduleAt     int64  `json:"schedule_at"`
		ExecutedAt     int64  `json:"executed_at"`
		RevokedAt      int64  `json:"revoked_at"`
		Amount         int64  `json:"amount"`
		Currency       string `json:"currency"`
		Name           string `json:"name"`
		ScheduleStatus string `json:"schedule_status"`
		PaymentStatus  string `json:"payment_status"`
		FailReason     string `json:"fail_reason,omitempty"`
	}
	out := []view{}
	for _, sc := range s.Schedules() {
		out = append(out, view{sc.CustomerUID, sc.MerchantUID, sc.ImpUID, unixOf(sc.ScheduleAt), unixOf(sc.ExecutedAt),
			unixOf(sc.RevokedAt), sc.Amount, sc.Currency, sc.Name, sc.ScheduleStatus, sc.PaymentStatus, sc.FailReason})
	}
	return http.StatusOK, out
}

func (s *Server) ctlWebhooks(*http.Request) (int, any) {
	type view struct {
		URL            string `json:"url"`
		ImpUID         string `json:"imp_uid"`
		MerchantUID    string `json:"merchant_uid"`
		Status         string `json:"status"`
		CancellationID string `json:"cancellation_id,omitempty"`
		StatusCode     int    `json:"status_code"`
		Error          string `json:"error,omitempty"`
	}
	out := []view{}
	for _, w := range s.Webhooks() {
		out = append(out, view{w.URL, w.ImpUID, w.MerchantUID, w.Status, w.CancellationID, w.StatusCode, w.Err})
	}
	return http.StatusOK, out
}
