package iamport

import (
	"bytes"
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

	// ChannelKey picks the channel to charge, for a billing key issued on
	// several channels (a super billing key); ≤ 55 characters.
	ChannelKey string
	// PG names the billing key's PG ("provider" or "provider.MID"). It is
	// not sent: when set, the spec's per-PG requirements are checked before
	// sending (see pgrules.go), e.g. buyer_name for ksnet.
	PG string

	ProductCount    int             // number of products; 0 sends none (the API's default is 1)
	CashReceiptType string          // CashReceiptPerson, CashReceiptCompany, CashReceiptAnonymous or "" (tosspay_v2)
	Bypass          json.RawMessage // PG-specific parameters: a JSON object, sent as the JSON string the API documents
	NaverUseCfm     string          // Naver Pay recurring: the usage end date, YYYYMMDD (extra.naverUseCfm)
}

// The values of cash_receipt_type.
const (
	CashReceiptPerson    = "person"
	CashReceiptCompany   = "company"
	CashReceiptAnonymous = "anonymous" // tosspay_v2: no cash receipt
)

// againBody is the JSON of /subscribe/payments/again.
type againBody struct {
	CustomerUID string `json:"customer_uid"`
	MerchantUID string `json:"merchant_uid"`
	ChannelKey  string `json:"channel_key,omitempty"`
	chargeBody
}

// chargeExtra is the extra object of a charge.
type chargeExtra struct {
	NaverUseCfm string `json:"naverUseCfm,omitempty"`
}

// extraFields are the newer optional fields of again and of each scheduled
// charge.
type extraFields struct {
	ProductCount    int
	CashReceiptType string
	Bypass          json.RawMessage
	NaverUseCfm     string
}

func (x extraFields) validate() error {
	if x.ProductCount < 0 {
		return &ValidationError{Field: "product_count", Reason: "must not be negative (0 sends none)"}
	}
	switch x.CashReceiptType {
	case "", CashReceiptPerson, CashReceiptCompany, CashReceiptAnonymous:
	default:
		return &ValidationError{Field: "cash_receipt_type", Reason: "must be person, company, anonymous or empty"}
	}
	if err := checkBypass(x.Bypass); err != nil {
		return err
	}
	if x.NaverUseCfm != "" {
		if _, err := time.Parse("20060102", x.NaverUseCfm); err != nil || len(x.NaverUseCfm) != 8 {
			return &ValidationError{Field: "extra.naverUseCfm", Reason: "must be a date as YYYYMMDD"}
		}
	}
	return nil
}

// checkBypass validates a bypass object.
func checkBypass(b json.RawMessage) error {
	if len(b) == 0 {
		return nil
	}
	t := bytes.TrimSpace(b)
	if !json.Valid(t) || len(t) == 0 || t[0] != '{' {
		return &ValidationError{Field: "bypass", Reason: "must be a JSON object"}
	}
	return nil
}

// bypassText is the bypass object as the API takes it: a JSON string
// holding the object.
func bypassText(b json.RawMessage) string {
	if len(b) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

func (x extraFields) fill(b *chargeBody) {
	b.ProductCount, b.CashReceiptType, b.Bypass = x.ProductCount, x.CashReceiptType, bypassText(x.Bypass)
	if x.NaverUseCfm != "" {
		b.Extra = &chargeExtra{NaverUseCfm: x.NaverUseCfm}
	}
}

// checkKey validates an optional channel key or channel group id.
func checkKey(field, v string) error {
	if v == "" {
		return nil
	}
	if n := utf8.RuneCountInString(v); n > MaxChannelKeyLen {
		return &ValidationError{Field: field, Reason: "must be at most " + itoa(MaxChannelKeyLen) + " characters, is " + itoa(n)}
	}
	return checkText(field, v)
}

// checkText refuses text that is not valid UTF-8 or holds control
// characters.
func checkText(field, v string) error {
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return &ValidationError{Field: field, Reason: "must be valid UTF-8 without control characters"}
	}
	return nil
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
	ProductCount           int          `json:"product_count,omitempty"`
	CashReceiptType        string       `json:"cash_receipt_type,omitempty"`
	Bypass                 string       `json:"bypass,omitempty"`
	Extra                  *chargeExtra `json:"extra,omitempty"`
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
	if err := checkCharge(r.Amount, r.TaxFree, r.VatAmount, r.Currency); err != nil {
		return err
	}
	if err := r.body().chargeBody.check(); err != nil {
		return err
	}
	if err := checkKey("channel_key", r.ChannelKey); err != nil {
		return err
	}
	if err := r.extra().validate(); err != nil {
		return err
	}
	return checkPG(pgOpAgain, r.PG, "", map[string]bool{
		"name": r.Name != "", "currency": r.Currency != "", "buyer_name": r.BuyerName != "", "buyer_email": r.BuyerEmail != "",
		"buyer_tel": r.BuyerTel != "", "browser_ip": r.BrowserIP != "", "product_type": r.ProductType != "",
	})
}

func (r *AgainPaymentRequest) extra() extraFields {
	return extraFields{ProductCount: r.ProductCount, CashReceiptType: r.CashReceiptType, Bypass: r.Bypass, NaverUseCfm: r.NaverUseCfm}
}

func (r *AgainPaymentRequest) body() *againBody {
	b := &againBody{CustomerUID: r.CustomerUID, MerchantUID: r.MerchantUID, ChannelKey: r.ChannelKey, chargeBody: chargeBody{
		Name:      r.Name,
		BuyerName: r.BuyerName, BuyerEmail: r.BuyerEmail, BuyerTel: r.BuyerTel, BuyerAddr: r.BuyerAddr, BuyerPostcode: r.BuyerPostcode,
		CardQuota: r.CardQuota, InterestFreeByMerchant: r.InterestFreeByMerchant, UseCardPoint: r.UseCardPoint,
		CustomData: r.CustomData, NoticeURL: r.NoticeURL, BrowserIP: r.BrowserIP, ProductType: r.ProductType, PromotionID: r.PromotionID,
	}.money(r.Amount, r.TaxFree, r.VatAmount, r.Currency)}
	r.extra().fill(&b.chargeBody)
	return b
}

// AgainPayment charges the billing key of req.CustomerUID
// (POST /subscribe/payments/again,
// https://api.iamport.kr/#!/subscribe/again).
//
// Its outcome is exactly one of:
//
//  1. (*Payment, nil): err == nil means the charge for this merchant_uid was
//     made once, by this call or by an earlier identical one. Status is
//     PaymentPaid; it is PaymentCancelled when the merchant_uid was paid
//     earlier and has been refunded (in whole or in part) since: nothing was
//     taken now, and the payment says what happened.
//  2. *PaymentFailedError: the card company declined; nothing was taken.
//  3. not charged: *ValidationError (nothing sent) or *APIError (Iamport
//     refused the request and took nothing), or an error for which
//     errors.Is(err, ErrNotCharged) holds: the request was never written,
//     or its reply was lost and Iamport's own answer to the lookups was "no
//     such payment" from the settle window after the request was written
//     onward (see below).
//  4. an error for which errors.Is(err, ErrOutcomeUnknown) holds: the SDK
//     could not learn the truth. errors.As(err, &oe) with oe an
//     *OutcomeError gives the merchant_uid.
//
// The request is sent once: net/http cannot resend it (it has no GetBody),
// and no redirect is followed (a 3xx is an answer without evidence). Only a
// 401 (Iamport's "not processed") sends it once more, with a fresh token.
//
// When the reply is lost or is not Iamport's own answer (a timeout, a
// reset, a 5xx, a 3xx, a proxy's page, a body that does not decode), the
// SDK looks the merchant_uid up (GET /payments/find/{merchant_uid}) with
// backoff until the settle window after the write has passed
// (WithSettleWindow), and decides from Iamport's answers only:
//
//   - a payment is this call's only when its merchant_uid, customer_uid
//     (non-empty), amount and currency equal req's; paid → outcome 1;
//     failed → outcome 2, unless the lookup's payment certainly started
//     before this call (an earlier attempt's, judged on the server's clock
//     as bounded by the getToken round trip, with a 5 s margin; Iamport's
//     own answer to the request needs no clock: its decline is this call's);
//   - outcome 3 needs Iamport's own "no such payment" (its envelope: a
//     proxy's 404 page or a 5xx proves nothing) at least the settle window
//     after the write, no lookup ever having seen the payment "ready", and a
//     request that the client's own timeout did not cut (after a client
//     timeout Iamport may still be working on it: absence proves nothing);
//   - anything else is outcome 4, as is a ctx that ends first.
//
// A refusal is looked up once: a payment of this merchant_uid that is this
// call's and paid (or paid and refunded since) is returned as outcome 1 (the
// repeat rule); if the lookup gets no answer and the refusal says "already
// paid", the outcome is 4.
//
// The merchant_uid is the idempotency key: Iamport refuses a second payment
// for a paid merchant_uid. Calling again with the same request after any
// outcome is safe, so a re-run cron job never charges twice.
func (c *Client) AgainPayment(ctx context.Context, req *AgainPaymentRequest) (*Payment, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	r := *req
	return c.charge(ctx, OpCharge, &request{method: http.MethodPost, path: "/subscribe/payments/again", body: r.body()},
		r.MerchantUID, func(p *Payment) bool {
			return p.CustomerUID != "" && p.CustomerUID == r.CustomerUID && p.Amount == r.Amount && sameCurrency(p.Currency, r.Currency)
		})
}

// charge runs a charging POST through the money engine. ours says whether
// a payment with the charge's merchant_uid is this charge's (customer,
// amount, currency); the merchant_uid itself is always compared.
//
// A payment is this charge's outcome when it is ours and paid (or paid and
// cancelled since: the money moved, and charging again would be wrong), or
// ours and failed unless it certainly started before this call (an earlier
// attempt's). A failed payment that certainly started before this call and
// is the newest for the merchant_uid shows that this charge has made none.
//
// A refusal is looked up once: if the merchant_uid is already paid by a
// payment that is ours, that payment is the call's result (the repeat
// rule: a re-run is safe); if the lookup cannot answer and the refusal says
// "already paid", the outcome is unknown; otherwise the refusal stands.
func (c *Client) charge(ctx context.Context, op string, req *request, merchantUID string, ours func(*Payment) bool) (*Payment, error) {
	began := c.cfg.clock.now()
	w := &write{op: op, key: merchantUID, req: req}
	judge := func(p *Payment, lookup bool) verdict {
		if p.MerchantUID != merchantUID || !ours(p) {
			return notEvidence
		}
		switch p.Status {
		case PaymentPaid, PaymentCancelled:
			return applied
		case PaymentFailed:
			if lookup && c.certainlyBefore(p.StartedAt, began) {
				return absent // the newest payment is an earlier attempt's
			}
			return declined
		case PaymentReady:
			return inProgress
		}
		return notEvidence
	}
	w.judge = func(p *Payment) verdict { return judge(p, true) }
	// Iamport's own answer to this request is this request's payment:
	// its decline needs no clock.
	w.answered = func(p *Payment) verdict { return judge(p, false) }
	w.lookup = func(ctx context.Context) (*Payment, error) { return c.findForSettle(ctx, merchantUID, false) }
	w.refused = func(ctx context.Context, ae *APIError) (*Payment, error) {
		p, err := c.findForSettle(ctx, merchantUID, true)
		switch {
		case err == nil:
			switch w.judge(p) {
			case applied:
				return p, nil // already paid by an earlier identical charge
			case inProgress:
				return nil, w.unknown(errors.Join(ae, errors.New("a payment for this merchant_uid is still in progress at Iamport")))
			}
			return nil, ae
		case errors.Is(err, ErrNotFound):
			return nil, ae
		case ctx.Err() != nil:
			return nil, w.unknown(ctxError(ctx, errors.Join(ae, err)))
		case saysAlreadyPaid(ae):
			return nil, w.unknown(errors.Join(ae, err))
		}
		return nil, ae
	}
	return c.run(ctx, w)
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
	if v == "." || v == ".." {
		// In a path, a URL normaliser turns /payments/find/.. into another
		// endpoint: a lookup would then answer for something else.
		return &ValidationError{Field: field, Reason: `must not be "." or ".."`}
	}
	return nil
}

// checkCharge validates the money fields every charge shares.
func checkCharge(amount, taxFree int64, vat *int64, currency string) error {
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
