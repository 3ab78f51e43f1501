package iamport

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/billingkr/iamport-go/internal/wire"
)

// ErrVerificationFailed is matched by every *VerificationError:
// errors.Is(err, ErrVerificationFailed) holds when what Iamport says about a
// payment or a billing key does not match what the merchant expected.
var ErrVerificationFailed = errors.New("iamport: verification failed")

// VerificationError is a payment or billing key that Iamport knows, but not
// as the merchant expected: another merchant_uid, another amount, a status
// other than paid, and so on. It never holds card data.
// errors.Is(err, ErrVerificationFailed) holds for it.
type VerificationError struct {
	Field string // the wire name of the field that differs: status, merchant_uid, amount, currency, customer_uid, imp_uid, sandbox
	Want  string // what the merchant expected
	Got   string // what Iamport has
}

// Error names the field and both values.
func (e *VerificationError) Error() string {
	return fmt.Sprintf("iamport: verification failed: %s: want %q, got %q", e.Field, e.Want, e.Got)
}

// Is makes errors.Is(err, ErrVerificationFailed) hold.
func (e *VerificationError) Is(target error) bool { return target == ErrVerificationFailed }

// Expectation is what the merchant's own records say a payment made in the
// payment window must be. Take every field from the merchant's database
// (the order created before IMP.request_pay was called), never from what
// the browser sent back.
type Expectation struct {
	MerchantUID string // required: the order's merchant_uid
	Amount      int64  // the amount charged, in Currency's minor unit (0 for a key-only window payment)
	Currency    string // ISO 4217; "" = KRW
	CustomerUID string // when set, the payment must have been made for this billing key
}

func (e *Expectation) validate() error {
	if err := checkUID("merchant_uid", e.MerchantUID, MaxMerchantUIDLen); err != nil {
		return err
	}
	if e.Amount < 0 {
		return &ValidationError{Field: "amount", Reason: "must not be negative"}
	}
	if e.Currency != "" && !currencyRE.MatchString(e.Currency) {
		return &ValidationError{Field: "currency", Reason: "must be a 3-letter ISO 4217 code"}
	}
	if e.CustomerUID != "" {
		if err := checkUID("customer_uid", e.CustomerUID, MaxCustomerUIDLen); err != nil {
			return err
		}
	}
	return nil
}

// VerifyPayment checks a payment made in the payment window against the
// merchant's own expectation, by fetching it from Iamport
// (GET /payments/{imp_uid}): never trust what the browser reports.
//
// It checks, in this order, the imp_uid Iamport answered for, merchant_uid,
// customer_uid (when want.CustomerUID is set), currency ("" means KRW),
// amount, that the status is paid, and that the payment is not a sandbox
// (test-channel) payment unless the client was made WithSandbox: a test
// payment is not money, so without WithSandbox it is a *VerificationError on
// field "sandbox" even when everything else matches. (The lookup always
// sends include_sandbox=true, so that a sandbox payment is recognised as
// one rather than reported as unknown.) The first difference is a
// *VerificationError naming the field (errors.Is(err, ErrVerificationFailed)
// holds), returned together with the fetched payment, so that the caller can
// log or refund it (a status of failed carries its FailReason). A lookup
// failure is returned as GetPayment returns it (an unknown imp_uid satisfies
// errors.Is(err, ErrNotFound)), with a nil payment. Bad input is a
// *ValidationError before any request is sent.
//
// For the JTNet billing window (IMP.request_pay with a customer_uid),
// want.CustomerUID must be the customer_uid passed to request_pay, and
// want.Amount the amount of the first charge.
func (c *Client) VerifyPayment(ctx context.Context, impUID string, want Expectation) (*Payment, error) {
	if err := checkUID("imp_uid", impUID, 100); err != nil {
		return nil, err
	}
	if err := want.validate(); err != nil {
		return nil, err
	}
	p, err := c.getPaymentToVerify(ctx, impUID)
	if err != nil {
		return nil, err
	}
	if err := checkPayment(p, impUID, want); err != nil {
		return p, err
	}
	if p.Sandbox && !c.cfg.sandbox {
		// A payment on a test channel is not money: only a client made
		// WithSandbox verifies it.
		return p, &VerificationError{Field: "sandbox", Want: "false", Got: "true"}
	}
	return p, nil
}

// checkPayment compares a fetched payment with the expectation.
func checkPayment(p *Payment, impUID string, want Expectation) error {
	mismatch := func(field, w, g string) error { return &VerificationError{Field: field, Want: w, Got: g} }
	switch {
	case p.ImpUID != impUID:
		return mismatch("imp_uid", impUID, p.ImpUID)
	case p.MerchantUID != want.MerchantUID:
		return mismatch("merchant_uid", want.MerchantUID, p.MerchantUID)
	case want.CustomerUID != "" && p.CustomerUID != want.CustomerUID:
		return mismatch("customer_uid", want.CustomerUID, p.CustomerUID)
	case !sameCurrency(p.Currency, want.Currency):
		return mismatch("currency", displayCurrency(want.Currency), displayCurrency(p.Currency))
	case p.Amount != want.Amount:
		return mismatch("amount", wire.FromMinor(want.Amount, want.Currency).String(), wire.FromMinor(p.Amount, p.Currency).String())
	case p.Status != PaymentPaid:
		return mismatch("status", string(PaymentPaid), string(p.Status))
	}
	return nil
}

func displayCurrency(c string) string {
	if c == "" {
		return "KRW"
	}
	return strings.ToUpper(c)
}

// VerifyBillingKey checks that Iamport holds a billing key for customerUID
// (GET /subscribe/customers/{customer_uid}) and returns it. Use it after a
// key-only payment window (amount 0), where there is no charge to verify:
// generate the customer_uid on the server for each registration, so that
// its existence proves that this window issued it. An unknown or deleted key
// satisfies errors.Is(err, ErrNotFound); a key answered for another
// customer_uid is a *VerificationError, and so is a key issued on a test
// channel (Sandbox) unless the client was made WithSandbox (Field
// "sandbox").
func (c *Client) VerifyBillingKey(ctx context.Context, customerUID string) (*BillingKey, error) {
	k, err := c.GetBillingKey(ctx, customerUID)
	if err != nil {
		return nil, err
	}
	if k.CustomerUID != customerUID {
		return k, &VerificationError{Field: "customer_uid", Want: customerUID, Got: k.CustomerUID}
	}
	if k.Sandbox && !c.cfg.sandbox {
		// A key issued on a test channel charges no money: only a client
		// made WithSandbox verifies it.
		return k, &VerificationError{Field: "sandbox", Want: "false", Got: "true"}
	}
	return k, nil
}

// RedirectResult is what the payment window reports on m_redirect_url (the
// mobile flow), or what a page's IMP.request_pay callback forwards to the
// server. It is the browser's word, not Iamport's: verify it with
// VerifyPayment or VerifyBillingKey before acting on it.
type RedirectResult struct {
	ImpUID      string // empty when the window failed before a payment was made
	MerchantUID string
	Success     bool
	ErrorCode   string // on failure, e.g. F1002
	ErrorMsg    string // on failure, e.g. 사용자가 결제를 취소하셨습니다
}

// maxRedirectText bounds error_code and error_msg (characters).
const maxRedirectText = 1000

// ParseRedirect reads the query Iamport appends to m_redirect_url:
// imp_uid, merchant_uid, imp_success (some PGs send success instead),
// error_code and error_msg. merchant_uid is always required, imp_uid when
// the flag says success. The flag must be true or false (any letter case);
// a missing flag, any other value, two values that differ, or imp_success
// and success that disagree are errors. Every error is a *ValidationError
// naming the parameter. The same function reads a form that a page posts
// from its request_pay callback with the same field names.
func ParseRedirect(q url.Values) (*RedirectResult, error) {
	get := func(k string) (string, error) {
		vs := q[k]
		for _, v := range vs[min(len(vs), 1):] {
			if v != vs[0] {
				return "", &ValidationError{Field: k, Reason: "given more than once with different values"}
			}
		}
		if len(vs) == 0 {
			return "", nil
		}
		return vs[0], nil
	}
	var r RedirectResult
	var err error
	if r.MerchantUID, err = get("merchant_uid"); err != nil {
		return nil, err
	}
	if err := checkUID("merchant_uid", r.MerchantUID, MaxMerchantUIDLen); err != nil {
		return nil, err
	}
	if r.ImpUID, err = get("imp_uid"); err != nil {
		return nil, err
	}
	var flag string
	var seen bool
	for _, k := range []string{"imp_success", "success"} {
		v, err := get(k)
		if err != nil {
			return nil, err
		}
		if _, present := q[k]; !present {
			continue
		}
		b, err := parseRedirectFlag(k, v)
		if err != nil {
			return nil, err
		}
		if seen && b != r.Success {
			return nil, &ValidationError{Field: k, Reason: "disagrees with " + flag}
		}
		r.Success, flag, seen = b, k, true
	}
	if !seen {
		return nil, &ValidationError{Field: "imp_success", Reason: "missing (neither imp_success nor success is given)"}
	}
	if r.Success || r.ImpUID != "" {
		if err := checkUID("imp_uid", r.ImpUID, 100); err != nil {
			return nil, err
		}
	}
	if r.ErrorCode, err = get("error_code"); err != nil {
		return nil, err
	}
	if r.ErrorMsg, err = get("error_msg"); err != nil {
		return nil, err
	}
	r.ErrorCode, r.ErrorMsg = redirectText(r.ErrorCode), redirectText(r.ErrorMsg)
	return &r, nil
}

func parseRedirectFlag(field, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &ValidationError{Field: field, Reason: "must be true or false"}
}

// redirectText makes browser-supplied text safe to log: valid UTF-8, no
// control characters, bounded length.
func redirectText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxRedirectText {
		s = string(r[:maxRedirectText])
	}
	return s
}
