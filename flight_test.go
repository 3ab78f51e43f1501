package iamport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitWaiters polls until n callers wait for key's call: the only way to
// know that they joined it before it is released. It never sleeps long.
func waitWaiters(t *testing.T, g *flightGroup, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g.mu.Lock()
		f := g.m[key]
		got := 0
		if f != nil {
			got = f.waiters
		}
		g.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d callers joined the call", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWebhookHandlerSharesOneLookupPerImpUID(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, apiBase+"/users/getToken", func(*http.Request) (*http.Response, error) {
		return tokenReply(testToken, 1800), nil
	})
	release := make(chan struct{})
	var lookups atomic.Int64
	mt.RegisterResponder(http.MethodGet, apiBase+"/payments/imp_1", func(r *http.Request) (*http.Response, error) {
		lookups.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		return envelopeReply(http.StatusOK, 0, "", paymentJSON("imp_1", "order_1", "cust_1", 1004, "paid")), nil
	})
	c, err := NewClient(testKey, testSecret, WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	var mu sync.Mutex
	var seen []*Payment
	h := c.WebhookHandler(func(_ context.Context, _ *WebhookEvent, p *Payment) error {
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, int64(1004), p.Amount, "each delivery gets its own copy")
		p.Amount = -1
		seen = append(seen, p)
		return nil
	}).(*webhookHandler)

	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(`{"imp_uid":"imp_1","merchant_uid":"order_1"}`))
			r.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			codes <- rec.Code
		}()
	}
	waitWaiters(t, &h.flights, "imp_1", n-1)
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		assert.Equal(t, http.StatusOK, code)
	}
	assert.Equal(t, int64(1), lookups.Load(), "one lookup for the burst")
	require.Len(t, seen, n)
	for i := range seen {
		for j := range i {
			assert.NotSame(t, seen[i], seen[j])
		}
	}
	// After the burst, a new delivery looks the payment up again.
	r := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(`{"imp_uid":"imp_1"}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, int64(2), lookups.Load())
}

func TestFlightGroupWaiterOutlivesCancelledLeader(t *testing.T) {
	t.Parallel()
	var g flightGroup
	leaderCtx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var calls atomic.Int64
	fn := func(ctx context.Context) (*Payment, error) {
		if calls.Add(1) == 1 {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return &Payment{ImpUID: "imp_1"}, nil
	}
	leaderErr := make(chan error, 1)
	go func() {
		_, err := g.do(leaderCtx, "k", fn)
		leaderErr <- err
	}()
	<-started
	waiterDone := make(chan *Payment, 1)
	go func() {
		p, err := g.do(context.Background(), "k", fn)
		assert.NoError(t, err)
		waiterDone <- p
	}()
	waitWaiters(t, &g, "k", 1)
	cancel()
	assert.ErrorIs(t, <-leaderErr, context.Canceled)
	p := <-waiterDone
	require.NotNil(t, p, "the waiter made its own call instead of taking the leader's cancellation")
	assert.Equal(t, int64(2), calls.Load())
}

func TestFlightGroupSharesErrorsAndPanics(t *testing.T) {
	t.Parallel()
	var g flightGroup
	boom := errors.New("iamport down")
	started, release := make(chan struct{}), make(chan struct{})
	fn := func(context.Context) (*Payment, error) {
		close(started)
		<-release
		return nil, boom
	}
	errs := make(chan error, 2)
	go func() { _, err := g.do(context.Background(), "k", fn); errs <- err }()
	<-started
	go func() { _, err := g.do(context.Background(), "k", fn); errs <- err }()
	waitWaiters(t, &g, "k", 1)
	close(release)
	assert.ErrorIs(t, <-errs, boom)
	assert.ErrorIs(t, <-errs, boom)

	// A panicking call leaves its waiters an error, not a nil payment.
	started2, release2 := make(chan struct{}), make(chan struct{})
	go func() {
		defer func() { _ = recover() }()
		_, _ = g.do(context.Background(), "p", func(context.Context) (*Payment, error) {
			close(started2)
			<-release2
			panic("boom")
		})
	}()
	<-started2
	done := make(chan error, 1)
	go func() { p, err := g.do(context.Background(), "p", nil); assert.Nil(t, p); done <- err }()
	waitWaiters(t, &g, "p", 1)
	close(release2)
	assert.Error(t, <-done)
	// A waiter whose own ctx ends stops waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	started3, release3 := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = g.do(context.Background(), "c", func(context.Context) (*Payment, error) { close(started3); <-release3; return nil, nil })
	}()
	<-started3
	_, err := g.do(ctx, "c", nil)
	assert.ErrorIs(t, err, context.Canceled)
	close(release3)
}
