package iamport

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// flightGroup shares one call among the concurrent callers that ask for
// the same key (golang.org/x/sync/singleflight, reduced to what the webhook
// handler needs). The call runs under the first caller's ctx; a caller
// that was waiting when that ctx ended, and whose own ctx is still live,
// starts a call of its own instead of inheriting the other's cancellation.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	p    *Payment
	err  error
	// leaderGone is set when the call failed because its caller's ctx
	// ended: waiters do not take that error as theirs.
	leaderGone bool
	waiters    int // callers waiting for this call (guarded by the group's mu)
}

func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context) (*Payment, error)) (*Payment, error) {
	for {
		g.mu.Lock()
		if f, ok := g.m[key]; ok {
			f.waiters++
			g.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.leaderGone && ctx.Err() == nil {
				continue
			}
			return f.p, f.err
		}
		if g.m == nil {
			g.m = make(map[string]*flight)
		}
		// An error until fn returns: a panic in fn leaves the waiters an
		// error, never a nil payment without one.
		f := &flight{done: make(chan struct{}), err: errors.New("iamport: payment lookup did not complete")}
		g.m[key] = f
		g.mu.Unlock()

		func() {
			defer func() {
				g.mu.Lock()
				delete(g.m, key)
				g.mu.Unlock()
				close(f.done)
			}()
			f.p, f.err = fn(ctx)
			f.leaderGone = f.err != nil && ctx.Err() != nil &&
				(errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded))
		}()
		return f.p, f.err
	}
}

// clonePayment copies p so that callers sharing one fetch do not share
// memory (fn may change what it receives).
func clonePayment(p *Payment) *Payment {
	if p == nil {
		return nil
	}
	cp := *p
	if p.CardType != nil {
		ct := *p.CardType
		cp.CardType = &ct
	}
	cp.CancelHistory = slices.Clone(p.CancelHistory)
	cp.DepositHistory = slices.Clone(p.DepositHistory)
	cp.CancelReceiptURLs = slices.Clone(p.CancelReceiptURLs)
	return &cp
}
