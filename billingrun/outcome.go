package billingrun

import (
	"errors"
	"fmt"

	iamport "github.com/billingkr/iamport-go"
)

// Outcome is how one charge ended. Its zero value is Unknown, so an outcome
// that was never set can never read as "not charged".
type Outcome int

// The outcomes of a charge (see the package doc and Classify).
const (
	// Unknown: the money may or may not have been taken
	// (iamport.ErrOutcomeUnknown, or an error the runner does not recognise).
	// Run the batch again later: the merchant_uid makes that safe.
	Unknown Outcome = iota
	// Paid: the money was taken, once. Result.Payment is the payment.
	Paid
	// Declined: the card company declined (*iamport.PaymentFailedError);
	// nothing was taken. Result.Payment is the failed payment.
	Declined
	// NotCharged: this call took nothing (iamport.ErrNotCharged or an
	// *iamport.APIError). Running the batch again tries it again. An
	// APIError can also mean that the merchant_uid is already paid for a
	// different customer_uid or amount (the price changed between runs).
	NotCharged
	// Invalid: refused before any request was sent: a *iamport.ValidationError,
	// a Charge the runner cannot derive a merchant_uid for, or ErrDuplicate.
	Invalid
	// Refunded: the merchant_uid was already paid, by an earlier run, and
	// has been cancelled (refunded, in whole or in part) since: the SDK
	// returned that payment with status "cancelled". Nothing was taken now,
	// and charging again under a new merchant_uid is the merchant's decision.
	// Result.Payment is the payment.
	Refunded
)

// Outcomes lists every Outcome, in the order Summary reports them.
var Outcomes = []Outcome{Paid, Refunded, Declined, NotCharged, Unknown, Invalid}

// String returns the outcome's name ("paid", "refunded", "declined",
// "not_charged", "unknown", "invalid").
func (o Outcome) String() string {
	switch o {
	case Paid:
		return "paid"
	case Declined:
		return "declined"
	case NotCharged:
		return "not_charged"
	case Unknown:
		return "unknown"
	case Invalid:
		return "invalid"
	case Refunded:
		return "refunded"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// ErrUnexpectedStatus is the Result.Err of a charge that returned a payment
// and no error, but whose payment is not "paid" (a payment cancelled since an
// earlier run, for one). Its outcome is Unknown: the money was taken at some
// point, and the runner does not guess what happened to it.
var ErrUnexpectedStatus = errors.New("billingrun: charge returned a payment that is not paid")

// ErrDuplicate is the Result.Err of a charge whose merchant_uid (its
// customer_uid and period) already came earlier in the same run. It is
// reported Invalid and not sent.
var ErrDuplicate = errors.New("billingrun: duplicate customer_uid and period in the batch")

// Classify reads the outcome of one charging call from the SDK's money
// contract:
//
//   - err == nil and p.IsPaid() → Paid
//   - err == nil and p.Status is cancelled → Refunded (already paid earlier,
//     refunded since)
//   - errors.Is(err, iamport.ErrOutcomeUnknown) → Unknown (checked first)
//   - *iamport.PaymentFailedError → Declined
//   - *iamport.ValidationError → Invalid
//   - errors.Is(err, iamport.ErrNotCharged) or *iamport.APIError → NotCharged
//   - anything else, including err == nil with a payment that is not paid,
//     a bare transport or decoding error, or an *iamport.APIError with a
//     5xx status (the SDK reconciles those itself and never returns one; a
//     Charger that does could have charged) → Unknown
func Classify(p *iamport.Payment, err error) Outcome {
	o, _, _ := classify(p, err)
	return o
}

// classify is Classify plus the Result's Payment and Err.
func classify(p *iamport.Payment, err error) (Outcome, *iamport.Payment, error) {
	if err == nil {
		if p.IsPaid() {
			return Paid, p, nil
		}
		if p != nil && p.Status == iamport.PaymentCancelled {
			return Refunded, p, nil
		}
		if p == nil {
			return Unknown, nil, fmt.Errorf("%w: no payment", ErrUnexpectedStatus)
		}
		return Unknown, p, fmt.Errorf("%w: status %q (merchant_uid %s)", ErrUnexpectedStatus, p.Status, p.MerchantUID)
	}
	if errors.Is(err, iamport.ErrOutcomeUnknown) {
		return Unknown, p, err
	}
	var pf *iamport.PaymentFailedError
	if errors.As(err, &pf) {
		return Declined, pf.Payment, err
	}
	var ve *iamport.ValidationError
	if errors.As(err, &ve) {
		return Invalid, nil, err
	}
	if errors.Is(err, iamport.ErrNotCharged) {
		return NotCharged, nil, err
	}
	var ae *iamport.APIError
	if errors.As(err, &ae) && ae.StatusCode != 0 && ae.StatusCode < 500 {
		return NotCharged, nil, err
	}
	return Unknown, p, err
}
