package iamport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Token timing. The API's tokens live 30 minutes; while one is valid getToken
// returns it unchanged, and in its last minute it extends it by 5 minutes.
const (
	// refreshEarly is how long before its expiry a token is replaced.
	refreshEarly = 90 * time.Second
	// refreshEarlyUnextended is used when a refresh returned the same token
	// with the same expiry (the server extends a token only in its last
	// minute): the next refresh is tried inside that minute.
	refreshEarlyUnextended = 50 * time.Second
)

// token is an access token and when, on the local clock, to stop using it.
type token struct {
	value     string
	expiry    time.Time // local: send time of getToken + (expired_at − now)
	refreshAt time.Time // local: when to fetch a new one
}

// tokenFlight is one getToken call that concurrent callers wait for.
type tokenFlight struct {
	done chan struct{}
	tok  *token
	err  error
}

// tokenError wraps a failure to get a token, so that the request path knows
// the API call itself was never sent.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// authTransport is the RoundTripper that adds the access token. It clones
// each request and never modifies the caller's; it sends the token only to
// the API's own host.
//
// The SDK's own calls carry an attemptInfo in their context: for them the
// transport only adds the token (do answers a 401 itself, once). A request
// sent through HTTPClient by the caller gets the token and, on a 401, one
// resend with a fresh token when its body can be rewound.
type authTransport struct {
	c    *Client
	base http.RoundTripper

	mu     sync.Mutex
	tok    *token
	flight *tokenFlight

	// clockRef is from the last getToken: the server's "now" and the local
	// instant its answer arrived. The server read "now" before answering, so
	// at any later local instant t the server's clock reads at least
	// now + (t − received), however slow the call was (the difference is
	// taken on the local monotonic clock).
	clockRef atomic.Pointer[clockRef]
}

type clockRef struct {
	serverNow time.Time // getToken's now (whole seconds, cut down)
	received  time.Time // local, with its monotonic reading
}

func newAuthTransport(c *Client, base http.RoundTripper) *authTransport {
	return &authTransport{c: c, base: base}
}

// RoundTrip implements http.RoundTripper.
func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.forAPI(req.URL) {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	info, _ := ctx.Value(attemptInfoKey{}).(*attemptInfo)
	if info != nil && info.getToken {
		return t.base.RoundTrip(req)
	}
	tok, err := t.token(ctx, nil)
	if err != nil {
		closeBody(req)
		return nil, &tokenError{err: err}
	}
	if info != nil {
		info.tok = tok
		return t.base.RoundTrip(withToken(req, tok.value, nil))
	}
	resp, err := t.base.RoundTrip(withToken(req, tok.value, nil))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// A caller's own request: a 401 means it was not processed; drop this
	// token, get a new one and repeat the request once, if its body can be
	// sent again.
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil
	}
	discard(resp)
	tok2, err := t.token(ctx, tok)
	if err != nil {
		return nil, &tokenError{err: err}
	}
	var body io.ReadCloser
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.base.RoundTrip(withToken(req, tok2.value, body))
}

// CloseIdleConnections closes the idle connections of the transport below,
// so that http.Client.CloseIdleConnections reaches it.
func (t *authTransport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// drop forgets tok if it is still the cached token (the API refused it).
func (t *authTransport) drop(tok *token) {
	t.mu.Lock()
	if tok == nil || t.tok == tok {
		t.tok = nil
	}
	t.mu.Unlock()
}

// current is the cached token's value ("" when none), for scrubbing.
func (t *authTransport) current() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok == nil {
		return ""
	}
	return t.tok.value
}

// serverLowerBound is the earliest the server's clock can have read at the
// local instant at; ok is false before any getToken.
func (t *authTransport) serverLowerBound(at time.Time) (time.Time, bool) {
	ref := t.clockRef.Load()
	if ref == nil {
		return time.Time{}, false
	}
	return ref.serverNow.Add(at.Sub(ref.received)), true
}

func (t *authTransport) forAPI(u *url.URL) bool {
	b := t.c.base
	return u.Scheme == b.Scheme && u.Host == b.Host
}

// withToken is a copy of req with the Authorization header (and, when given,
// a fresh body).
func withToken(req *http.Request, tok string, body io.ReadCloser) *http.Request {
	r := new(http.Request)
	*r = *req // shallow, as golang.org/x/oauth2's Transport does: nothing shared is written
	h := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		h[k] = v // only a key is added below; no value slice is modified
	}
	h["Authorization"] = []string{"Bearer " + tok}
	r.Header = h
	if body != nil {
		r.Body = body
	}
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}

// token returns a valid token, fetching one when there is none or it is due
// for refresh. bad, when set, is a token the API refused: it is dropped if it
// is still the cached one. Concurrent callers share one getToken call, made
// under the first caller's ctx; if that ctx ends, a waiting caller whose ctx
// is still alive makes the next call.
func (t *authTransport) token(ctx context.Context, bad *token) (*token, error) {
	for {
		t.mu.Lock()
		if bad != nil && t.tok == bad {
			t.tok = nil
		}
		if tok := t.tok; tok != nil && t.c.cfg.clock.now().Before(tok.refreshAt) {
			t.mu.Unlock()
			return tok, nil
		}
		f := t.flight
		leader := f == nil
		if leader {
			f = &tokenFlight{done: make(chan struct{})}
			t.flight = f
		}
		prev := t.tok
		t.mu.Unlock()

		if leader {
			tok, err := t.fetch(ctx, prev)
			t.mu.Lock()
			if err == nil {
				t.tok = tok
			}
			t.flight = nil
			f.tok, f.err = tok, err
			t.mu.Unlock()
			close(f.done)
			return tok, err
		}
		select {
		case <-f.done:
			if f.err == nil {
				return f.tok, nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded) {
				continue // the leader's ctx ended, not ours: try ourselves
			}
			return nil, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// tokenResponse is getToken's response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	Now         int64  `json:"now"`
	ExpiredAt   int64  `json:"expired_at"`
}

// tokenBody is getToken's request.
type tokenBody struct {
	Key    string `json:"imp_key"`
	Secret string `json:"imp_secret"`
}

// noValues is a context with its parent's deadline and cancellation but
// none of its values: the token request must not report to the trace of the
// call that needed the token.
type noValues struct{ context.Context }

func (noValues) Value(any) any { return nil }

// fetch calls POST /users/getToken through the same request path as every
// call (headers, retries of network errors and 5xx). A 401 (bad key or
// secret) is returned at once, as an error matching ErrUnauthorized.
func (t *authTransport) fetch(ctx context.Context, prev *token) (*token, error) {
	r := &request{method: http.MethodPost, path: "/users/getToken", getToken: true, retry: true,
		body: &tokenBody{Key: t.c.cfg.apiKey, Secret: t.c.cfg.apiSecret}}
	now := t.c.cfg.clock.now
	sent := now()
	var tr tokenResponse
	if err := t.c.do(noValues{ctx}, r, &tr); err != nil {
		return nil, err
	}
	return t.accept(tr, sent, now(), prev, r)
}

// accept turns getToken's answer into a token aged on the local clock: its
// lifetime is expired_at − now as the server counts it, started at the
// moment the request was sent (so the local expiry is never later than the
// server's).
func (t *authTransport) accept(tr tokenResponse, sent, received time.Time, prev *token, r *request) (*token, error) {
	life := time.Duration(tr.ExpiredAt-tr.Now) * time.Second
	if tr.AccessToken == "" || tr.Now <= 0 || life <= 0 {
		return nil, &DecodeError{Method: r.method, Path: r.path, StatusCode: http.StatusOK,
			Err: fmt.Errorf("token response without a token or a positive lifetime (now %d, expired_at %d)", tr.Now, tr.ExpiredAt)}
	}
	t.clockRef.Store(&clockRef{serverNow: time.Unix(tr.Now, 0), received: received})
	tok := &token{value: tr.AccessToken, expiry: sent.Add(life)}
	early := refreshEarly
	if prev != nil && prev.value == tok.value && !tok.expiry.After(prev.expiry.Add(2*time.Second)) {
		early = refreshEarlyUnextended
	}
	early = min(early, life/2)
	tok.refreshAt = tok.expiry.Add(-early)
	return tok, nil
}
