package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/billingkr/iamport-go/internal/retry"
	"github.com/billingkr/iamport-go/internal/wire"
)

// Limits of the API's identifiers.
const (
	MaxCustomerUIDLen = 80 // customer_uid, in characters
	MaxMerchantUIDLen = 40 // merchant_uid, in characters
	MaxNameLen        = 40 // name (the product name), in characters
)

// AgainPaymentRequest is a charge of a stored billing key
// (POST /subscribe/payments/again). Amounts are in Currency's minor unit.
type AgainPaymentRequest struct {
	CustomerUID string // required, ≤ 80 characters: the billing key to charge
	MerchantUID string // required, ≤ 40 characters: the idempotency key of this charge
	Amount      int64  // required, > 0
	Name        string // product name, ≤ 40 characters
	Currency    string // ISO 4217, "" = KRW
	TaxFree     int64  // tax-free part of Amount
	VatAmount   *int64 // VAT; nil lets Iamport compute it

	BuyerName     string
	BuyerEmail    string
	BuyerTel      string
	BuyerAddr     string
	BuyerPostcode string

	CardQuota              int   // instalment months; 0 = lump sum
	InterestFreeByMerchant *bool // interest-free instalments paid by the merchant
	UseCardPoint           *bool
	CustomData             string // stored with the payment (often JSON text)
	NoticeURL              string // webhook URL for this payment
	BrowserIP              string
	ProductType            string // "digital" or "real"
	PromotionID            string
}

// againBody is the JSON of /subscribe/payments/again.
type againBody struct {
	CustomerUID string `json:"customer_uid"`
	MerchantUID string `json:"merchant_uid"`
	chargeBody
}

// chargeBody is the JSON that every charge shares: again, onetime and each
// scheduled charge.
type chargeBody struct {
	Amount                 json.Number  `json:"amount"`
	Currency               string       `json:"currency,omitempty"`
	TaxFree                *json.Number `json:"tax_free,omitempty"`
	VatAmount              *json.Number `json:"vat_amount,omitempty"`
	Name                   string       `json:"name,omitempty"`
	BuyerName              string       `json:"buyer_name,omitempty"`
	BuyerEmail             string       `json:"buyer_email,omitempty"`
	BuyerTel               string       `json:"buyer_tel,omitempty"`
	BuyerAddr              string       `json:"buyer_addr,omitempty"`
	BuyerPostcode          string       `json:"buyer_postcode,omitempty"`
	CardQuota              int          `json:"card_quota,omitempty"`
	InterestFreeByMerchant *bool        `json:"interest_free_by_merchant,omitempty"`
	UseCardPoint           *bool        `json:"use_card_point,omitempty"`
	CustomData             string       `json:"custom_data,omitempty"`
	NoticeURL              string       `json:"notice_url,omitempty"`
	BrowserIP              string       `json:"browser_ip,omitempty"`
	ProductType            string       `json:"product_type,omitempty"`
	PromotionID            string       `json:"promotion_id,omitempty"`
}

// money fills the amounts, written exactly in currency's unit.
func (b chargeBody) money(amount, taxFree int64, vat *int64, currency string) chargeBody {
	b.Amount, b.Currency = wire.FromMinor(amount, currency), currency
	b.TaxFree, b.VatAmount = optAmount(taxFree, currency), ptrAmount(vat, currency)
	return b
}

func (r *AgainPaymentRequest) validate() error {
	if err := checkUID("customer_uid", r.CustomerUID, MaxCustomerUIDLen); err != nil {
		return err
	}
	if err := checkUID("merchant_uid", r.MerchantUID, MaxMerchantUIDLen); err != nil {
		return err
	}
	return checkCharge(r.Amount, r.TaxFree, r.VatAmount, r.Currency, r.Name, r.CardQuota)
}

func (r *AgainPaymentRequest) body() *againBody {
	return &againBody{CustomerUID: r.CustomerUID, MerchantUID: r.MerchantUID, chargeBody: chargeBody{
		Name:      r.Name,
		BuyerName: r.BuyerName, BuyerEmail: r.BuyerEmail, BuyerTel: r.BuyerTel, BuyerAddr: r.BuyerAddr, BuyerPostcode: r.BuyerPostcode,
		CardQuota: r.CardQuota, InterestFreeByMerchant: r.InterestFreeByMerchant, UseCardPoint: r.UseCardPoint,
		CustomData: r.CustomData, NoticeURL: r.NoticeURL, BrowserIP: r.BrowserIP, ProductType: r.ProductType, PromotionID: r.PromotionID,
	}.money(r.Amount, r.TaxFree, r.VatAmount, r.Currency)}
}

// AgainPayment charges the billing key of req.CustomerUID
// (POST /subscribe/payments/again,
// https://api.iamport.kr/#!/subscribe/again).
//
// Its outcome is exactly one of:
//
//  1. (*Payment, nil) with Status PaymentPaid: the money was taken, once.
//     (Status is PaymentCancelled only when the payment was already
//     cancelled, e.g. by an operator, before the SDK learned of it.)
//  2. *PaymentFailedError: the card company declined; nothing was taken.
//  3. not charged: *ValidationError or *APIError (refused before any
//     charge), or an error for which errors.Is(err, ErrNotCharged) holds: the
//     request failed in transport, and Iamport, asked for the merchant_uid
//     over the settle window (WithSettleWindow), has no payment for it.
//  4. an error for which errors.Is(err, ErrOutcomeUnknown) holds: the SDK
//     could not learn the truth (Iamport unreachable, the payment still
//     "ready", or ctx ended). errors.As(err, &*ChargeError) gives the
//     merchant_uid.
//
// After a timeout, a reset, an empty or broken reply or a 5xx, the SDK looks
// the merchant_uid up (GET /payments/find/{merchant_uid}) with backoff until
// it learns the outcome or the settle window ends. A payment found there
// counts only when its customer_uid and amount match req, and a failed one
// only when it started after this call. A failure known to come before the
// request was written (connection refused, no token) is outcome 3 at once.
//
// The merchant_uid is the idempotency key: Iamport refuses a second payment
// for a paid merchant_uid. Calling again with the same request after any
// outcome is safe; if that merchant_uid is already paid for the same
// customer_uid and amount, the call returns that payment (outcome 1), so a
// re-run cron job never charges twice.
func (c *Client) AgainPayment(ctx context.Context, req *AgainPaymentRequest) (*Payment, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	cur := req.Currency
	return c.charge(ctx, &charge{
		path:        "/subscribe/payments/again",
		body:        req.body(),
		merchantUID: req.MerchantUID,
		match: func(p *Payment) bool {
			// A payment that does not say its customer_uid is judged by
			// its amount and currency alone.
			return (p.CustomerUID == "" || p.CustomerUID == req.CustomerUID) && p.Amount == req.Amount && sameCurrency(p.Currency, cur)
		},
	})
}

// charge is one charging call and how to recognise its payment.
type charge struct {
	path        string
	body        any
	merchantUID string
	// match says whether a payment found by merchant_uid is this call's
	// (same customer and amount); nil accepts any.
	match func(*Payment) bool
	// repeat says whether a charged payment found after Iamport refused the
	// call is the earlier charge this call repeats; nil means match.
	repeat func(*Payment) bool
}

// charge runs the money contract around one charging POST.
func (c *Client) charge(ctx context.Context, ch *charge) (*Payment, error) {
	if err := ctx.Err(); err != nil {
		return nil, notCharged(ch.merchantUID, err)
	}
	began := c.cfg.now()
	var sent sendTrace
	var p Payment
	err := c.do(ctx, &request{method: http.MethodPost, path: ch.path, body: ch.body, sent: &sent}, &p)
	if err == nil {
		switch {
		case charged(&p):
			return &p, nil
		case p.Status == PaymentFailed:
			return nil, &PaymentFailedError{Payment: &p}
		}
		// "ready" (the PG has not answered) or a status we do not know.
		return c.reconcile(ctx, ch, began, errors.New("payment answered with status "+string(p.Status)))
	}
	if sent.neverSent(err) {
		// The request never reached Iamport: nothing can have been charged.
		return nil, notCharged(ch.merchantUID, err)
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode < 500 {
		if ae.StatusCode == http.StatusUnauthorized {
			return nil, err // a 401 was not processed
		}
		// Refused. If the refusal is "already paid" for this very charge,
		// the earlier payment is this call's answer (a re-run is safe). The
		// refusal alone cannot tell (its code is not documented), so only a
		// definite lookup makes it "not charged".
		q, ferr := c.FindPayment(ctx, ch.merchantUID)
		switch {
		case ferr == nil && charged(q) && ch.repeats(q):
			return q, nil
		case ferr == nil && ch.matches(q) && q.Status == PaymentReady:
			return nil, outcomeUnknown(ch.merchantUID, errors.Join(err, errors.New("a payment for this merchant_uid is still ready at Iamport")))
		case ferr != nil && !errors.Is(ferr, ErrNotFound):
			return nil, outcomeUnknown(ch.merchantUID, errors.Join(err, ferr))
		}
		return nil, err
	}
	return c.reconcile(ctx, ch, began, err)
}

// charged says whether p took the money: paid, or paid and cancelled
// (refunded in whole or in part) since. A charge whose payment was already
// cancelled when the SDK saw it is still outcome 1, with that status: the
// money moved, and charging again would be wrong.
func charged(p *Payment) bool { return p.Status == PaymentPaid || p.Status == PaymentCancelled }

func (ch *charge) matches(p *Payment) bool { return ch.match == nil || ch.match(p) }

func (ch *charge) repeats(p *Payment) bool {
	if ch.repeat != nil {
		return ch.repeat(p)
	}
	return ch.matches(p)
}

func notCharged(merchantUID string, err error) error {
	return &ChargeError{Outcome: ErrNotCharged, MerchantUID: merchantUID, Err: err}
}

func outcomeUnknown(merchantUID string, err error) error {
	return &ChargeError{Outcome: ErrOutcomeUnknown, MerchantUID: merchantUID, Err: err}
}

// Reconciliation timing: the first lookup is immediate, then waits double
// from reconcileMinWait up to reconcileMaxWait (equal jitter).
const (
	reconcileMinWait = 250 * time.Millisecond
	reconcileMaxWait = 2 * time.Second
	// startedSlack allows for whole-second started_at and the estimate of
	// the server's clock when telling an earlier failed attempt from this one.
	startedSlack = time.Second
)

// settle calls probe again and again, with backoff between the calls, until
// it reports done or the settle window has passed (the first call is at
// once). It returns ctx's error when ctx ends during a wait.
func (c *Client) settle(ctx context.Context, probe func() (done bool)) error {
	start := time.Now()
	var waited time.Duration // what the waits add up to, even when Sleep is a no-op
	for attempt := 1; ; attempt++ {
		if probe() {
			return nil
		}
		elapsed := max(time.Since(start), waited)
		if elapsed >= c.cfg.settleWindow {
			return nil
		}
		wait := min(retry.Backoff(attempt, reconcileMinWait, reconcileMaxWait, retry.Equal), c.cfg.settleWindow-elapsed)
		if err := c.cfg.retry.sleep(ctx, wait); err != nil {
			return err
		}
		waited += wait
	}
}

// serverSince is a local time as the server's clock read it (from the offset
// seen at the last getToken), less a slack for whole-second timestamps: a
// payment that started at or after it started after the local instant t.
func (c *Client) serverSince(t time.Time) time.Time {
	return t.Add(time.Duration(c.auth.serverOffset.Load())).Add(-startedSlack)
}

// reconcile learns the outcome of a charge whose request may have reached
// Iamport, by looking its merchant_uid up until the settle window ends.
// cause is what went wrong with the charge itself.
func (c *Client) reconcile(ctx context.Context, ch *charge, began time.Time, cause error) (*Payment, error) {
	if ctx.Err() != nil {
		return nil, outcomeUnknown(ch.merchantUID, ctxError(ctx, cause))
	}
	since := c.serverSince(began)
	var (
		found     *Payment
		final     error // the outcome, when a lookup settled it
		lookupErr error
		pending   bool // the last answer showed this charge still "ready"
		answered  bool // the last lookup got a definite answer
	)
	werr := c.settle(ctx, func() bool {
		p, err := c.findPayment(ctx, ch.merchantUID)
		switch {
		case err == nil:
			answered, pending, lookupErr = true, false, nil
			if !ch.matches(p) {
				return false // another charge's payment under this merchant_uid
			}
			switch {
			case charged(p):
				found = p
				return true
			case p.Status == PaymentFailed && !p.StartedAt.Before(since):
				final = &PaymentFailedError{Payment: p}
				return true
			case p.Status == PaymentReady:
				pending = true
			}
			// A failed payment that started before this call is an earlier
			// attempt's, not this one's.
		case errors.Is(err, ErrNotFound):
			answered, pending, lookupErr = true, false, nil
		case ctx.Err() != nil:
			final = outcomeUnknown(ch.merchantUID, ctxError(ctx, errors.Join(cause, err)))
			return true
		default:
			answered, lookupErr = false, err
		}
		return false
	})
	switch {
	case found != nil || final != nil:
		return found, final
	case werr != nil:
		return nil, outcomeUnknown(ch.merchantUID, ctxError(ctx, cause))
	}
	if answered && !pending {
		return nil, notCharged(ch.merchantUID, cause)
	}
	if pending {
		return nil, outcomeUnknown(ch.merchantUID, errors.Join(cause, errors.New("payment still ready at Iamport")))
	}
	return nil, outcomeUnknown(ch.merchantUID, errors.Join(cause, lookupErr))
}

func sameCurrency(a, b string) bool {
	norm := func(s string) string {
		if s == "" {
			return "KRW"
		}
		return strings.ToUpper(s)
	}
	return norm(a) == norm(b)
}

var currencyRE = regexp.MustCompile(`^[A-Za-z]{3}$`)

// checkUID validates a merchant- or customer-chosen identifier.
func checkUID(field, v string, maxLen int) error {
	if strings.TrimSpace(v) == "" {
		return &ValidationError{Field: field, Reason: "must not be empty"}
	}
	if n := utf8.RuneCountInString(v); n > maxLen {
		return &ValidationError{Field: field, Reason: "must be at most " + itoa(maxLen) + " characters, is " + itoa(n)}
	}
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return &ValidationError{Field: field, Reason: "must be valid UTF-8 without control characters"}
	}
	return nil
}

// checkCharge validates the money fields every charge shares.
func checkCharge(amount, taxFree int64, vat *int64, currency, name string, quota int) error {
	if amount <= 0 {
		return &ValidationError{Field: "amount", Reason: "must be greater than 0"}
	}
	if taxFree < 0 || taxFree > amount {
		return &ValidationError{Field: "tax_free", Reason: "must be between 0 and amount"}
	}
	if vat != nil && (*vat < 0 || *vat > amount) {
		return &ValidationError{Field: "vat_amount", Reason: "must be between 0 and amount"}
	}
	if currency != "" && !currencyRE.MatchString(currency) {
		return &ValidationError{Field: "currency", Reason: "must be a 3-letter ISO 4217 code"}
	}
	if utf8.RuneCountInString(name) > MaxNameLen {
		return &ValidationError{Field: "name", Reason: "must be at most " + itoa(MaxNameLen) + " characters"}
	}
	if quota < 0 {
		return &ValidationError{Field: "card_quota", Reason: "must not be negative"}
	}
	return nil
}

func optAmount(v int64, currency string) *json.Number {
	if v == 0 {
		return nil
	}
	n := wire.FromMinor(v, currency)
	return &n
}

func ptrAmount(v *int64, currency string) *json.Number {
	if v == nil {
		return nil
	}
	n := wire.FromMinor(*v, currency)
	return &n
}

func pathEscape(s string) string { return url.PathEscape(s) }

func itoa(n int) string { return strconv.Itoa(n) }
