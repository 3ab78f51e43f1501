package iamporttest

import (
	"context"
	"sync/atomic"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/internal/hook"
)

// Client returns an SDK client wired to the server: its credentials and its
// URL, on the server's time. Options in opts come last and may override
// those. It panics if the client cannot be built (a test helper).
//
// The client reads the server's Clock, and its waits (the settle window of
// a charge whose reply was lost, the backoff between retried reads) do not
// sleep: each one moves the client's own view of time forward and returns
// at once. So a test that drives a charge into "not charged" or "unknown"
// takes milliseconds, not the settle window, and the server's clock is left
// where the test put it. Network timeouts (WithTimeout) stay real time.
func (s *Server) Client(opts ...iamport.Option) *iamport.Client {
	var ahead atomic.Int64 // how far the client's waits have moved its time past the server's clock
	now := func() time.Time { return s.Clock().Now().Add(time.Duration(ahead.Load())) }
	sleep := func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ahead.Add(int64(d))
		return nil
	}
	clock := hook.ClientClock(now, sleep).(iamport.Option)
	base := []iamport.Option{iamport.WithBaseURL(s.URL()), clock}
	c, err := iamport.NewClient(s.APIKey, s.APISecret, append(base, opts...)...)
	if err != nil {
		panic("iamporttest: " + err.Error())
	}
	return c
}
