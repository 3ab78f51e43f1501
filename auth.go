package iamport

import (
	"bytes"
	"context"
	"encoding/json"
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
// the API's own host, so no token follows a redirect elsewhere.
type authTransport struct {
	c    *Client
	base http.RoundTripper

	mu     sync.Mutex
	tok    *token
	flight *tokenFlight

	// serverOffset is the server's clock minus the local one, in
	// nanoseconds, as seen at the last getToken (for dating charges).
	serverOffset atomic.Int64
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
	tok, err := t.token(ctx, nil)
	if err != nil {
		closeBody(req)
		return nil, &tokenError{err: err}
	}
	resp, err := t.base.RoundTrip(withToken(req, tok.value, nil))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// A 401 means the call was not processed: drop this token, get one new
	// token and repeat the call once.
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot resend the body
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
		if tok := t.tok; tok != nil && t.c.cfg.now().Before(tok.refreshAt) {
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

// fetch calls POST /users/getToken, retrying network errors and 5xx by the
// client's policy. A 401 (bad key or secret) is returned at once.
func (t *authTransport) fetch(ctx context.Context, prev *token) (*token, error) {
	body, err := json.Marshal(map[string]string{"imp_key": t.c.cfg.apiKey, "imp_secret": t.c.cfg.apiSecret})
	if err != nil {
		return nil, err
	}
	r := &request{method: http.MethodPost, path: "/users/getToken"}
	target := t.c.base.String() + r.path
	policy := t.c.cfg.retry
	for attempt := 1; ; attempt++ {
		sent := t.c.cfg.now()
		var tr tokenResponse
		status, hdr, err := t.fetchOnce(ctx, r, target, body, attempt, &tr)
		if err == nil {
			return t.accept(tr, sent, prev, r)
		}
		if ctx.Err() != nil {
			return nil, ctxError(ctx, err)
		}
		if attempt >= policy.MaxAttempts || !retryable(status, err) {
			return nil, err
		}
		if err := policy.sleep(ctx, policy.backoff(attempt, hdr)); err != nil {
			return nil, ctxError(ctx, err)
		}
	}
}

func (t *authTransport) fetchOnce(ctx context.Context, r *request, target string, body []byte, attempt int, out *tokenResponse) (int, http.Header, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.c.cfg.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", t.c.ua)
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.c.logAttempt(ctx, r, 0, attempt, start, err)
		return 0, nil, &TransportError{Method: r.method, Path: r.path, Err: err}
	}
	defer resp.Body.Close()
	err = decodeResponse(resp, r, out)
	t.c.logAttempt(ctx, r, resp.StatusCode, attempt, start, err)
	return resp.StatusCode, resp.Header, err
}

// accept turns getToken's answer into a token aged on the local clock: its
// lifetime is expired_at − now as the server counts it, started at the
// moment the request was sent (so the local expiry is never later than the
// server's).
func (t *authTransport) accept(tr tokenResponse, sent time.Time, prev *token, r *request) (*token, error) {
	life := time.Duration(tr.ExpiredAt-tr.Now) * time.Second
	if tr.AccessToken == "" || tr.Now <= 0 || life <= 0 {
		return nil, &DecodeError{Method: r.method, Path: r.path, StatusCode: http.StatusOK,
			Err: fmt.Errorf("token response without a token or a positive lifetime (now %d, expired_at %d)", tr.Now, tr.ExpiredAt)}
	}
	t.serverOffset.Store(int64(time.Unix(tr.Now, 0).Sub(sent)))
	tok := &token{value: tr.AccessToken, expiry: sent.Add(life)}
	early := refreshEarly
	if prev != nil && prev.value == tok.value && !tok.expiry.After(prev.expiry.Add(2*time.Second)) {
		early = refreshEarlyUnextended
	}
	early = min(early, life/2)
	tok.refreshAt = tok.expiry.Add(-early)
	return tok, nil
}
