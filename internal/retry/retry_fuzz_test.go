package retry

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// maxDelta is the largest delay-seconds a time.Duration holds.
const maxDelta = math.MaxInt64 / int64(time.Second)

// allDigits reports whether s is RFC 9110's delay-seconds: 1*DIGIT.
func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// FuzzRetryAfter: RetryAfter never panics and never returns a negative
// wait; delay-seconds within range is exactly that many seconds (beyond
// range, the longest wait, for the caller to cap); an HTTP-date is the date
// minus now, 0 when it is past.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "7", "007", "-1", "+5", " 5", "9223372036",
		"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "soon", ""} {
		f.Add(s, int64(784111777), int64(1764400000))
	}
	f.Add("120", int64(253402300799), int64(-62135596800))
	f.Fuzz(func(t *testing.T, v string, at, now int64) {
		nowT := time.Unix(now, 0)
		check := func(v string) (time.Duration, bool) {
			d, ok := RetryAfter(http.Header{"Retry-After": {v}}, nowT)
			if d < 0 {
				t.Fatalf("Retry-After %q at %v: negative wait %v", v, nowT, d)
			}
			if !ok && d != 0 {
				t.Fatalf("Retry-After %q: not ok but %v", v, d)
			}
			return d, ok
		}

		// Arbitrary text.
		d, ok := check(v)
		if allDigits(v) {
			n, err := strconv.ParseInt(v, 10, 64)
			switch {
			case err == nil && n <= maxDelta:
				if !ok || d != time.Duration(n)*time.Second {
					t.Fatalf("Retry-After %q: %v, %v; want %ds", v, d, ok, n)
				}
			default:
				if !ok || d != math.MaxInt64 {
					t.Fatalf("Retry-After %q (beyond a Duration): %v, %v; want the longest wait", v, d, ok)
				}
			}
		} else if date, err := http.ParseTime(v); err == nil {
			if want := max(date.Sub(nowT), 0); !ok || d != want {
				t.Fatalf("Retry-After %q at %v: %v, %v; want %v", v, nowT, d, ok, want)
			}
		}

		// delay-seconds from a number.
		if at >= 0 {
			d, ok := check(strconv.FormatInt(at, 10))
			want := time.Duration(math.MaxInt64)
			if at <= maxDelta {
				want = time.Duration(at) * time.Second
			}
			if !ok || d != want {
				t.Fatalf("Retry-After %d: %v, %v; want %v", at, d, ok, want)
			}
		}

		// An HTTP-date (IMF-fixdate) from a time in years 1..9999.
		const lo, hi = -62135596800, 253402300799
		sec := lo + int64(uint64(at)%uint64(hi-lo+1))
		date := time.Unix(sec, 0).UTC()
		want := max(date.Sub(nowT), 0)
		if d, ok := check(date.Format(http.TimeFormat)); !ok || d != want {
			t.Fatalf("Retry-After %s at %v: %v, %v; want %v", date.Format(http.TimeFormat), nowT, d, ok, want)
		}
	})
}
