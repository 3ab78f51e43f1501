// Package iamport is a Go client for the Iamport (PortOne V1) REST API at
// https://api.iamport.kr, built for subscription billing (정기결제): charging
// stored billing keys, issuing and looking up keys, scheduling charges,
// looking up, cancelling and refunding payments, and verifying what the
// payment window and webhooks report.
//
// Every call takes a context. Every charging call (AgainPayment,
// OnetimePayment, RetrySchedule) ends in exactly one of four outcomes: a paid
// *Payment, a *PaymentFailedError (declined), an error that says nothing was
// charged (ErrNotCharged, *APIError, *ValidationError), or ErrOutcomeUnknown.
// See AgainPayment for the full contract.
//
// A Client is safe for concurrent use by many goroutines; create one per
// API key pair and reuse it.
package iamport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/billingkr/iamport-go/internal/hook"
	"github.com/billingkr/iamport-go/internal/retry"
)

// Version is this SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// DefaultBaseURL is the Iamport REST API's address.
const DefaultBaseURL = "https://api.iamport.kr"

// DefaultTimeout bounds one HTTP attempt when the caller's context has no
// deadline. A context with a deadline always wins over it.
const DefaultTimeout = 30 * time.Second

// DefaultSettleWindow is how long, at least, after a charge or a cancel was
// written, Iamport must keep saying that it has no such payment (or no such
// cancel) before the SDK concludes that nothing happened. It must be longer
// than the attempt timeout: a client whose timeout is raised with
// WithTimeout and whose window is not set gets a window of one and a half
// times the timeout.
const DefaultSettleWindow = 45 * time.Second

const (
	maxErrorBody   = 1 << 20  // what is read of an error body
	maxSuccessBody = 64 << 20 // what is read of a successful body (a page of 1,000 payments is ~2 MiB)
	// maxPrealloc is the most of a declared Content-Length that is
	// allocated before the bytes arrive: a server that declares a large body
	// and stalls costs no more than this.
	maxPrealloc = 64 << 10
)

// Client calls the Iamport REST API. Create it with NewClient. Its zero value
// is not usable.
type Client struct {
	cfg  config
	hc   *http.Client // the authenticated client: auth transport over the base transport, no redirects
	auth *authTransport
	base *url.URL
	ua   string // the User-Agent header
}

// config is what the options set. It holds the API secret, so Client's
// formatting methods never print it.
type config struct {
	apiKey, apiSecret string
	baseURL           string
	httpClient        *http.Client
	tier              string
	logger            *slog.Logger
	userAgent         string
	settleWindow      time.Duration // 0: derived from timeout
	timeout           time.Duration
	timeoutSet        bool // WithTimeout was given
	clock             clock
	retry             RetryPolicy
	sandbox           bool  // WithSandbox: lookups include test-channel payments, verification accepts them
	err               error // the first option error, reported by NewClient
}

// clock is time as the client reads it and waits on it: the real clock,
// unless iamporttest wires in its manual one (through internal/hook), so
// that a test's settle window passes on the fake's time.
type clock struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func realClock() clock { return clock{now: time.Now, sleep: retry.Sleep} }

func init() {
	hook.ClientClock = func(now func() time.Time, sleep func(context.Context, time.Duration) error) any {
		return withClock(now, sleep)
	}
}

// withClock replaces the client's clock (tests and iamporttest).
func withClock(now func() time.Time, sleep func(context.Context, time.Duration) error) Option {
	return func(c *config) {
		if now == nil || sleep == nil {
			c.setErr(&ValidationError{Field: "clock", Reason: "must not be nil"})
			return
		}
		c.clock = clock{now: now, sleep: sleep}
	}
}

// Option configures a Client in NewClient.
type Option func(*config)

// WithBaseURL sets the API's base URL (default https://api.iamport.kr).
// Plain http:// is refused unless the host is a loopback address
// (127.0.0.0/8, ::1, localhost), which is what tests and iamporttest use.
func WithBaseURL(rawURL string) Option {
	return func(c *config) { c.baseURL = rawURL }
}

// WithHTTPClient sets the http.Client the SDK sends with. The given client is
// never modified: the SDK copies it, wraps its Transport (nil means the
// SDK's own transport, a clone of http.DefaultTransport that keeps 64 idle
// connections per host) and replaces its CheckRedirect (no API call follows
// a redirect). Its Timeout, if any, bounds each HTTP attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc == nil {
			c.setErr(&ValidationError{Field: "http_client", Reason: "must not be nil"})
			return
		}
		c.httpClient = hc
	}
}

var tierRE = regexp.MustCompile(`^[A-Z0-9]{3}$`)

// WithTier sets the sub-merchant tier code (exactly three characters of
// A-Z and 0-9), sent as the Tier header on every call, getToken included.
func WithTier(code string) Option {
	return func(c *config) {
		if !tierRE.MatchString(code) {
			c.setErr(&ValidationError{Field: "tier", Reason: "must be exactly 3 characters of A-Z and 0-9"})
			return
		}
		c.tier = code
	}
}

// WithLogger makes the client log one Debug line for every HTTP attempt
// (method, path, status, attempt, duration). Secrets, tokens, card data and
// bodies are never logged. The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithUserAgent sets the User-Agent header. The SDK's own name and Version
// are appended. Control characters (CR, LF, …) are refused.
func WithUserAgent(ua string) Option {
	return func(c *config) {
		if strings.ContainsFunc(ua, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			c.setErr(&ValidationError{Field: "user_agent", Reason: "must not contain control characters"})
			return
		}
		c.userAgent = strings.TrimSpace(ua)
	}
}

// WithSettleWindow sets how long, at least, after a charge or a cancel
// whose answer was lost was written, Iamport must keep answering that it
// has no such payment (or no such cancel) before the SDK reports
// ErrNotCharged (ErrNotApplied); default DefaultSettleWindow. It must be
// longer than the attempt timeout: NewClient refuses a window that is not
// longer than the timeout given with WithTimeout (or, with WithTimeout, the
// http.Client's Timeout when shorter); a window given without WithTimeout
// sets the attempts' timeout to two thirds of it when the default would not
// fit.
func WithSettleWindow(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.setErr(&ValidationError{Field: "settle_window", Reason: "must be positive"})
			return
		}
		c.settleWindow = d
	}
}

// WithTimeout bounds each HTTP attempt made under a context that has no
// deadline (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.setErr(&ValidationError{Field: "timeout", Reason: "must be positive"})
			return
		}
		c.timeout, c.timeoutSet = d, true
	}
}

// WithSandbox makes the client work with payments made on test channels
// (sandbox payments, whose Sandbox field is true): every payment lookup
// (GetPayment, FindPayment, FindPayments, GetPayments, the webhook
// re-fetch and the money engine's reconciliation) sends
// include_sandbox=true, without which Iamport answers 404 for them, and
// VerifyPayment and WebhookHandler accept them. Without it a sandbox
// payment is never verified as paid (a test payment is not money):
// VerifyPayment returns a *VerificationError on field "sandbox" and
// WebhookHandler answers 400 without calling its func. Use it on test and
// staging deployments only.
func WithSandbox() Option {
	return func(c *config) { c.sandbox = true }
}

func (c *config) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

// NewClient returns a client for the API key pair (imp_key and imp_secret
// from the Iamport console). It sends nothing: the first call fetches the
// access token.
func NewClient(apiKey, apiSecret string, opts ...Option) (*Client, error) {
	cfg := config{
		apiKey:    apiKey,
		apiSecret: apiSecret,
		baseURL:   DefaultBaseURL,
		timeout:   DefaultTimeout,
		clock:     realClock(),
		retry:     DefaultRetryPolicy(),
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if strings.TrimSpace(apiKey) == "" {
		return nil, &ValidationError{Field: "api_key", Reason: "must not be empty"}
	}
	if strings.TrimSpace(apiSecret) == "" {
		return nil, &ValidationError{Field: "api_secret", Reason: "must not be empty"}
	}
	if cfg.settleWindow > 0 && !cfg.timeoutSet && cfg.settleWindow <= cfg.timeout {
		// Only the window was chosen: the attempts get a timeout it covers.
		cfg.timeout = cfg.settleWindow * 2 / 3
	}
	attempt := cfg.timeout
	if cfg.httpClient != nil && cfg.httpClient.Timeout > 0 {
		attempt = min(attempt, cfg.httpClient.Timeout)
	}
	switch {
	case cfg.settleWindow == 0:
		cfg.settleWindow = max(DefaultSettleWindow, attempt+attempt/2)
	case cfg.settleWindow <= attempt:
		return nil, &ValidationError{Field: "settle_window", Reason: fmt.Sprintf(
			"must be longer than the attempt timeout (%v): a request cut by the timeout may still be processed that long after it was written", attempt)}
	}
	base, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, err
	}
	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient // a copy: the caller's client is never modified
	}
	baseRT := hc.Transport
	if baseRT == nil {
		baseRT = defaultTransport()
	}
	c := &Client{cfg: cfg, base: base, ua: "iamport-go/" + Version}
	if cfg.userAgent != "" {
		c.ua = cfg.userAgent + " " + c.ua
	}
	c.auth = newAuthTransport(c, baseRT)
	hc.Transport = c.auth
	// A 3xx is an answer, not a hop: no call follows a redirect (a charge
	// redirected elsewhere would carry card data there, and a redirected POST
	// could be sent twice).
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Jar = nil
	c.hc = &hc
	return c, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" {
		return nil, &ValidationError{Field: "base_url", Reason: "must be an absolute URL"}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, &ValidationError{Field: "base_url", Reason: "plain http is allowed only for loopback hosts"}
		}
	default:
		return nil, &ValidationError{Field: "base_url", Reason: "scheme must be https"}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, &ValidationError{Field: "base_url", Reason: "must not carry a query, fragment or user info"}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the client without its secret or token.
func (c Client) String() string {
	return fmt.Sprintf("iamport.Client{base: %s, key: %s, secret: [redacted]}", c.base, maskKey(c.cfg.apiKey))
}

// GoString is String: %#v never shows the secret or a token.
func (c Client) GoString() string { return c.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, …) print String, so that
// no verb reaches the secret or the token in the unexported fields.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

func maskKey(k string) string {
	if len(k) <= 4 {
		return "****"
	}
	return k[:4] + "****"
}

// HTTPClient returns an http.Client that adds the access token to every
// request sent to the API's host, for endpoints this SDK does not wrap. Its
// responses are the API's raw responses; it follows no redirect. Its
// CloseIdleConnections reaches the SDK's transport.
func (c *Client) HTTPClient() *http.Client {
	hc := *c.hc
	return &hc
}

// request is one API call, as every method builds it.
type request struct {
	method string
	path   string     // escaped path below the base URL, e.g. "/payments/imp_123"
	query  url.Values // may be nil
	body   any        // JSON-encoded once; nil for no body
	// retry says the SDK may resend the request on network errors, 5xx and
	// 429: true for reads and for writes that are harmless to repeat.
	retry bool
	// money marks a write that moves money or changes a payment: net/http
	// can never resend it (no GetBody), and only an answered 401 makes the
	// SDK send it again.
	money bool
	// getToken marks the token request itself: sent without a token.
	getToken bool
	// trace, when set, records how far the request got.
	trace *sendTrace
	// secrets are values of this call (card data) that must not reach an
	// error or a log line even if the server echoes them.
	secrets []string
}

// sendTrace records how far a request got on the wire, over all its
// attempts.
type sendTrace struct {
	gotConn  atomic.Bool  // a connection was had (a real net/http transport)
	wrote    atomic.Bool  // the whole request was written to it
	wroteAt  atomic.Int64 // clock time of the last write, UnixNano
	noToken  atomic.Bool  // no access token could be had: the call was never sent
	timedOut bool         // the last attempt was cut by the client's own timeout
	endedAt  time.Time    // clock time the last attempt ended
}

// neverSent reports whether err is known to have come before the request
// was written, so that Iamport cannot have seen it: no token, a refused
// dial, a failed DNS lookup, or a connection had but the write not finished.
func (t *sendTrace) neverSent(err error) bool {
	if t.wrote.Load() {
		return false
	}
	if t.noToken.Load() || t.gotConn.Load() {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// lastWrite is when the request was last written (or, when the transport
// does not say, when the attempt ended: the latest it can have been).
func (t *sendTrace) lastWrite() time.Time {
	if n := t.wroteAt.Load(); n != 0 && t.wrote.Load() {
		return time.Unix(0, n)
	}
	return t.endedAt
}

// attemptInfo passes what the auth transport did for one attempt back to
// do, through the request's context.
type attemptInfo struct {
	getToken bool   // send without a token
	tok      *token // the token the attempt carried
}

type attemptInfoKey struct{}

// envelopeHead is the envelope without its response.
type envelopeHead struct {
	Code    *int    `json:"code"`
	Message *string `json:"message"`
}

// envelope is the envelope decoded in one pass, its response straight into
// the caller's value.
type envelope struct {
	Code     *int    `json:"code"`
	Message  *string `json:"message"`
	Response any     `json:"response"`
}

// do sends r and decodes the envelope's response into out (nil to discard).
// Every non-2xx answer and every envelope whose code is not 0 is *APIError;
// a 2xx that is not the envelope is *DecodeError; no answer at all is
// *TransportError.
func (c *Client) do(ctx context.Context, r *request, out any) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("iamport: encoding %s %s: %w", r.method, r.path, err)
		}
	}
	u := *c.base
	u.RawPath = c.base.EscapedPath() + r.path
	var err error
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return fmt.Errorf("iamport: bad path %q: %w", r.path, err)
	}
	if r.query != nil {
		u.RawQuery = r.query.Encode()
	}
	target := u.String()

	policy := c.cfg.retry
	resent401 := false
	for attempt := 1; ; attempt++ {
		info := &attemptInfo{getToken: r.getToken}
		status, hdr, err := c.attempt(ctx, r, target, body, attempt, info, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctxError(ctx, err)
		}
		if status == http.StatusUnauthorized && !r.getToken && !resent401 && isAnswer(err) {
			// A 401 is Iamport's "not processed": drop the token, get a new
			// one and send once more (the one resend of a money write).
			c.auth.drop(info.tok)
			resent401 = true
			continue
		}
		if !r.retry || attempt >= policy.MaxAttempts || !retryable(status, err) {
			return err
		}
		wait := policy.backoff(attempt, hdr)
		if err := c.sleep(ctx, wait); err != nil {
			return ctxError(ctx, err)
		}
	}
}

// sleep waits d or until ctx ends: RetryPolicy.Sleep when set, else the
// client's clock.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if s := c.cfg.retry.Sleep; s != nil {
		return s(ctx, d)
	}
	return c.cfg.clock.sleep(ctx, d)
}

// isAnswer says whether err is a complete answer from Iamport (its
// envelope, status below 500).
func isAnswer(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.FromIamport()
}

// attempt is one HTTP exchange.
func (c *Client) attempt(ctx context.Context, r *request, target string, body []byte, attempt int, info *attemptInfo, out any) (int, http.Header, error) {
	actx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	actx = context.WithValue(actx, attemptInfoKey{}, info)
	if t := r.trace; t != nil {
		actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { t.gotConn.Store(true) },
			WroteRequest: func(wi httptrace.WroteRequestInfo) {
				if wi.Err == nil {
					t.wroteAt.Store(c.cfg.clock.now().UnixNano())
					t.wrote.Store(true)
				}
			},
		})
		defer func() { t.endedAt = c.cfg.clock.now() }()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, target, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("iamport: building %s %s: %w", r.method, r.path, err)
	}
	if r.money {
		// net/http resends a request whose body it can rewind (after an
		// HTTP/2 stream reset, or on a reused connection the server closed):
		// without GetBody it cannot, and only the SDK decides.
		req.GetBody = nil
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if c.cfg.tier != "" {
		req.Header.Set("Tier", c.cfg.tier)
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		var te *tokenError
		if errors.As(err, &te) {
			if r.trace != nil {
				r.trace.noToken.Store(true)
			}
			c.logAttempt(ctx, r, 0, attempt, start, te.err)
			return 0, nil, te.err
		}
		if r.trace != nil {
			r.trace.timedOut = ctx.Err() == nil && isTimeout(err)
		}
		terr := &TransportError{Method: r.method, Path: r.path, Err: c.scrubErr(unwrapURLError(err), r)}
		c.logAttempt(ctx, r, 0, attempt, start, terr)
		return 0, nil, terr
	}
	defer resp.Body.Close()
	status := resp.StatusCode
	err = c.decodeResponse(resp, r, out)
	if r.trace != nil {
		var te *TransportError
		r.trace.timedOut = errors.As(err, &te) && ctx.Err() == nil && isTimeout(te.Err)
	}
	c.logAttempt(ctx, r, status, attempt, start, err)
	return status, resp.Header, err
}

// isTimeout says whether err is the client's own deadline (the attempt
// timeout, or http.Client.Timeout) cutting the exchange.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *Client) logAttempt(ctx context.Context, r *request, status, attempt int, start time.Time, err error) {
	l := c.cfg.logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", c.scrub(err.Error(), r)))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "iamport request", attrs...)
}

// scrub removes from s what must never reach an error or a log line: the
// API secret, the current access token and the card data of the call.
func (c *Client) scrub(s string, r *request) string {
	secrets := make([]string, 0, 2+len(r.secrets))
	secrets = append(secrets, c.cfg.apiSecret, c.auth.current())
	secrets = append(secrets, r.secrets...)
	for _, v := range secrets {
		if len(v) >= 2 && strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// scrubErr is err, or, when its text holds a secret, an error with the
// secret removed (the original is dropped: its chain would still hold it).
func (c *Client) scrubErr(err error, r *request) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if s := c.scrub(msg, r); s != msg {
		return errors.New(s)
	}
	return err
}

// decodeResponse reads the envelope in one pass, its response straight into
// out. It never panics on what a server or a proxy in front of it sends.
func (c *Client) decodeResponse(resp *http.Response, r *request, out any) error {
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	limit := int64(maxErrorBody)
	if ok {
		limit = maxSuccessBody
	}
	raw, readErr := readLimited(resp, limit+1)
	// Drain a little of what is left so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	if readErr != nil {
		return &TransportError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: c.scrubErr(readErr, r)}
	}
	if int64(len(raw)) > limit {
		if ok {
			return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: fmt.Errorf("body larger than %d bytes", limit)}
		}
		raw = raw[:limit]
	}
	if !ok {
		var h envelopeHead
		if json.Unmarshal(raw, &h) != nil || h.Code == nil {
			return &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: r.path, Message: describeBody(resp, raw), notEnvelope: true}
		}
		return c.apiError(resp.StatusCode, h.Code, h.Message, r)
	}
	env := envelope{Response: out}
	if out == nil {
		env.Response = new(json.RawMessage)
	}
	err := json.Unmarshal(raw, &env)
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &typeErr) || env.Code == nil {
		if err == nil {
			err = errors.New("no code field")
		}
		return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: fmt.Errorf("not an Iamport envelope (%s): %w", describeBody(resp, raw), err)}
	}
	if *env.Code != 0 {
		return c.apiError(resp.StatusCode, env.Code, env.Message, r)
	}
	if env.Response == nil {
		return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: errors.New("envelope has code 0 but no response")}
	}
	if out != nil && env.Response != out {
		// "response":null then another response: encoding/json dropped out.
		return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: errors.New("envelope has more than one response")}
	}
	if typeErr != nil && !tolerable(typeErr) {
		return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: err}
	}
	if typeErr != nil {
		// The tolerated field may hide a later error of the wrong shape.
		if p, ok := out.(shapeProber); ok {
			if err := json.Unmarshal(raw, &envelope{Response: p.shapeProbe()}); err != nil {
				return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: err}
			}
		}
	}
	return nil
}

func (c *Client) apiError(status int, code *int, msg *string, r *request) *APIError {
	e := &APIError{StatusCode: status, Code: *code, Method: r.method, Path: r.path}
	if msg != nil {
		e.Message = c.scrub(*msg, r)
	}
	return e
}

// tolerable says whether a field that came in an unexpected shape may be
// left zero: a scalar field of the response that carries no money (money
// fields take any shape and are checked when converted). A response, a
// list or an object of the wrong shape is an error.
func tolerable(e *json.UnmarshalTypeError) bool {
	return strings.HasPrefix(e.Field, "response.") && scalarField(e)
}

// readLimited reads at most limit bytes of the body. A declared
// Content-Length is allocated up front only up to maxPrealloc.
func readLimited(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n < limit && n <= maxPrealloc {
		buf := make([]byte, n)
		_, err := io.ReadFull(resp.Body, buf)
		return buf, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

// describeBody names what came instead of the envelope, without echoing it.
func describeBody(resp *http.Response, raw []byte) string {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return fmt.Sprintf("empty body, %s", ct)
	}
	return fmt.Sprintf("unexpected %d-byte body, %s", len(raw), ct)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ctxError makes the error returned after the caller's ctx ended satisfy
// errors.Is(err, ctx.Err()) while keeping what failed.
func ctxError(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w: %w", cerr, err)
}

// retryable says whether a failed attempt of a resendable request may be
// tried again: network errors, 5xx and 429.
func retryable(status int, err error) bool {
	var te *TransportError
	if errors.As(err, &te) {
		return true
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return false
	}
	return status == http.StatusTooManyRequests || status >= 500
}

// defaultIdleConnsPerHost is how many idle connections to the API the
// default transport keeps: enough for a batch of concurrent calls.
const defaultIdleConnsPerHost = 64

// defaultTransport is http.DefaultTransport with room for
// defaultIdleConnsPerHost idle connections per host. http.DefaultTransport
// keeps 2: with 16 calls at once, most of them would open a new TLS
// connection.
func defaultTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = defaultIdleConnsPerHost
	return t
}
