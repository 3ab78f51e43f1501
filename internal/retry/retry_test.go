package retry

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := Backoff(i+1, 100, 1000, None); got != w {
			t.Errorf("attempt %d: %v, want %v", i+1, got, w)
		}
	}
	for i := 0; i < 1000; i++ {
		if d := Backoff(3, 100, 1000, Full); d < 0 || d > 400 {
			t.Fatalf("full jitter out of [0, 400]: %v", d)
		}
		if d := Backoff(3, 100, 1000, Equal); d < 200 || d > 400 {
			t.Fatalf("equal jitter out of [200, 400]: %v", d)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	if _, ok := RetryAfter(h, now); ok {
		t.Fatal("no header is no wait")
	}
	h.Set("Retry-After", "7")
	if d, ok := RetryAfter(h, now); !ok || d != 7*time.Second {
		t.Fatalf("seconds: %v %v", d, ok)
	}
	h.Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
	if d, ok := RetryAfter(h, now); !ok || d != 90*time.Second {
		t.Fatalf("date: %v %v", d, ok)
	}
	for _, bad := range []string{"-1", "soon"} {
		h.Set("Retry-After", bad)
		if _, ok := RetryAfter(h, now); ok {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Sleep did not end with its ctx")
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
