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
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// Version is this SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// DefaultBaseURL is the Iamport REST API's address.
const DefaultBaseURL = "https://api.iamport.kr"

// DefaultTimeout bounds one HTTP attempt when the caller's context has no
// deadline. A context with a deadline always wins over it.
const DefaultTimeout = 60 * time.Second

// DefaultSettleWindow is how long a charge whose outcome is in doubt keeps
// asking Iamport for the merchant_uid before it concludes that nothing was
// charged.
const DefaultSettleWindow = 15 * time.Second

const (
	maxErrorBody   = 1 << 20  // what is read of an error body
	maxSuccessBody = 64 << 20 // what is read of a successful body (a page of 1,000 payments is ~2 MiB)
)

// Client calls the Iamport REST API. Create it with NewClient. Its zero value
// is not usable.
type Client struct {
	cfg  config
	hc   *http.Client // the authenticated client: auth transport over the base transport
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
	settleWindow      time.Duration
	timeout           time.Duration
	now               func() time.Time
	retry             RetryPolicy
	err               error // the first option error, reported by NewClient
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
// never modified: the SDK copies it and wraps its Transport (nil means
// http.DefaultTransport). Its Timeout, if any, bounds each HTTP attempt.
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
// A-Z and 0-9), sent as the Tier header on every call.
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
// (method, path, status, attempt, duration). Secrets, tokens and bodies are
// never logged. The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithUserAgent sets the User-Agent header. The SDK's own name and Version
// are appended.
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent = ua }
}

// WithSettleWindow sets how long a charge whose outcome is in doubt keeps
// looking up its merchant_uid before it reports ErrNotCharged (default
// DefaultSettleWindow). A shorter window gives up sooner, and reports
// ErrOutcomeUnknown more often when Iamport is slow.
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
		c.timeout = d
	}
}

// WithClock replaces the local clock the client uses to age its access token
// and to date its own calls. It is for tests: iamporttest wires its
// controllable clock in with it. The default is time.Now, whose monotonic
// reading is what ages the token.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.setErr(&ValidationError{Field: "clock", Reason: "must not be nil"})
			return
		}
		c.now = now
	}
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
		apiKey:       apiKey,
		apiSecret:    apiSecret,
		baseURL:      DefaultBaseURL,
		settleWindow: DefaultSettleWindow,
		timeout:      DefaultTimeout,
		now:          time.Now,
		retry:        DefaultRetryPolicy(),
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
// responses are the API's raw responses.
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
	// retry says the request may be resent on network errors, 5xx and 429:
	// true for reads, false for anything that moves money.
	retry bool
	// sent, when set, records how far the request got (charges use it to
	// know whether Iamport can have seen it).
	sent *sendTrace
}

// sendTrace records how far a request got on the wire.
type sendTrace struct {
	gotConn atomic.Bool // a connection was had (a real net/http transport)
	wrote   atomic.Bool // the whole request was written to it
	noToken atomic.Bool // no access token could be had: the call was never sent
}

// neverSent reports whether err is known to have come before the request
// was written, so that Iamport cannot have seen it: no token, a refused
// dial, a failed DNS lookup, or a connection had but the write not finished.
func (t *sendTrace) neverSent(err error) bool {
	if t.noToken.Load() {
		return true
	}
	if t.gotConn.Load() && !t.wrote.Load() {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// envelope is the body of every Iamport answer.
type envelope struct {
	Code     int              `json:"code"`
	Message  *string          `json:"message"`
	Response *json.RawMessage `json:"response"`
}

// do sends r and decodes the envelope's response into out (nil to discard).
// Every non-2xx answer and every envelope whose code is not 0 is *APIError; an
// answer that is not the envelope is *APIError (non-2xx) or *DecodeError.
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
	for attempt := 1; ; attempt++ {
		status, hdr, err := c.attempt(ctx, r, target, body, attempt, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctxError(ctx, err)
		}
		if !r.retry || attempt >= policy.MaxAttempts || !retryable(status, err) {
			return err
		}
		wait := policy.backoff(attempt, hdr)
		if err := policy.sleep(ctx, wait); err != nil {
			return ctxError(ctx, err)
		}
	}
}

// attempt is one HTTP exchange.
func (c *Client) attempt(ctx context.Context, r *request, target string, body []byte, attempt int, out any) (int, http.Header, error) {
	actx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	if t := r.sent; t != nil {
		actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { t.gotConn.Store(true) },
			WroteRequest: func(info httptrace.WroteRequestInfo) {
				if info.Err == nil {
					t.wrote.Store(true)
				}
			},
		})
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, target, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("iamport: building %s %s: %w", r.method, r.path, err)
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
		c.logAttempt(ctx, r, 0, attempt, start, err)
		var te *tokenError
		if errors.As(err, &te) {
			if r.sent != nil {
				r.sent.noToken.Store(true)
			}
			return 0, nil, te.err
		}
		return 0, nil, &TransportError{Method: r.method, Path: r.path, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	status := resp.StatusCode
	err = decodeResponse(resp, r, out)
	c.logAttempt(ctx, r, status, attempt, start, err)
	return status, resp.Header, err
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
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "iamport request", attrs...)
}

// decodeResponse reads the envelope. It never panics on what a server or a
// proxy in front of it sends.
func decodeResponse(resp *http.Response, r *request, out any) error {
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	limit := int64(maxErrorBody)
	if ok {
		limit = maxSuccessBody
	}
	raw, readErr := readLimited(resp, limit+1)
	// Drain a little of what is left so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	if readErr != nil {
		if ok {
			return &TransportError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: readErr}
		}
		return &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: r.path, Message: "reading the body: " + readErr.Error()}
	}
	if int64(len(raw)) > limit {
		if ok {
			return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: fmt.Errorf("body larger than %d bytes", limit)}
		}
		raw = raw[:limit]
	}
	if ok && out != nil && fastDecode(raw, out) {
		return nil
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		if !ok {
			return &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: r.path, Message: describeBody(resp, raw)}
		}
		return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: fmt.Errorf("not an Iamport envelope (%s): %w", describeBody(resp, raw), err)}
	}
	if !ok || env.Code != 0 {
		e := &APIError{StatusCode: resp.StatusCode, Code: env.Code, Method: r.method, Path: r.path}
		if env.Message != nil {
			e.Message = *env.Message
		}
		return e
	}
	if out == nil {
		return nil
	}
	if env.Response == nil || string(*env.Response) == "null" {
		return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: errors.New("envelope has code 0 but no response")}
	}
	if err := json.Unmarshal(*env.Response, out); err != nil {
		return &DecodeError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Err: err}
	}
	return nil
}

// readLimited reads at most limit bytes of the body, in one allocation when
// the server sent a Content-Length.
func readLimited(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n < limit {
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

// fastDecode decodes a successful envelope's response straight into out in
// one json.Unmarshal: two passes over the bytes (validate, decode) instead of
// the six that decoding the envelope with a json.RawMessage, then the
// response, then a Payment's own UnmarshalJSON take. It reports false for
// anything but a plain success (code 0 and a non-null response that
// decodes); decodeResponse then decodes again the exact way, which names the
// error. out must point to a zero value, as at every call site: *out is
// replaced, not merged into.
func fastDecode(raw []byte, out any) bool {
	if p, ok := out.(*Payment); ok {
		var env struct {
			Code     int          `json:"code"`
			Response *paymentWire `json:"response"`
		}
		if json.Unmarshal(raw, &env) != nil || env.Code != 0 || env.Response == nil {
			return false
		}
		return env.Response.payment(p) == nil
	}
	pp := reflect.New(reflect.TypeOf(out)) // a **T: still nil after a null or absent response
	env := struct {
		Code     int `json:"code"`
		Response any `json:"response"`
	}{Response: pp.Interface()}
	if json.Unmarshal(raw, &env) != nil || env.Code != 0 || pp.Elem().IsNil() {
		return false
	}
	reflect.ValueOf(out).Elem().Set(pp.Elem().Elem())
	return true
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
