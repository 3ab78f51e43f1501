package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/billingkr/iamport-go/internal/wire"
)

// CancelPaymentRequest cancels (refunds) a payment in full or in part
// (POST /payments/cancel). Amounts are in Currency's minor unit, which must
// be the payment's currency.
type CancelPaymentRequest struct {
	ImpUID      string // the payment to cancel; wins over MerchantUID when both are set
	MerchantUID string // used when ImpUID is empty
	Amount      int64  // what to cancel; 0 = all that is left (a full cancel)
	// Checksum is the refundable balance (Payment.Refundable) you believe is
	// current; Iamport refuses the cancel when it is not. Set it: it makes a
	// resend of the same request safe (see CancelPayment).
	Checksum  *int64
	TaxFree   int64  // tax-free part of Amount
	VatAmount *int64 // VAT part of Amount; nil lets Iamport compute it
	Currency  string // ISO 4217 code of the amounts' minor unit, "" = KRW
	Reason    string // shown to the customer by some PGs

	// Refund account, for virtual-account payments.
	RefundHolder  string
	RefundBank    string // bank code
	RefundAccount string
	RefundTel     string

	// EnableWebhook asks Iamport to send the webhook for this cancel (API
	// cancels send none otherwise).
	EnableWebhook bool
	// Requester is Naver Pay's extra.requester: RequesterAdmin (the API's
	// default) or RequesterCustomer; "" sends none.
	Requester string
}

type cancelExtra struct {
	Requester string `json:"requester"`
}

type cancelBody struct {
	ImpUID        string       `json:"imp_uid,omitempty"`
	MerchantUID   string       `json:"merchant_uid,omitempty"`
	Amount        *json.Number `json:"amount,omitempty"`
	TaxFree       *json.Number `json:"tax_free,omitempty"`
	VatAmount     *json.Number `json:"vat_amount,omitempty"`
	Checksum      *json.Number `json:"checksum,omitempty"`
	Reason        string       `json:"reason,omitempty"`
	RefundHolder  string       `json:"refund_holder,omitempty"`
	RefundBank    string       `json:"refund_bank,omitempty"`
	RefundAccount string       `json:"refund_account,omitempty"`
	RefundTel     string       `json:"refund_tel,omitempty"`
	EnableWebhook bool         `json:"enable_webhook,omitempty"`
	Extra         *cancelExtra `json:"extra,omitempty"`
}

func (r *CancelPaymentRequest) validate() error {
	switch {
	case r.ImpUID != "":
		if err := checkUID("imp_uid", r.ImpUID, maxImpUIDLen); err != nil {
			return err
		}
	case r.MerchantUID != "":
	default:
		return &ValidationError{Field: "imp_uid", Reason: "imp_uid or merchant_uid must be set"}
	}
	if r.MerchantUID != "" {
		if err := checkUID("merchant_uid", r.MerchantUID, MaxMerchantUIDLen); err != nil {
			return err
		}
	}
	if r.Amount < 0 {
		return &ValidationError{Field: "amount", Reason: "must not be negative (0 cancels all that is left)"}
	}
	if r.Checksum != nil {
		if *r.Checksum < 0 {
			return &ValidationError{Field: "checksum", Reason: "must not be negative"}
		}
		if r.Amount > *r.Checksum {
			return &ValidationError{Field: "amount", Reason: "must not exceed checksum (the refundable balance)"}
		}
	}
	if r.TaxFree < 0 || (r.Amount > 0 && r.TaxFree > r.Amount) {
		return &ValidationError{Field: "tax_free", Reason: "must be between 0 and amount"}
	}
	if r.VatAmount != nil && (*r.VatAmount < 0 || (r.Amount > 0 && *r.VatAmount > r.Amount)) {
		return &ValidationError{Field: "vat_amount", Reason: "must be between 0 and amount"}
	}
	if r.Currency != "" && !currencyRE.MatchString(r.Currency) {
		return &ValidationError{Field: "currency", Reason: "must be a 3-letter ISO 4217 code"}
	}
	switch r.Requester {
	case "", RequesterAdmin, RequesterCustomer:
	default:
		return &ValidationError{Field: "extra.requester", Reason: `must be "admin", "customer" or empty`}
	}
	return nil
}

func (r *CancelPaymentRequest) body() *cancelBody {
	b := &cancelBody{
		ImpUID: r.ImpUID, MerchantUID: r.MerchantUID,
		Amount: optAmount(r.Amount, r.Currency), TaxFree: optAmount(r.TaxFree, r.Currency),
		VatAmount: ptrAmount(r.VatAmount, r.Currency), Checksum: ptrAmount(r.Checksum, r.Currency),
		Reason: r.Reason, RefundHolder: r.RefundHolder, RefundBank: r.RefundBank, RefundAccount: r.RefundAccount, RefundTel: r.RefundTel,
		EnableWebhook: r.EnableWebhook,
	}
	if r.Requester != "" {
		b.Extra = &cancelExtra{Requester: r.Requester}
	}
	return b
}

// cancelExpect is what a cancel should turn the payment's cancel_amount
// into, from what is known of it before.
type cancelExpect struct {
	req *CancelPaymentRequest
	// before is cancel_amount before the cancel, when known: from the
	// checksum (amount − checksum) or from a lookup made before sending.
	before    int64
	hasBefore bool
}

type cancelVerdict int

const (
	cancelApplied   cancelVerdict = iota + 1 // the payment shows this cancel
	cancelUntouched                          // the payment shows no cancel since before
	cancelOther                              // the payment changed in another way, or cannot be compared
)

func (e *cancelExpect) before0(p *Payment) (int64, bool) {
	if e.hasBefore {
		return e.before, true
	}
	if e.req.Checksum != nil {
		return p.Amount - *e.req.Checksum, true
	}
	return 0, false
}

// verdict compares a fresh look at the payment with the expectation.
func (e *cancelExpect) verdict(p *Payment) cancelVerdict {
	if !sameCurrency(p.Currency, e.req.Currency) {
		return cancelOther
	}
	before, known := e.before0(p)
	if e.req.Amount == 0 { // full: everything is cancelled afterwards
		switch {
		case p.Amount > 0 && p.CancelAmount == p.Amount:
			return cancelApplied
		case !known || p.CancelAmount == before:
			return cancelUntouched
		}
		return cancelOther
	}
	if !known {
		return cancelOther
	}
	switch p.CancelAmount {
	case before + e.req.Amount:
		return cancelApplied
	case before:
		return cancelUntouched
	}
	return cancelOther
}

// CancelPayment cancels a payment in full (req.Amount 0) or in part
// (POST /payments/cancel, https://api.iamport.kr/#!/payments/cancelPayment)
// and returns the payment as Iamport shows it afterwards. After a partial
// cancel the payment's status is "cancelled" with CancelAmount < Amount;
// Refundable gives what is left.
//
// A cancel is never resent blindly. When the answer is lost (a failure in
// transport after the request was written, a 5xx, a 2xx that is not the
// envelope), the payment is fetched again (GetPayment by ImpUID, or
// FindPayment by MerchantUID) until the settle window ends, and its
// cancel_amount is compared with what this cancel makes of it: a cancel
// that happened is returned as a success, never as a failure. For a partial
// cancel without Checksum, CancelPayment looks the payment up once before
// sending, to know its cancel_amount beforehand.
//
// Errors: an error for which errors.Is(err, ErrOutcomeUnknown) holds (a
// *ChargeError) means the SDK could not learn whether the cancel happened.
// Any other error means it did not: *ValidationError, an *APIError refusal
// (nothing to cancel, a checksum that does not match, an amount above the
// balance), or the transport error itself when the payment, looked at over
// the settle window, was unchanged.
//
// Resending: with Checksum set, sending the same request again after any
// outcome is safe: if the first one went through, the balance no longer
// matches the checksum and Iamport refuses the second, and CancelPayment
// then recognises the payment as already cancelled as asked (its
// cancel_amount is what the checksum and Amount make of it, and its newest
// cancel is of Amount) and returns it as a success. Without Checksum a
// resent partial cancel is a second refund; resend only after an error that
// is not ErrOutcomeUnknown.
func (c *Client) CancelPayment(ctx context.Context, req *CancelPaymentRequest) (*Payment, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // nothing sent
	}
	exp := &cancelExpect{req: req}
	if req.Amount > 0 && req.Checksum == nil {
		p, err := c.cancelTarget(ctx, req, true)
		if err != nil {
			return nil, err // nothing was sent
		}
		if !sameCurrency(p.Currency, req.Currency) {
			return nil, &ValidationError{Field: "currency", Reason: "must be the payment's currency"}
		}
		exp.before, exp.hasBefore = p.CancelAmount, true
	}

	var sent sendTrace
	var p Payment
	err := c.do(ctx, &request{method: http.MethodPost, path: "/payments/cancel", body: req.body(), sent: &sent}, &p)
	if err == nil {
		return &p, nil
	}
	if sent.neverSent(err) {
		return nil, err // it never reached Iamport
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
		return nil, err // a 401 was not processed
	}
	if isRefusal(err) || (errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests) {
		// A definite no. With a checksum, a refusal can be the echo of an
		// earlier, successful send of this very cancel.
		if req.Checksum != nil {
			if q, qerr := c.cancelTarget(ctx, req, true); qerr == nil && exp.verdict(q) == cancelApplied && lastCancelIs(q, req) {
				return q, nil
			}
		}
		return nil, err
	}
	return c.reconcileCancel(ctx, req, exp, err)
}

// lastCancelIs says whether the newest cancel in p's history (any of them,
// when several share the newest second) is req's: its amount, and its reason
// when req gives one. An empty history proves nothing, so it is false: the
// refusal then stands.
func lastCancelIs(p *Payment, req *CancelPaymentRequest) bool {
	if len(p.CancelHistory) == 0 {
		return false
	}
	want := req.Amount
	if want == 0 {
		want = *req.Checksum // a full cancel cancels the balance the checksum names
	}
	var newest time.Time
	for _, h := range p.CancelHistory {
		if h.CancelledAt.After(newest) {
			newest = h.CancelledAt
		}
	}
	for _, h := range p.CancelHistory {
		if h.CancelledAt.Equal(newest) && h.Amount == want && (req.Reason == "" || h.Reason == req.Reason) {
			return true
		}
	}
	return false
}

// cancelTarget fetches the payment a cancel is about: by imp_uid, else the
// newest by merchant_uid. retry says whether the lookup itself may be
// resent (the reconciliation loop has its own backoff).
func (c *Client) cancelTarget(ctx context.Context, req *CancelPaymentRequest, retry bool) (*Payment, error) {
	path := "/payments/find/" + pathEscape(req.MerchantUID)
	if req.ImpUID != "" {
		path = "/payments/" + pathEscape(req.ImpUID)
	}
	var p Payment
	if err := c.do(ctx, &request{method: http.MethodGet, path: path, retry: retry}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// reconcileCancel learns whether a cancel whose answer was lost happened,
// by fetching the payment until the settle window ends.
func (c *Client) reconcileCancel(ctx context.Context, req *CancelPaymentRequest, exp *cancelExpect, cause error) (*Payment, error) {
	key := req.MerchantUID // learned from the payment when only imp_uid was given
	if ctx.Err() != nil {
		return nil, outcomeUnknown(key, ctxError(ctx, cause))
	}
	var (
		applied   *Payment
		final     error
		last      cancelVerdict
		lookupErr error
	)
	werr := c.settle(ctx, func() bool {
		p, err := c.cancelTarget(ctx, req, false)
		switch {
		case err == nil:
			lookupErr = nil
			if p.MerchantUID != "" {
				key = p.MerchantUID
			}
			if last = exp.verdict(p); last == cancelApplied {
				applied = p
				return true
			}
		case ctx.Err() != nil:
			final = outcomeUnknown(key, ctxError(ctx, errors.Join(cause, err)))
			return true
		default:
			last, lookupErr = 0, err
		}
		return false
	})
	switch {
	case applied != nil || final != nil:
		return applied, final
	case werr != nil:
		return nil, outcomeUnknown(key, ctxError(ctx, cause))
	}
	switch {
	case last == cancelUntouched && (req.Checksum != nil || req.Amount == 0):
		// Unchanged over the whole window; a resend is safe: the checksum,
		// or the nothing-left-to-cancel of a full cancel, makes Iamport
		// refuse it if this one is still applied.
		return nil, fmt.Errorf("iamport: cancel not applied (the payment is unchanged): %w", cause)
	case last == cancelUntouched:
		// A partial cancel without a checksum: a resend could refund twice
		// if the PG is still working on this one. Say so.
		return nil, outcomeUnknown(key, errors.Join(cause, errors.New("the payment is unchanged so far; without a checksum a resend could refund twice")))
	case last == cancelOther:
		return nil, outcomeUnknown(key, errors.Join(cause, errors.New("the payment's cancel_amount is neither what it was nor what this cancel makes of it")))
	}
	return nil, outcomeUnknown(key, errors.Join(cause, lookupErr))
}

// ---- prepare: the amount the payment window must charge ----

type prepareBody struct {
	MerchantUID string      `json:"merchant_uid"`
	Amount      json.Number `json:"amount"`
}

type preparedPayment struct {
	MerchantUID string      `json:"merchant_uid"`
	Amount      wire.Number `json:"amount"`
	Currency    string      `json:"currency"`
}

func checkPrepare(merchantUID string, amount int64) error {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return err
	}
	if amount <= 0 {
		return &ValidationError{Field: "amount", Reason: "must be greater than 0"}
	}
	return nil
}

// PreparePayment registers, in KRW, the amount the payment window must
// charge for merchantUID (POST /payments/prepare,
// https://api.iamport.kr/#!/payments/prepare): Iamport then refuses a
// window payment of another amount.
//
// Registering is harmless to repeat, so the request is resent after a
// failure in transport or a 5xx. When Iamport refuses it (a merchant_uid is
// registered once: a resend, or a second call, finds it registered), the
// registration is looked up, and if it holds the same amount the call
// succeeds; otherwise the refusal is returned (use UpdatePreparedPayment to
// change the amount).
func (c *Client) PreparePayment(ctx context.Context, merchantUID string, amount int64) error {
	if err := checkPrepare(merchantUID, amount); err != nil {
		return err
	}
	err := c.do(ctx, &request{method: http.MethodPost, path: "/payments/prepare", body: &prepareBody{MerchantUID: merchantUID, Amount: wire.FromMinor(amount, "KRW")}, retry: true}, nil)
	if err != nil && isRefusal(err) {
		if got, gerr := c.GetPreparedPayment(ctx, merchantUID); gerr == nil && got == amount {
			return nil
		}
	}
	return err
}

// GetPreparedPayment returns the amount registered for merchantUID by
// PreparePayment (GET /payments/prepare/{merchant_uid},
// https://api.iamport.kr/#!/payments/getPaymentPrepareByMerchantUid), in
// KRW (in the minor unit of the registered currency, when one other than KRW
// was registered). None is an error for which errors.Is(err, ErrNotFound)
// holds. It is a read, resent under the client's RetryPolicy.
func (c *Client) GetPreparedPayment(ctx context.Context, merchantUID string) (int64, error) {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return 0, err
	}
	var pp preparedPayment
	path := "/payments/prepare/" + pathEscape(merchantUID)
	if err := c.do(ctx, &request{method: http.MethodGet, path: path, retry: true}, &pp); err != nil {
		return 0, err
	}
	v, err := wire.ToMinor(pp.Amount, pp.Currency)
	if err != nil {
		return 0, &DecodeError{Method: http.MethodGet, Path: path, StatusCode: http.StatusOK, Err: fmt.Errorf("amount: %w", err)}
	}
	return v, nil
}

// UpdatePreparedPayment changes, in KRW, the amount registered for
// merchantUID (PUT /payments/prepare,
// https://api.iamport.kr/#!/payments/updatePaymentPrepare). Setting an
// amount is harmless to repeat, so the request is resent after a failure in
// transport or a 5xx. An unregistered merchant_uid is an error for which
// errors.Is(err, ErrNotFound) holds.
func (c *Client) UpdatePreparedPayment(ctx context.Context, merchantUID string, amount int64) error {
	if err := checkPrepare(merchantUID, amount); err != nil {
		return err
	}
	err := c.do(ctx, &request{method: http.MethodPut, path: "/payments/prepare", body: &prepareBody{MerchantUID: merchantUID, Amount: wire.FromMinor(amount, "KRW")}, retry: true}, nil)
	return err
}
