package iamport

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

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
	// RetainPromotion keeps a promotion applied to the payment even when
	// the balance left after this cancel breaks its policy (the API's
	// default is false); nil sends none.
	RetainPromotion *bool
}

type cancelExtra struct {
	Requester string `json:"requester"`
}

type cancelBody struct {
	ImpUID          string       `json:"imp_uid,omitempty"`
	MerchantUID     string       `json:"merchant_uid,omitempty"`
	Amount          *json.Number `json:"amount,omitempty"`
	TaxFree         *json.Number `json:"tax_free,omitempty"`
	VatAmount       *json.Number `json:"vat_amount,omitempty"`
	Checksum        *json.Number `json:"checksum,omitempty"`
	Reason          string       `json:"reason,omitempty"`
	RefundHolder    string       `json:"refund_holder,omitempty"`
	RefundBank      string       `json:"refund_bank,omitempty"`
	RefundAccount   string       `json:"refund_account,omitempty"`
	RefundTel       string       `json:"refund_tel,omitempty"`
	EnableWebhook   bool         `json:"enable_webhook,omitempty"`
	RetainPromotion *bool        `json:"retain_promotion,omitempty"`
	Extra           *cancelExtra `json:"extra,omitempty"`
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
	return checkTexts(
		textField{name: "reason", v: r.Reason, free: true},
		textField{name: "refund_holder", v: r.RefundHolder},
		textField{name: "refund_bank", v: r.RefundBank},
		textField{name: "refund_account", v: r.RefundAccount},
		textField{name: "refund_tel", v: r.RefundTel},
	)
}

func (r *CancelPaymentRequest) body() *cancelBody {
	b := &cancelBody{
		ImpUID: r.ImpUID, MerchantUID: r.MerchantUID,
		Amount: optAmount(r.Amount, r.Currency), TaxFree: optAmount(r.TaxFree, r.Currency),
		VatAmount: ptrAmount(r.VatAmount, r.Currency), Checksum: ptrAmount(r.Checksum, r.Currency),
		Reason: r.Reason, RefundHolder: r.RefundHolder, RefundBank: r.RefundBank, RefundAccount: r.RefundAccount, RefundTel: r.RefundTel,
		EnableWebhook: r.EnableWebhook, RetainPromotion: r.RetainPromotion,
	}
	if r.Requester != "" {
		b.Extra = &cancelExtra{Requester: r.Requester}
	}
	return b
}

// CancelPayment cancels a payment in full (req.Amount 0) or in part
// (POST /payments/cancel, https://api.iamport.kr/#!/payments/cancelPayment)
// and returns the payment as Iamport shows it afterwards. After a partial
// cancel the payment's status is "cancelled" with CancelAmount < Amount;
// Refundable gives what is left.
//
// The payment is fetched first (GetPayment by ImpUID, or FindPayment by
// MerchantUID): nothing is sent for a payment Iamport does not know
// (ErrNotFound) or of another currency. Then the cancel is sent once: the
// transport cannot resend it, and the SDK never does after no answer. When
// the answer is lost (a failure in transport after the request was written,
// a 5xx, a 3xx, a body that is not Iamport's envelope), the payment is
// fetched again until the settle window after the write has passed, and
// compared with what it was: a new cancel of this amount in its history (and
// its cancel_amount grown by it) is this cancel, returned as a success.
//
// Outcomes:
//   - (*Payment, nil): the cancel was applied.
//   - *APIError: Iamport refused it (nothing to cancel, a checksum that does
//     not match the balance, an amount above it). A refusal is never turned
//     into a success, even when an earlier cancel looks the same.
//   - an error for which errors.Is(err, ErrNotApplied) holds (an
//     *OutcomeError): the answer was lost, and the payment stayed unchanged
//     over the settle window; nothing was refunded.
//   - an error for which errors.Is(err, ErrOutcomeUnknown) holds: the SDK
//     could not learn whether the cancel happened.
//
// Resending after ErrOutcomeUnknown: with Checksum set to the balance seen
// before the first attempt, a resend cannot refund twice (if the first went
// through, the balance no longer matches and Iamport refuses the resend;
// then look at the payment's CancelHistory). Without Checksum, a resent
// partial cancel is a second refund if the first one went through: fetch
// the payment and compare before resending.
func (c *Client) CancelPayment(ctx context.Context, req *CancelPaymentRequest) (*Payment, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	r := *req
	if err := ctx.Err(); err != nil {
		return nil, err // nothing sent
	}
	before, err := c.cancelTarget(ctx, &r, true)
	if err != nil {
		return nil, err // nothing was sent
	}
	if !sameCurrency(before.Currency, r.Currency) {
		return nil, &ValidationError{Field: "currency", Reason: "must be the payment's currency"}
	}
	if pgProvider(before.PGProvider) == "naverpay" && strings.TrimSpace(r.Reason) == "" {
		// The spec's x-portone-per-pg: Naver Pay requires the reason.
		return nil, &ValidationError{Field: "reason", Reason: "required by PG naverpay"}
	}
	want := r.Amount
	if want == 0 {
		want = before.Refundable()
	}
	w := &write{op: OpCancel, key: before.MerchantUID, imp: before.ImpUID,
		req: &request{method: http.MethodPost, path: "/payments/cancel", body: r.body(), secrets: []string{r.RefundAccount}}}
	w.judge = func(p *Payment) verdict { return cancelVerdict(before, p, want) }
	w.lookup = func(ctx context.Context) (*Payment, error) { return c.cancelTarget(ctx, &r, false) }
	return c.run(ctx, w)
}

// cancelVerdict compares a look at the payment with the payment before the
// cancel: applied when its history holds a new cancel of want and its
// cancel_amount grew by want; absent when nothing changed.
func cancelVerdict(before, p *Payment, want int64) verdict {
	if p.ImpUID != before.ImpUID || !sameCurrency(p.Currency, before.Currency) {
		return notEvidence
	}
	fresh := newCancels(before, p)
	switch {
	case p.CancelAmount == before.CancelAmount && len(fresh) == 0:
		return absent
	case p.CancelAmount != before.CancelAmount+want:
		return notEvidence // changed, but not (only) by this cancel
	case len(p.CancelHistory) == 0 && len(before.CancelHistory) == 0:
		return applied // a payment shown without its history: cancel_amount is all there is
	}
	for _, h := range fresh {
		if h.Amount == want {
			return applied
		}
	}
	return notEvidence
}

// newCancels are the entries of p's cancel history that before did not have.
func newCancels(before, p *Payment) []PaymentCancel {
	old := make(map[PaymentCancel]int, len(before.CancelHistory))
	for _, h := range before.CancelHistory {
		old[h]++
	}
	var out []PaymentCancel
	for _, h := range p.CancelHistory {
		if old[h] > 0 {
			old[h]--
			continue
		}
		out = append(out, h)
	}
	return out
}

// cancelTarget fetches the payment a cancel is about: by imp_uid, else the
// newest by merchant_uid. retry says whether the lookup itself may be
// resent (the settle loop has its own backoff).
func (c *Client) cancelTarget(ctx context.Context, req *CancelPaymentRequest, retry bool) (*Payment, error) {
	if req.ImpUID != "" {
		return c.getPayment(ctx, &request{method: http.MethodGet, path: "/payments/" + pathEscape(req.ImpUID), query: settleQuery, retry: retry})
	}
	return c.findForSettle(ctx, req.MerchantUID, retry)
}

// ---- prepare: the amount the payment window must charge ----

type prepareBody struct {
	MerchantUID string      `json:"merchant_uid"`
	Amount      json.Number `json:"amount"`
	Currency    string      `json:"currency,omitempty"`
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
	_, err = confirmRefusal(err, func() (struct{}, bool) {
		got, gerr := c.GetPreparedPayment(ctx, merchantUID)
		return struct{}{}, gerr == nil && got == amount
	})
	return err
}

// PreparePaymentIn is PreparePayment in another currency: amount is in
// currency's minor unit (USD 1050 is $10.50), and the currency is
// registered too, so that Iamport also refuses a window payment in another
// currency. currency "" is PreparePayment (KRW, no currency sent).
func (c *Client) PreparePaymentIn(ctx context.Context, merchantUID string, amount int64, currency string) error {
	if err := checkPrepare(merchantUID, amount); err != nil {
		return err
	}
	if currency != "" && !currencyRE.MatchString(currency) {
		return &ValidationError{Field: "currency", Reason: "must be a 3-letter ISO 4217 code"}
	}
	cur := strings.ToUpper(currency)
	err := c.do(ctx, &request{method: http.MethodPost, path: "/payments/prepare", body: &prepareBody{MerchantUID: merchantUID, Amount: wire.FromMinor(amount, cur), Currency: cur}, retry: true}, nil)
	if isRefusal(err) {
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
