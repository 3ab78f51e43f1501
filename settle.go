package iamport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/billingkr/iamport-go/internal/retry"
)

// The money engine. Every write that moves money or changes a payment (a
// charge, a key-in charge, a schedule retry, a cancel) runs through run,
// which decides its outcome only from what Iamport itself said
// (shared/design/evidence.md):
//
//   - The write is sent once. net/http cannot resend it (no GetBody) and no
//     redirect is followed; only an answered 401 sends it once more, with a
//     fresh token.
//   - Iamport's answer (its envelope, status below 500) with a payment is
//     judged: this write applied, declined, still processing, or not this
//     write's payment at all.
//   - Iamport's refusal (code ≠ 0) is a refusal; what a refusal means for
//     the operation (the repeat rule of a charge) is the operation's.
//   - Anything else after the request may have been written (a timeout, a
//     reset, a 5xx, a 3xx, a proxy's page) settles: the result is looked up
//     until the settle window after the last write has passed.
//
// Settling ends in: applied or declined (a lookup showed it), not applied
// (Iamport answered "no such payment" or "unchanged" at least the settle
// window after the last write, no lookup ever saw the write in progress, and
// the exchange was not cut by the client's own timeout, after which Iamport
// may still be working on it), or unknown.

// verdict is what one look at a payment says about a write.
type verdict int

const (
	notEvidence verdict = iota // not this write's payment: says nothing about it
	inProgress                 // this write's payment, still "ready": seen
	applied                    // this write happened (paid; cancel in the history)
	declined                   // this write's charge was declined
	absent                     // this write's payment is not there (or the payment is unchanged)
)

// write is one money write as the engine runs it.
type write struct {
	op  string   // OpCharge, OpScheduleRetry, OpCancel
	key string   // merchant_uid
	imp string   // imp_uid, when known
	req *request // the POST
	// judge says what a payment (a lookup's, and the POST's answer unless
	// answered is set) shows.
	judge func(p *Payment) verdict
	// answered, when set, judges the payment in the POST's own answer.
	answered func(p *Payment) verdict
	// lookup asks Iamport once about the result, without retries.
	lookup func(ctx context.Context) (*Payment, error)
	// refused decides a refusal of the first attempt; nil: the refusal
	// stands.
	refused func(ctx context.Context, ae *APIError) (*Payment, error)
}

func (w *write) outcome(outcome, cause error) error {
	return &OutcomeError{Op: w.op, Outcome: outcome, MerchantUID: w.key, ImpUID: w.imp, Err: cause}
}

func (w *write) notApplied(cause error) error {
	if w.op == OpCancel {
		return w.outcome(ErrNotApplied, cause)
	}
	return w.outcome(ErrNotCharged, cause)
}

func (w *write) unknown(cause error) error { return w.outcome(ErrOutcomeUnknown, cause) }

// result turns a verdict of applied or declined into the call's result.
func result(v verdict, p *Payment) (*Payment, error) {
	if v == declined {
		return nil, &PaymentFailedError{Payment: p}
	}
	return p, nil
}

// run sends w and decides its outcome.
func (c *Client) run(ctx context.Context, w *write) (*Payment, error) {
	if err := ctx.Err(); err != nil {
		return nil, w.notApplied(err) // nothing sent
	}
	var tr sendTrace
	w.req.trace, w.req.money = &tr, true
	if w.req.body == nil {
		// net/http resends a POST without a body on its own (after an
		// HTTP/2 stream reset): give it one, so that it cannot.
		w.req.body = struct{}{}
	}
	var pw paymentWire
	err := c.do(ctx, w.req, &pw)
	if err == nil {
		p, cerr := pw.toPayment()
		if cerr != nil {
			err = &DecodeError{Method: w.req.method, Path: w.req.path, StatusCode: http.StatusOK, Err: cerr}
		} else {
			judge := w.judge
			if w.answered != nil {
				judge = w.answered
			}
			switch v := judge(p); v {
			case applied, declined:
				return result(v, p)
			default:
				// "ready", or a payment that is not this write's: settle.
				err = fmt.Errorf("iamport: %s answered with payment %s in status %q, which does not settle it", w.op, p.ImpUID, p.Status)
			}
		}
	} else if tr.neverSent(err) {
		return nil, w.notApplied(err) // Iamport cannot have seen it
	} else if ctx.Err() != nil {
		return nil, w.unknown(ctxError(ctx, err))
	} else if isRefusal(err) {
		var ae *APIError
		errors.As(err, &ae)
		if w.refused != nil {
			return w.refused(ctx, ae)
		}
		return nil, ae
	} else if isAnswer(err) {
		// Iamport's own answer that is not a refusal: a 401 that survived
		// a fresh token, or a 429. Neither was processed.
		return nil, err
	}
	return c.settle(ctx, w, &tr, err)
}

// Settle timing: the first lookup is at once, then waits double from
// settleMinWait up to settleMaxWait (equal jitter), the last one timed to
// fall at the end of the window.
const (
	settleMinWait = 250 * time.Millisecond
	settleMaxWait = 4 * time.Second
)

// settle looks w's result up until it is known or the settle window after
// the last write has passed. cause is what went wrong with the write.
func (c *Client) settle(ctx context.Context, w *write, tr *sendTrace, cause error) (*Payment, error) {
	now := c.cfg.clock.now
	start := now()
	deadline := tr.lastWrite().Add(c.cfg.settleWindow)
	if deadline.Before(start) {
		deadline = start
	}
	var (
		waited  time.Duration // what the waits add up to, even when Sleep is a no-op
		seen    bool          // a lookup saw the write in progress
		lastErr error         // the last lookup's failure, when it had no answer
	)
	for attempt := 1; ; attempt++ {
		p, err := w.lookup(ctx)
		isAbsent := false
		switch {
		case err == nil:
			lastErr = nil
			switch v := w.judge(p); v {
			case applied, declined:
				return result(v, p)
			case inProgress:
				seen = true
			case absent:
				isAbsent = true
			}
		case ctx.Err() != nil:
			return nil, w.unknown(ctxError(ctx, errors.Join(cause, err)))
		case errors.Is(err, ErrNotFound):
			lastErr, isAbsent = nil, true
		default:
			lastErr = err
		}
		t := now()
		if elapsed := start.Add(waited); elapsed.After(t) {
			t = elapsed
		}
		if !t.Before(deadline) {
			switch {
			case isAbsent && !seen && !tr.timedOut:
				return nil, w.notApplied(cause)
			case seen:
				return nil, w.unknown(errors.Join(cause, errors.New("iamport showed this write in progress and has not settled it")))
			case tr.timedOut && isAbsent:
				return nil, w.unknown(errors.Join(cause, errors.New("the request was cut by the client's timeout: Iamport may still be processing it")))
			case lastErr != nil:
				return nil, w.unknown(errors.Join(cause, lastErr))
			}
			return nil, w.unknown(errors.Join(cause, errors.New("iamport has shown no payment that settles this write")))
		}
		wait := min(retry.Backoff(attempt, settleMinWait, settleMaxWait, retry.Equal), deadline.Sub(t))
		if err := c.sleep(ctx, wait); err != nil {
			return nil, w.unknown(ctxError(ctx, cause))
		}
		waited += wait
	}
}

// clockMargin is how far, beyond what the getToken round trip bounds, the
// server's clocks may disagree (its getToken "now" and its payments'
// started_at come from different machines).
const clockMargin = 5 * time.Second

// certainlyBefore says whether a payment that started at startedAt (server
// clock, whole seconds) began before the local instant at, whatever the
// latency of the getToken that measured the clocks' offset: started_at + 1 s
// (it is cut to the second) + clockMargin is not after the earliest the
// server's clock can have read at that instant. Without a measured offset
// it says false.
func (c *Client) certainlyBefore(startedAt, at time.Time) bool {
	lo, ok := c.auth.serverLowerBound(at)
	if !ok || startedAt.IsZero() {
		return false
	}
	return !startedAt.Add(time.Second + clockMargin).After(lo)
}

// confirmRefusal is the rule of the writes that are harmless to repeat
// (scheduling, revoking, setting a schedule's time, registering an
// amount): the SDK's retry loop resends them after no answer, and when
// Iamport refuses one (as it refuses a resend whose first attempt went
// through), confirm looks once: if Iamport shows the write in place, that
// is the call's result; otherwise the refusal stands. Any other error is
// returned as it is.
func confirmRefusal[T any](err error, confirm func() (T, bool)) (T, error) {
	var zero T
	if err == nil || !isRefusal(err) {
		return zero, err
	}
	if v, ok := confirm(); ok {
		return v, nil
	}
	return zero, err
}
