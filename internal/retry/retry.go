// Package retry holds the backoff arithmetic and the context-aware wait that
// the client's retry policy and the charge reconciliation share.
package retry

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Jitter says how a backoff is randomised.
type Jitter int

const (
	// Full picks a wait uniformly in [0, backoff].
	Full Jitter = iota
	// Equal picks a wait uniformly in [backoff/2, backoff].
	Equal
	// None waits exactly the backoff.
	None
)

// Backoff is the wait before attempt+1: min·2^(attempt−1), capped at max,
// then jittered. attempt counts from 1.
func Backoff(attempt int, min, max time.Duration, j Jitter) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := min
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if d <= 0 {
		return 0
	}
	switch j {
	case Full:
		return time.Duration(rand.Int64N(int64(d) + 1))
	case Equal:
		half := d / 2
		return half + time.Duration(rand.Int64N(int64(d-half)+1))
	default:
		return d
	}
}

// RetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (relative to now). ok is false when there is none or it cannot be read.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if s < 0 {
			return 0, false
		}
		if s > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64, true // longer than a Duration holds: the caller caps it
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// Sleep waits d or until ctx ends, whichever is first, and returns ctx's
// error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
