package iamport

import (
	"context"
	"net/http"
	"time"

	"github.com/billingkr/iamport-go/internal/retry"
)

// Jitter says how retry waits are randomised.
type Jitter int

// The jitter modes of a RetryPolicy.
const (
	JitterFull  Jitter = Jitter(retry.Full)  // uniform in [0, backoff]
	JitterEqual Jitter = Jitter(retry.Equal) // uniform in [backoff/2, backoff]
	JitterNone  Jitter = Jitter(retry.None)  // exactly the backoff
)

// RetryPolicy says how requests that are safe to resend (lookups, lists, and
// the few writes whose doc says so) are retried after a network error, a 5xx
// or a 429. Charges and cancels are never resent by it: they reconcile by
// merchant_uid instead (see AgainPayment).
type RetryPolicy struct {
	// MaxAttempts counts the first attempt: 1 disables retries.
	MaxAttempts int
	// MinBackoff is the first wait; each further wait doubles, up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Jitter randomises each wait (default JitterFull).
	Jitter Jitter
	// MaxRetryAfter caps how long a Retry-After header may make the client
	// wait; a longer one is cut to it.
	MaxRetryAfter time.Duration
	// Sleep waits d or until ctx ends. Nil means a timer in a select. Tests
	// replace it to skip real waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultRetryPolicy is the policy of a new Client: 3 attempts, waits from
// 200ms doubling up to 5s with full jitter, Retry-After honoured up to 30s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second, Jitter: JitterFull, MaxRetryAfter: 30 * time.Second}
}

// WithRetryPolicy replaces DefaultRetryPolicy. Zero fields take the default's
// values, except Jitter (its zero value is JitterFull).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) {
		d := DefaultRetryPolicy()
		if p.MaxAttempts <= 0 {
			p.MaxAttempts = d.MaxAttempts
		}
		if p.MinBackoff <= 0 {
			p.MinBackoff = d.MinBackoff
		}
		if p.MaxBackoff <= 0 {
			p.MaxBackoff = d.MaxBackoff
		}
		if p.MaxBackoff < p.MinBackoff {
			p.MaxBackoff = p.MinBackoff
		}
		if p.MaxRetryAfter <= 0 {
			p.MaxRetryAfter = d.MaxRetryAfter
		}
		c.retry = p
	}
}

// backoff is the wait after a failed attempt; a Retry-After header wins.
func (p RetryPolicy) backoff(attempt int, h http.Header) time.Duration {
	if h != nil {
		if d, ok := retry.RetryAfter(h, time.Now()); ok {
			return min(d, p.MaxRetryAfter)
		}
	}
	return retry.Backoff(attempt, p.MinBackoff, p.MaxBackoff, retry.Jitter(p.Jitter))
}
