package iamport

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/billingkr/iamport-go/internal/apitext"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNotFound: Iamport itself answered that the payment, billing key or
	// schedule does not exist: its envelope with HTTP 404, or with HTTP 200
	// and one of its "not found" texts (see APIError.Is). A proxy's 404 page,
	// a 5xx, or any body that is not Iamport's envelope never is.
	ErrNotFound = errors.New("iamport: not found")
	// ErrUnauthorized: the API key pair was refused by getToken, or a call
	// was refused with 401 even after one fresh token.
	ErrUnauthorized = errors.New("iamport: unauthorized")
	// ErrNotCharged: a charge whose reply was lost or broken, and Iamport,
	// asked for its merchant_uid until the settle window after the request
	// was written had passed, has no payment for it (see AgainPayment).
	// Nothing was taken; calling again with the same merchant_uid is safe.
	ErrNotCharged = errors.New("iamport: not charged")
	// ErrNotApplied: a cancel whose reply was lost or broken, and the
	// payment, fetched until the settle window after the request was written
	// had passed, shows no new cancel. Nothing was refunded.
	ErrNotApplied = errors.New("iamport: not applied")
	// ErrOutcomeUnknown: the SDK could not learn whether a charge or a
	// cancel happened (Iamport unreachable, the payment still "ready", the
	// request cut by the client's own timeout while Iamport may still be
	// working on it, or the caller's context ended first).
	//
	// For a charge, calling again with the same merchant_uid is safe:
	// Iamport refuses a second payment for a paid merchant_uid, and the SDK
	// then returns the first. For a cancel it is NOT always safe: a partial
	// cancel sent again without a Checksum can refund twice. Look the payment
	// up (GetPayment) and compare its cancel history first, or resend with
	// Checksum set to the balance you saw before the first attempt.
	ErrOutcomeUnknown = errors.New("iamport: outcome unknown")
	// ErrInvalidRequest: every *ValidationError is one: bad input, caught
	// before any request was sent.
	ErrInvalidRequest = errors.New("iamport: invalid request")
)

// APIError is an answer in which Iamport (or something in front of it) said
// no: every non-2xx response, and every 2xx whose envelope code is not 0.
type APIError struct {
	StatusCode int    // HTTP status
	Code       int    // the envelope's code (0 when the body was not the envelope)
	Message    string // Iamport's message (often Korean), or a description of what came instead of the envelope
	Method     string // HTTP method of the call
	Path       string // path of the call, e.g. /payments/imp_123

	// notEnvelope says the body was not Iamport's {code, message,
	// response} envelope (a proxy's page, an empty or cut body). Set by the
	// SDK's decoder; an APIError built by hand counts as Iamport's.
	notEnvelope bool
}

// Error shows method, path, status, code and message.
func (e *APIError) Error() string {
	return fmt.Sprintf("iamport: %s %s: HTTP %d, code %d: %s", e.Method, e.Path, e.StatusCode, e.Code, e.Message)
}

// FromIamport reports whether this is Iamport's own answer: its envelope,
// with an HTTP status below 500. Only such an answer is evidence of what
// Iamport did; a 5xx (which can come from the middle of processing), a 3xx,
// or a body that is not the envelope (a proxy's page, an empty or cut
// body) proves nothing.
func (e *APIError) FromIamport() bool {
	return !e.notEnvelope && (e.StatusCode >= 200 && e.StatusCode < 300 || e.StatusCode >= 400 && e.StatusCode < 500)
}

// Is makes errors.Is(err, ErrNotFound) hold for Iamport's "not found"
// answers (its envelope with HTTP 404, or with a non-zero code and a text of
// notFoundTexts), and errors.Is(err, ErrUnauthorized) for a 401.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return isNotFound(e)
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	}
	return false
}

// notFoundTexts are the API's "not found" messages (the envelope's message;
// some come with HTTP 200 and a non-zero code). This one table decides
// "Iamport says there is no such thing" everywhere in the SDK, and
// iamporttest answers with the same texts: both take them from
// internal/apitext, where each text names its source.
var notFoundTexts = apitext.NotFound

// isNotFound is the SDK's one definition of "Iamport says not found".
func isNotFound(e *APIError) bool {
	if !e.FromIamport() {
		return false
	}
	if e.StatusCode == http.StatusNotFound {
		return true
	}
	if e.Code == 0 {
		return false
	}
	for _, t := range notFoundTexts {
		if strings.Contains(e.Message, t) {
			return true
		}
	}
	return false
}

// isRefusal says whether err is Iamport's definite "no" to a request: its
// own answer (the envelope, status < 500) with a non-zero code or a 4xx,
// other than 401 (not processed: a fresh token changes it) and 429 (not
// processed: try later).
func isRefusal(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || !ae.FromIamport() {
		return false
	}
	switch {
	case ae.StatusCode == http.StatusUnauthorized, ae.StatusCode == http.StatusTooManyRequests:
		return false
	case ae.StatusCode >= 200 && ae.StatusCode < 300:
		return ae.Code != 0
	}
	return ae.StatusCode >= 400
}

// alreadyDoneTexts mark a refusal that says the merchant_uid was already
// paid (or the schedule already charged): "이미 주문이 이루어진 건입니다"
// is the live text; its code is not documented.
var alreadyDoneTexts = []string{"이미 주문", "이미 결제", "이미 승인", "already paid"}

func saysAlreadyPaid(e *APIError) bool {
	for _, t := range alreadyDoneTexts {
		if strings.Contains(e.Message, t) {
			return true
		}
	}
	return false
}

// DecodeError is a 2xx answer whose body could not be read as what the
// endpoint returns: not the envelope (HTML, empty, truncated), or a
// response of the wrong shape, or a money field that is not an exact
// amount of its currency.
type DecodeError struct {
	Method, Path string
	StatusCode   int
	Err          error
}

// Error names the call and what was wrong, never the body.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("iamport: %s %s: HTTP %d: undecodable response: %v", e.Method, e.Path, e.StatusCode, e.Err)
}

// Unwrap returns the decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// TransportError is a call that got no complete answer: a refused or reset
// connection, a timeout, a body cut short.
type TransportError struct {
	Method, Path string
	StatusCode   int // the status, when the failure came while reading the body
	Err          error
}

// Error names the call and the network failure.
func (e *TransportError) Error() string {
	return fmt.Sprintf("iamport: %s %s: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the network error.
func (e *TransportError) Unwrap() error { return e.Err }

// PaymentFailedError is a charge that reached the card company and was
// declined: HTTP 200, envelope code 0, payment status "failed". Nothing was
// taken. Payment holds the failed payment, FailReason among its fields.
type PaymentFailedError struct {
	Payment *Payment
}

// Error shows the merchant_uid and the reason.
func (e *PaymentFailedError) Error() string {
	if e.Payment == nil {
		return "iamport: payment declined"
	}
	return fmt.Sprintf("iamport: payment %s declined: %s", e.Payment.MerchantUID, e.Payment.FailReason)
}

// ValidationError is bad input caught before any request was sent.
// errors.Is(err, ErrInvalidRequest) holds for it.
type ValidationError struct {
	Field  string // the wire name of the offending field
	Reason string
}

// Error names the field and the rule.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("iamport: invalid %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidRequest) hold.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// The operations an OutcomeError names.
const (
	OpCharge        = "charge"         // AgainPayment, OnetimePayment
	OpScheduleRetry = "schedule retry" // RetrySchedule
	OpCancel        = "cancel"         // CancelPayment
)

// OutcomeError is the outcome of a write that moves money (a charge, a
// schedule retry, a cancel) when it did not end in an answer: Outcome is
// ErrNotCharged (a charge: nothing was taken), ErrNotApplied (a cancel:
// nothing was refunded) or ErrOutcomeUnknown, and errors.Is matches it. Err
// is what went wrong (a transport error, a proxy's answer, the caller's
// context error); errors.Is and errors.As see it too.
//
// Whether sending the same request again is safe depends on the operation:
// see ErrOutcomeUnknown.
type OutcomeError struct {
	Op          string // OpCharge, OpScheduleRetry or OpCancel
	Outcome     error  // ErrNotCharged, ErrNotApplied or ErrOutcomeUnknown
	MerchantUID string // the payment's merchant_uid: the key to look it up, or to retry a charge
	ImpUID      string // the payment's imp_uid, when known (a cancel)
	Err         error
}

// ChargeError is the name this type had before cancels shared it.
type ChargeError = OutcomeError

// Error shows the operation, its key, the outcome and the cause.
func (e *OutcomeError) Error() string {
	op := e.Op
	if op == "" {
		op = OpCharge
	}
	key := "merchant_uid " + e.MerchantUID
	if e.MerchantUID == "" && e.ImpUID != "" {
		key = "imp_uid " + e.ImpUID
	}
	if e.Err == nil {
		return fmt.Sprintf("%v: %s (%s)", e.Outcome, op, key)
	}
	return fmt.Sprintf("%v: %s (%s): %v", e.Outcome, op, key, e.Err)
}

// Is matches the outcome sentinel.
func (e *OutcomeError) Is(target error) bool { return target == e.Outcome }

// Unwrap returns the cause.
func (e *OutcomeError) Unwrap() error { return e.Err }
