package iamporttest

import (
	"context"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/internal/hook"
)

// Client returns an SDK client wired to the server: its credentials and its
// URL, on the server's Clock. Options in opts come last and may override
// those. It panics if the client cannot be built (a test helper).
//
// The client reads the server's Clock, and its waits (the settle window of
// a charge whose reply was lost, the backoff between retried reads) do not
// sleep: each one moves the server's Clock forward by the wait and returns
// at once. So a test that drives a charge into "not charged" or "unknown"
// takes milliseconds, not the settle window, and the Delay of FaultDelay
// and FaultSlowPG passes as the client waits. Network timeouts
// (WithTimeout) stay real time.
func (s *Server) Client(opts ...iamport.Option) *iamport.Client {
	clock := s.Clock()
	sleep := func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		clock.Advance(d)
		return nil
	}
	base := []iamport.Option{iamport.WithBaseURL(s.URL()), hook.ClientClock(clock.Now, sleep).(iamport.Option)}
	c, err := iamport.NewClient(s.APIKey, s.APISecret, append(base, opts...)...)
	if err != nil {
		panic("iamporttest: " + err.Error())
	}
	return c
}
