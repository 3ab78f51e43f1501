package billingqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/time/rate"
)

// Outcome is what became of one charge attempt, as recorded in its job's
// output.
type Outcome string

const (
	// OutcomePaid: the money was taken (imp_uid and amount recorded).
	OutcomePaid Outcome = "paid"
	// OutcomeRefunded: the merchant_uid was paid by an earlier run and has
	// been refunded (cancelled) since; no money was taken now.
	OutcomeRefunded Outcome = "refunded"
	// OutcomeDeclined: the card company declined; the dunning policy decides
	// what comes next (Output.NextMerchantUID, or GaveUp).
	OutcomeDeclined Outcome = "declined"
	// OutcomeNotCharged: the request failed and Iamport has no payment for
	// it; retried soon with the same merchant_uid.
	OutcomeNotCharged Outcome = "not_charged"
	// OutcomeUnknown: the SDK could not learn the truth in time; retried
	// later with the same merchant_uid.
	OutcomeUnknown Outcome = "unknown"
	// OutcomeRefused: Iamport refused the request (its code and message
	// recorded), or the SDK refused it before sending; the job is cancelled.
	OutcomeRefused Outcome = "refused"
)

// Output is what a charge attempt records on its job (River's job output,
// metadata key "output"), on every outcome.
type Output struct {
	Outcome     Outcome   `json:"outcome"`
	MerchantUID string    `json:"merchant_uid"`
	ImpUID      string    `json:"imp_uid,omitempty"`
	Amount      int64     `json:"amount,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
	// FailReason of a decline.
	FailReason string `json:"fail_reason,omitempty"`
	// NextMerchantUID and NextAt: the dunning attempt a decline scheduled.
	NextMerchantUID string    `json:"next_merchant_uid,omitempty"`
	NextAt          time.Time `json:"next_at,omitzero"`
	// GaveUp: declined on the last dunning attempt.
	GaveUp bool `json:"gave_up,omitempty"`
	// Code and Message of a refusal (Iamport's), or Error of any other
	// non-paid outcome.
	Code    int       `json:"code,omitempty"`
	Message string    `json:"message,omitempty"`
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`

	// retryLater: not charged for a reason that may last (credentials,
	// rate limit): asked again after UnknownSnooze without using an attempt,
	// never cancelled nor discarded for it.
	retryLater bool
}

type chargeWorker[TTx any] struct {
	river.WorkerDefaults[ChargeArgs]
	q       *Queue[TTx]
	iam     *iamport.Client
	limiter *rate.Limiter
}

// Timeout bounds one attempt.
func (w *chargeWorker[TTx]) Timeout(*river.Job[ChargeArgs]) time.Duration { return w.q.cfg.JobTimeout }

// NextRetry: a charge that was not charged (or whose attempt was cut short)
// is retried soon, with the same merchant_uid.
func (w *chargeWorker[TTx]) NextRetry(*river.Job[ChargeArgs]) time.Time {
	return w.q.cfg.Now().Add(w.q.cfg.NotChargedBackoff)
}

func (w *chargeWorker[TTx]) Work(ctx context.Context, job *river.Job[ChargeArgs]) error {
	a := job.Args
	if w.limiter != nil {
		if err := w.limiter.Wait(ctx); err != nil {
			return err // nothing sent: retried
		}
	}
	p, err := w.iam.AgainPayment(ctx, &iamport.AgainPaymentRequest{
		CustomerUID: a.CustomerUID,
		MerchantUID: a.MerchantUID,
		Amount:      a.Amount,
		Currency:    a.Currency,
		Name:        a.Name,
	})
	out := classify(a, p, err)
	out.At = w.q.cfg.Now()
	switch out.Outcome {
	case OutcomePaid, OutcomeRefunded:
		return record(ctx, out)
	case OutcomeDeclined:
		return w.dunning(ctx, job, out)
	case OutcomeRefused:
		if err := record(ctx, out); err != nil {
			return err
		}
		return river.JobCancel(err)
	case OutcomeNotCharged:
		if rerr := record(ctx, out); rerr != nil {
			return rerr
		}
		if out.retryLater {
			return river.JobSnooze(w.q.cfg.UnknownSnooze)
		}
		return fmt.Errorf("not charged, retried with the same merchant_uid: %w", err)
	default: // unknown
		if rerr := record(ctx, out); rerr != nil {
			return rerr
		}
		return river.JobSnooze(w.q.cfg.UnknownSnooze)
	}
}

func record(ctx context.Context, out Output) error {
	if err := river.RecordOutput(ctx, out); err != nil {
		return fmt.Errorf("billingqueue: record output: %w", err)
	}
	return nil
}

// dunning handles a decline: the next attempt's job is inserted and this job
// completed in one transaction, so the next attempt exists if and only if
// this one is finished as declined. If the process dies before the commit,
// this attempt runs again with its own merchant_uid (the card may decline or
// pay this time; either way at most one attempt of the chain is paid).
func (w *chargeWorker[TTx]) dunning(ctx context.Context, job *river.Job[ChargeArgs], out Output) error {
	a := job.Args
	delays := w.q.cfg.Dunning
	if a.Attempt >= len(delays) {
		out.GaveUp = true
		return record(ctx, out)
	}
	next := a
	next.Attempt = a.Attempt + 1
	next.MerchantUID = AttemptMerchantUID(a.BaseMerchantUID, next.Attempt)
	next.Declines = append(append([]string(nil), a.Declines...), out.FailReason)
	out.NextMerchantUID = next.MerchantUID
	out.NextAt = w.q.cfg.Now().Add(delays[a.Attempt])
	if err := record(ctx, out); err != nil {
		return err
	}
	tx, err := w.q.tx.begin(ctx)
	if err != nil {
		return fmt.Errorf("billingqueue: begin: %w", err)
	}
	defer w.q.tx.rollback(context.WithoutCancel(ctx), tx)
	opts := w.q.insertOpts()
	if delays[a.Attempt] > 0 {
		opts.ScheduledAt = out.NextAt
	}
	if _, err := w.q.client.InsertTx(ctx, tx, next, opts); err != nil {
		return fmt.Errorf("billingqueue: insert dunning attempt: %w", err)
	}
	done, err := w.q.tx.completeTx(ctx, tx, job)
	if err != nil {
		return fmt.Errorf("billingqueue: complete: %w", err)
	}
	if done.State != rivertype.JobStateCompleted || done.Attempt != job.Attempt {
		// River rescued this job while this run was finishing (it ran past
		// RescueStuckJobsAfter) and another run owns it now: schedule nothing,
		// or two attempts of the chain could both be charged.
		return fmt.Errorf("billingqueue: job %d is no longer this run's (state %s, attempt %d, ours %d): next attempt not scheduled", job.ID, done.State, done.Attempt, job.Attempt)
	}
	if err := w.q.tx.commit(ctx, tx); err != nil {
		return fmt.Errorf("billingqueue: commit: %w", err)
	}
	return nil
}

// lasting reports whether an HTTP status means "not processed, and may stay
// so for a while": 401, 403, 408, 429.
func lasting(status int) bool {
	return status == 401 || status == 403 || status == 408 || status == 429
}

// classify maps the SDK's outcome onto Output.
func classify(a ChargeArgs, p *iamport.Payment, err error) Output {
	out := Output{MerchantUID: a.MerchantUID}
	if err == nil {
		switch {
		case p != nil && p.Status == iamport.PaymentPaid:
			out.Outcome = OutcomePaid
		case p != nil && p.Status == iamport.PaymentCancelled:
			out.Outcome = OutcomeRefunded
		default:
			out.Outcome = OutcomeUnknown
			if p == nil {
				out.Error = "charge returned no payment and no error"
			} else {
				out.Error = fmt.Sprintf("charge returned a payment with status %q", p.Status)
			}
			return out
		}
		out.ImpUID, out.Amount, out.Currency, out.PaidAt = p.ImpUID, p.Amount, p.Currency, p.PaidAt
		return out
	}
	out.Error = err.Error()
	var pf *iamport.PaymentFailedError
	var ve *iamport.ValidationError
	var ae *iamport.APIError
	switch {
	case errors.Is(err, iamport.ErrOutcomeUnknown):
		out.Outcome = OutcomeUnknown
	case errors.As(err, &pf):
		out.Outcome = OutcomeDeclined
		if pf.Payment != nil {
			out.FailReason = pf.Payment.FailReason
			out.ImpUID = pf.Payment.ImpUID
		}
	case errors.As(err, &ve):
		out.Outcome = OutcomeRefused
		out.Message = ve.Error()
	case errors.Is(err, iamport.ErrUnauthorized) || errors.As(err, &ae) && lasting(ae.StatusCode):
		// The request was not processed, and the cause (the key pair, a rate
		// limit) may last: cancelling the month for it would be wrong.
		out.Outcome, out.retryLater = OutcomeNotCharged, true
		if ae != nil {
			out.Code, out.Message = ae.Code, ae.Message
		}
	case errors.Is(err, iamport.ErrNotCharged):
		out.Outcome = OutcomeNotCharged
	case errors.As(err, &ae) && ae.StatusCode != 0 && ae.StatusCode < 500:
		out.Outcome = OutcomeRefused
		out.Code, out.Message = ae.Code, ae.Message
	default:
		// A 5xx APIError, a bare error or a ctx that ended: nothing proves
		// the charge did not happen. Ask again with the same merchant_uid.
		out.Outcome = OutcomeUnknown
	}
	return out
}
