package iamport

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNotFound: the API answered that the payment, billing key or schedule
	// does not exist (HTTP 404, or a recognisable "not found" answer in HTTP 200).
	ErrNotFound = errors.New("iamport: not found")
	// ErrUnauthorized: the API key pair was refused by getToken, or a call
	// was refused with 401 even after one fresh token.
	ErrUnauthorized = errors.New("iamport: unauthorized")
	// ErrNotCharged: a charge failed in transport, and Iamport, asked for its
	// merchant_uid over the settle window, has no payment for it. Nothing was
	// taken; calling again with the same merchant_uid is safe.
	ErrNotCharged = errors.New("iamport: not charged")
	// ErrOutcomeUnknown: the SDK could not learn whether a charge (or a
	// cancel) happened
	// (Iamport unreachable, the payment still "ready", or the caller's
	// context ended first). Calling again with the same merchant_uid is safe:
	// Iamport refuses a second payment for a paid merchant_uid, and the SDK
	// then returns the first.
	ErrOutcomeUnknown = errors.New("iamport: charge outcome unknown")
	// ErrInvalidRequest: every *ValidationError is one: bad input, caught
	// before any request was sent.
	ErrInvalidRequest = errors.New("iamport: invalid request")
)

// APIError is an answer in which Iamport (or something in front of it) said
// no: every non-2xx response, and every 2xx whose envelope code is not 0.
type APIError struct {
	StatusCode int    // HTTP status
	Code       int    // the envelope's code (0 when the body was not the envelope)
	Message    string // Iamport's message (often Korean), or what came instead of the envelope
	Method     string // HTTP method of the call
	Path       string // path of the call, e.g. /payments/imp_123

	// notFound marks an answer the endpoint knows to mean "not found"
	// although it came as HTTP 200 with a non-zero code.
	notFound bool
}

// Error shows method, path, status, code and message.
func (e *APIError) Error() string {
	return fmt.Sprintf("iamport: %s %s: HTTP %d, code %d: %s", e.Method, e.Path, e.StatusCode, e.Code, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) hold for a 404 and for Iamport's
// "not found" answers in HTTP 200, and errors.Is(err, ErrUnauthorized) for
// a 401.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || e.notFound || (e.Code != 0 && isNotFoundMessage(e.Message))
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	}
	return false
}

// notFoundPhrases are the API's "not found" texts that come with HTTP 200.
var notFoundPhrases = []string{
	"찾을 수 없습니다",   // 요청하신 customer_uid(...)로 등록된 정보를 찾을 수 없습니다.
	"존재하지 않는",     // 존재하지 않는 결제정보입니다.
	"등록되지 않은 구매자", // again with an unknown customer_uid
}

func isNotFoundMessage(m string) bool {
	for _, p := range notFoundPhrases {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

// DecodeError is a 2xx answer whose body could not be read as what the
// endpoint returns: not the envelope (HTML, empty, truncated), or a response
// of the wrong shape or types.
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

// ChargeError is the outcome of a charge that did not end in a payment or a
// decline, or of a cancel whose outcome could not be learned (Outcome
// ErrOutcomeUnknown; MerchantUID is the payment's, empty when it could not
// be fetched): Outcome is ErrNotCharged or ErrOutcomeUnknown, and errors.Is
// matches it; Err is what went wrong (a transport error, the caller's
// context error) and errors.Is/As see it too.
type ChargeError struct {
	Outcome     error  // ErrNotCharged or ErrOutcomeUnknown
	MerchantUID string // the charge's merchant_uid: the key to look it up, or to retry it
	Err         error
}

// Error shows the outcome, the merchant_uid and the cause.
func (e *ChargeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%v (merchant_uid %s)", e.Outcome, e.MerchantUID)
	}
	return fmt.Sprintf("%v (merchant_uid %s): %v", e.Outcome, e.MerchantUID, e.Err)
}

// Is matches the outcome sentinel.
func (e *ChargeError) Is(target error) bool { return target == e.Outcome }

// Unwrap returns the cause.
func (e *ChargeError) Unwrap() error { return e.Err }
