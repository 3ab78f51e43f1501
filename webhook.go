package iamport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// MaxWebhookBody is the largest webhook body ParseWebhook and WebhookHandler
// read (64 KiB). Iamport's notifications are a few hundred bytes.
const MaxWebhookBody = 64 << 10

// ErrWebhookTooLarge is returned by ParseWebhook for a body over
// MaxWebhookBody; WebhookHandler answers it with 413.
var ErrWebhookTooLarge = errors.New("iamport: webhook body larger than 64 KiB")

// WebhookEvent is one Iamport notification (V1 "notification", sent to the
// console's URL or to a payment's notice_url). Webhooks are not signed: its
// fields are only a hint of which payment changed, until the payment is
// fetched from Iamport (WebhookHandler does that).
type WebhookEvent struct {
	ImpUID         string        `json:"imp_uid"`
	MerchantUID    string        `json:"merchant_uid"`
	Status         PaymentStatus `json:"status"`          // paid, ready (virtual account issued), failed, cancelled
	CancellationID string        `json:"cancellation_id"` // set for cancellations in current API versions
}

// ParseWebhook reads a webhook request's body: JSON or form-encoded, as
// chosen in Iamport's console, told apart by Content-Type (and by the first
// byte when Content-Type is absent or neither). Unknown fields are ignored.
// A body over MaxWebhookBody is ErrWebhookTooLarge; a body that cannot be
// read as either encoding, a field given twice with different values, or a
// missing or malformed imp_uid is a *ValidationError. It consumes r.Body.
//
// What it returns is unverified: anyone can post it. Look the payment up
// with GetPayment before acting, or use WebhookHandler.
func ParseWebhook(r *http.Request) (*WebhookEvent, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, &ValidationError{Field: "body", Reason: "empty"}
	}
	if r.ContentLength > MaxWebhookBody {
		return nil, ErrWebhookTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, ErrWebhookTooLarge
		}
		return nil, &ValidationError{Field: "body", Reason: "could not be read"}
	}
	if len(body) > MaxWebhookBody {
		return nil, ErrWebhookTooLarge
	}
	return parseWebhookBody(r.Header.Get("Content-Type"), body)
}

func parseWebhookBody(contentType string, body []byte) (*WebhookEvent, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &ValidationError{Field: "body", Reason: "empty"}
	}
	asJSON := trimmed[0] == '{'
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		switch {
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			asJSON = true
		case mt == "application/x-www-form-urlencoded":
			asJSON = false
		}
	}
	var ev *WebhookEvent
	var err error
	if asJSON {
		ev, err = parseWebhookJSON(trimmed)
	} else {
		ev, err = parseWebhookForm(trimmed)
	}
	if err != nil {
		return nil, err
	}
	if err := ev.validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

func parseWebhookJSON(b []byte) (*WebhookEvent, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var ev WebhookEvent
	if err := dec.Decode(&ev); err != nil {
		return nil, &ValidationError{Field: "body", Reason: "not a JSON object of strings"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ValidationError{Field: "body", Reason: "data after the JSON object"}
	}
	return &ev, nil
}

func parseWebhookForm(b []byte) (*WebhookEvent, error) {
	q, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, &ValidationError{Field: "body", Reason: "neither JSON nor a valid form"}
	}
	var ev WebhookEvent
	for k, dst := range map[string]*string{"imp_uid": &ev.ImpUID, "merchant_uid": &ev.MerchantUID, "cancellation_id": &ev.CancellationID} {
		if *dst, err = formValue(q, k); err != nil {
			return nil, err
		}
	}
	st, err := formValue(q, "status")
	if err != nil {
		return nil, err
	}
	ev.Status = PaymentStatus(st)
	return &ev, nil
}

func formValue(q url.Values, k string) (string, error) {
	vs := q[k]
	if len(vs) == 0 {
		return "", nil
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return "", &ValidationError{Field: k, Reason: "given more than once with different values"}
		}
	}
	return vs[0], nil
}

func (ev *WebhookEvent) validate() error {
	if err := checkUID("imp_uid", ev.ImpUID, 100); err != nil {
		return err
	}
	if ev.MerchantUID != "" {
		if err := checkUID("merchant_uid", ev.MerchantUID, MaxMerchantUIDLen); err != nil {
			return err
		}
	}
	if ev.Status != "" {
		if err := checkUID("status", string(ev.Status), 20); err != nil {
			return err
		}
	}
	if ev.CancellationID != "" {
		if err := checkUID("cancellation_id", ev.CancellationID, 100); err != nil {
			return err
		}
	}
	return nil
}

// iamportWebhookIPs are the source addresses of Iamport's webhooks.
var iamportWebhookIPs = []string{"52.78.100.19", "52.78.48.223", "52.78.5.241"}

// IamportWebhookIPs returns the addresses Iamport sends webhooks from
// (52.78.100.19, 52.78.48.223, 52.78.5.241), as /32 prefixes, for
// WithAllowedIPs. WithIamportIPs uses them.
func IamportWebhookIPs() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(iamportWebhookIPs))
	for _, s := range iamportWebhookIPs {
		a := netip.MustParseAddr(s)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

// WebhookOption configures WebhookHandler.
type WebhookOption func(*webhookConfig)

type webhookConfig struct {
	allowed     []netip.Prefix
	trusted     []netip.Prefix
	proxyHeader string
}

// WithAllowedIPs makes WebhookHandler answer 403, without reading the body,
// to requests whose source address is in none of the prefixes (a single
// address is netip.PrefixFrom(a, a.BitLen())). Repeated options add up.
// The allow-list is off by default: webhooks are verified by re-fetching the
// payment, whatever their source. The source is the connection's peer
// address; behind a reverse proxy, name the proxy with WithTrustedProxies.
//
// Turn it on (WithIamportIPs) when the handler is reachable from the
// internet and an outbound GetPayment per forged request matters: without
// it, anyone can make the handler look up an imp_uid (concurrent deliveries
// for one imp_uid share one lookup, but distinct imp_uids do not).
func WithAllowedIPs(prefixes ...netip.Prefix) WebhookOption {
	return func(c *webhookConfig) {
		for _, p := range prefixes {
			if p.IsValid() {
				c.allowed = append(c.allowed, unmapPrefix(p))
			}
		}
	}
}

// WithIamportIPs allows Iamport's webhook addresses (IamportWebhookIPs),
// and with it turns the allow-list on.
func WithIamportIPs() WebhookOption { return WithAllowedIPs(IamportWebhookIPs()...) }

// WithTrustedProxies names the reverse proxies in front of the handler
// (a single address is netip.PrefixFrom(a, a.BitLen())). Repeated options
// add up. Forwarding headers (Forwarded, RFC 7239; X-Forwarded-For;
// X-Real-IP) are read only when the connection's peer is in these
// prefixes; without this option they are ignored. The header's chain is
// walked from the right past trusted hops, and the first untrusted address
// is the source the allow-list judges. A trusted peer that sends no
// forwarding header is judged by its own address. A malformed header, a hop
// that hides its address ("unknown", "_hidden"), or two headers that name
// different sources leave the source unknown, and the request is refused.
// Like the allow-list it serves, it only matters with WithAllowedIPs or
// WithIamportIPs.
func WithTrustedProxies(prefixes ...netip.Prefix) WebhookOption {
	return func(c *webhookConfig) {
		for _, p := range prefixes {
			if p.IsValid() {
				c.trusted = append(c.trusted, unmapPrefix(p))
			}
		}
	}
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into
// its IPv4 form, as addresses are compared unmapped.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// WithTrustedProxyHeader narrows which forwarding header the allow-list
// reads (e.g. "X-Forwarded-For", "X-Real-IP", "Forwarded") to the one your
// proxy sets; other forwarding headers are then ignored. On its own it
// never makes a header believed: headers are read only from a peer named by
// WithTrustedProxies. Name a header your proxy always overwrites or appends
// to.
func WithTrustedProxyHeader(name string) WebhookOption {
	return func(c *webhookConfig) { c.proxyHeader = http.CanonicalHeaderKey(strings.TrimSpace(name)) }
}

// WebhookHandler returns an http.Handler for Iamport's webhooks that trusts
// only Iamport: it parses the body (ParseWebhook), fetches the payment by
// imp_uid (GET /payments/{imp_uid}), and calls fn with the fetched payment
// when the notification agrees with it. It answers:
//
//   - 405 (with Allow: POST) for a method other than POST;
//   - 403 for a source outside the allow-list, when one is set
//     (WithAllowedIPs, WithIamportIPs);
//   - 413 for a body over MaxWebhookBody;
//   - 400 for a malformed body or a missing imp_uid, for an imp_uid Iamport
//     does not know, and for a notification that disagrees with the fetched
//     payment: another merchant_uid, or a status other than Iamport's (a
//     forged or stale notification), and for a sandbox (test-channel)
//     payment when the client was not made WithSandbox. fn is not called;
//   - 502 when the payment cannot be fetched (Iamport unreachable or
//     failing), so that Iamport delivers again;
//   - 500 when fn returns an error, so that Iamport delivers again;
//   - 200 when fn returns nil.
//
// fn receives the request's context, an event rebuilt from the fetched
// payment (its Status is Iamport's; CancellationID is kept only when the
// payment's cancel history holds it), and the payment.
//
// Iamport may deliver the same notification more than once (its retries,
// a 5xx of yours, a network error after fn ran), so fn must be idempotent.
// Key the work by imp_uid and status (and cancellation_id for cancels), or
// make it a state change that is harmless to repeat:
//
//	func(ctx context.Context, ev *iamport.WebhookEvent, p *iamport.Payment) error {
//		// INSERT … ON CONFLICT DO NOTHING: the second delivery changes nothing.
//		first, err := db.RecordEvent(ctx, ev.ImpUID, string(ev.Status), ev.CancellationID)
//		if err != nil || !first {
//			return err
//		}
//		if p.IsPaid() {
//			return db.MarkOrderPaid(ctx, p.MerchantUID, p.Amount) // checks the amount itself
//		}
//		return nil
//	}
//
// The check still belongs to fn: that p.Amount is what the order costs.
//
// Deliveries for one imp_uid that arrive while a lookup for it is in
// flight share that lookup (each fn call gets its own copy of the payment),
// so a burst of forged or repeated notifications costs one GetPayment.
// Distinct imp_uids cost one each: behind the internet, turn the
// allow-list on (WithIamportIPs, and WithTrustedProxies behind a proxy).
//
// The handler bounds the body (64 KiB, a larger declared Content-Length is
// refused before reading), but only the merchant's http.Server bounds the
// time a client may hold a connection. Set, at least:
//
//	srv := &http.Server{
//		Handler:           mux,
//		ReadHeaderTimeout: 5 * time.Second,  // slow headers (slowloris)
//		ReadTimeout:       15 * time.Second, // a slow body; covers headers too
//		WriteTimeout:      60 * time.Second, // > the payment lookup (with its retries) + fn
//		IdleTimeout:       60 * time.Second,
//		MaxHeaderBytes:    32 << 10,
//	}
//
// Without ReadHeaderTimeout and ReadTimeout, a client that sends a byte a
// minute keeps a goroutine and a connection forever (the zero values mean
// no timeout). WriteTimeout must leave room for the GetPayment (and its
// retries while Iamport answers 5xx) and fn: when it is too short, Iamport
// sees an error and delivers again, which fn tolerates (it is idempotent).
//
// When the client has a logger (WithLogger), each refusal and each error of
// fn is logged at Warn with the reason and the imp_uid. fn must not be nil
// (WebhookHandler panics).
func (c *Client) WebhookHandler(fn func(ctx context.Context, ev *WebhookEvent, p *Payment) error, opts ...WebhookOption) http.Handler {
	if fn == nil {
		panic("iamport: WebhookHandler called with a nil func")
	}
	var cfg webhookConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return &webhookHandler{c: c, fn: fn, cfg: cfg}
}

type webhookHandler struct {
	c       *Client
	fn      func(ctx context.Context, ev *WebhookEvent, p *Payment) error
	cfg     webhookConfig
	flights flightGroup
}

// fetch is GetPayment, shared by the deliveries for one imp_uid that
// arrive while a lookup for it is in flight: a burst of forged or repeated
// notifications costs one outbound lookup. Each caller gets its own copy of
// the payment.
func (h *webhookHandler) fetch(ctx context.Context, impUID string) (*Payment, error) {
	p, err := h.flights.do(ctx, impUID, func(ctx context.Context) (*Payment, error) { return h.c.getPaymentToVerify(ctx, impUID) })
	if err != nil {
		return nil, err
	}
	return clonePayment(p), nil
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if len(h.cfg.allowed) > 0 && !h.allowedSource(r) {
		h.refuse(w, r, http.StatusForbidden, "source address not allowed", "")
		return
	}
	if r.ContentLength > MaxWebhookBody {
		// Refused on the declared length, before any of the body is read
		// (and, for "Expect: 100-continue", before the client sends it).
		h.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large", "")
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxWebhookBody)
	}
	ev, err := ParseWebhook(r) // refuses a body over MaxWebhookBody, declared or not
	if err != nil {
		if errors.Is(err, ErrWebhookTooLarge) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large", "")
			return
		}
		h.refuse(w, r, http.StatusBadRequest, err.Error(), "")
		return
	}
	ctx := r.Context()
	p, err := h.fetch(ctx, ev.ImpUID)
	switch {
	case errors.Is(err, ErrNotFound):
		h.refuse(w, r, http.StatusBadRequest, "unknown imp_uid", ev.ImpUID)
		return
	case err != nil:
		h.refuse(w, r, http.StatusBadGateway, "payment lookup failed", ev.ImpUID)
		return
	case p.ImpUID != ev.ImpUID:
		h.refuse(w, r, http.StatusBadRequest, "imp_uid does not match the payment", ev.ImpUID)
		return
	case ev.MerchantUID != "" && ev.MerchantUID != p.MerchantUID:
		h.refuse(w, r, http.StatusBadRequest, "merchant_uid does not match the payment", ev.ImpUID)
		return
	case ev.Status != "" && ev.Status != p.Status:
		h.refuse(w, r, http.StatusBadRequest, "status does not match the payment", ev.ImpUID)
		return
	case p.Sandbox && !h.c.cfg.sandbox:
		// A payment on a test channel is not money: only a client made
		// WithSandbox hands it to fn.
		h.refuse(w, r, http.StatusBadRequest, "sandbox payment (the client is not WithSandbox)", ev.ImpUID)
		return
	}
	verified := &WebhookEvent{ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: p.Status}
	if ev.CancellationID != "" {
		for _, pc := range p.CancelHistory {
			if pc.CancellationID == ev.CancellationID {
				verified.CancellationID = ev.CancellationID
				break
			}
		}
	}
	if err := h.fn(ctx, verified, p); err != nil {
		h.log(ctx, "iamport webhook handler failed", slog.String("imp_uid", p.ImpUID), slog.String("error", err.Error()))
		http.Error(w, "handler failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "OK")
}

func (h *webhookHandler) refuse(w http.ResponseWriter, r *http.Request, status int, reason, impUID string) {
	attrs := []slog.Attr{slog.Int("status", status), slog.String("reason", reason)}
	if impUID != "" {
		attrs = append(attrs, slog.String("imp_uid", impUID))
	}
	h.log(r.Context(), "iamport webhook refused", attrs...)
	http.Error(w, reason, status)
}

func (h *webhookHandler) log(ctx context.Context, msg string, attrs ...slog.Attr) {
	if l := h.c.cfg.logger; l != nil {
		l.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
	}
}

// allowedSource reports whether the request's source address is allowed.
func (h *webhookHandler) allowedSource(r *http.Request) bool {
	a, ok := h.cfg.sourceAddr(r)
	if !ok {
		return false
	}
	for _, p := range h.cfg.allowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
