package iamport

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// OnetimePaymentRequest is a key-in charge of card data
// (POST /subscribe/payments/onetime). With CustomerUID set, the card is also
// stored as that billing key. Amounts are in Currency's minor unit.
//
// It carries card data: its String, GoString, Format, LogValue and
// MarshalJSON methods mask them, so fmt (every verb), log/slog and
// encoding/json never print the card number (at most its first 6 and last 4
// digits), the expiry, birth, pwd_2digit or CVC. A request held by value in
// an unexported struct field is not covered (see redact.go): hold it by
// pointer there.
type OnetimePaymentRequest struct {
	MerchantUID string // required, ≤ 40 characters: the idempotency key of this charge
	Amount      int64  // required, > 0
	Name        string // product name, ≤ 40 characters
	Currency    string // ISO 4217, "" = KRW
	TaxFree     int64  // tax-free part of Amount
	VatAmount   *int64 // VAT; nil lets Iamport compute it

	CardNumber string // required: 13 to 19 digits, dashes allowed ("dddd-dddd-dddd-dddd")
	Expiry     string // required: "YYYY-MM"
	Birth      string // YYMMDD, or the 10-digit business registration number for a corporate card
	Pwd2Digit  string // the first two digits of the card's PIN
	CVC        string // 3 or 4 digits, where the PG asks for it

	CustomerUID string // ≤ 80 characters; when set the card is stored as this billing key
	PG          string // "provider" or "provider.MID"; "" = the console's default

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

	// ChannelKey picks the channel (the PortOne console's channel key) to
	// charge on, and, with CustomerUID, to issue the key on; ≤ 55 characters.
	ChannelKey string
	// Bypass is PG-specific parameters: a JSON object, sent as the JSON
	// string the API documents.
	Bypass json.RawMessage
	// Secure3DChargeID and Secure3DToken are what the PG (paymentwall) gave
	// after 3-D Secure authentication.
	Secure3DChargeID string
	Secure3DToken    string
}

// onetimeBody is the JSON of /subscribe/payments/onetime.
type onetimeBody struct {
	MerchantUID string `json:"merchant_uid"`
	CardNumber  string `json:"card_number"`
	Expiry      string `json:"expiry"`
	Birth       string `json:"birth,omitempty"`
	Pwd2Digit   string `json:"pwd_2digit,omitempty"`
	CVC         string `json:"cvc,omitempty"`
	CustomerUID string `json:"customer_uid,omitempty"`
	PG          string `json:"pg,omitempty"`
	ChannelKey  string `json:"channel_key,omitempty"`
	Secure3DID  string `json:"secure_3d_charge_id,omitempty"`
	Secure3DTok string `json:"secure_3d_token,omitempty"`
	chargeBody
}

func (r *OnetimePaymentRequest) validate() error {
	if err := checkUID("merchant_uid", r.MerchantUID, MaxMerchantUIDLen); err != nil {
		return err
	}
	if r.CustomerUID != "" {
		if err := checkUID("customer_uid", r.CustomerUID, MaxCustomerUIDLen); err != nil {
			return err
		}
	}
	if err := checkCharge(r.Amount, r.TaxFree, r.VatAmount, r.Currency); err != nil {
		return err
	}
	if err := checkCard(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC); err != nil {
		return err
	}
	if err := checkTexts(textField{name: "pg", v: r.PG, max: MaxPGLen}); err != nil {
		return err
	}
	if err := r.body().chargeBody.check(); err != nil {
		return err
	}
	if err := checkKey("channel_key", r.ChannelKey); err != nil {
		return err
	}
	if err := checkBypass(r.Bypass); err != nil {
		return err
	}
	if err := checkText("secure_3d_charge_id", r.Secure3DChargeID); err != nil {
		return err
	}
	if err := checkText("secure_3d_token", r.Secure3DToken); err != nil {
		return err
	}
	return checkPG(pgOpOnetime, r.PG, "", map[string]bool{
		"cvc": r.CVC != "", "name": r.Name != "", "buyer_name": r.BuyerName != "", "buyer_email": r.BuyerEmail != "",
		"buyer_tel": r.BuyerTel != "", "browser_ip": r.BrowserIP != "", "product_type": r.ProductType != "",
		"customer_uid": r.CustomerUID != "", "card_number": r.CardNumber != "",
	})
}

func (r *OnetimePaymentRequest) body() *onetimeBody {
	return &onetimeBody{
		MerchantUID: r.MerchantUID,
		CardNumber:  wireCardNumber(r.CardNumber), Expiry: r.Expiry, Birth: r.Birth, Pwd2Digit: r.Pwd2Digit, CVC: r.CVC,
		CustomerUID: r.CustomerUID, PG: r.PG, ChannelKey: r.ChannelKey, Secure3DID: r.Secure3DChargeID, Secure3DTok: r.Secure3DToken,
		chargeBody: chargeBody{
			Name:      r.Name,
			BuyerName: r.BuyerName, BuyerEmail: r.BuyerEmail, BuyerTel: r.BuyerTel, BuyerAddr: r.BuyerAddr, BuyerPostcode: r.BuyerPostcode,
			CardQuota: r.CardQuota, InterestFreeByMerchant: r.InterestFreeByMerchant, UseCardPoint: r.UseCardPoint,
			CustomData: r.CustomData, NoticeURL: r.NoticeURL, BrowserIP: r.BrowserIP, ProductType: r.ProductType, PromotionID: r.PromotionID,
			Bypass: bypassText(r.Bypass),
		}.money(r.Amount, r.TaxFree, r.VatAmount, r.Currency),
	}
}

// OnetimePayment charges card data without a stored billing key (a key-in
// charge, POST /subscribe/payments/onetime,
// https://api.iamport.kr/#!/subscribe/onetime). With req.CustomerUID set,
// Iamport also stores the card as that billing key, for AgainPayment and
// schedules.
//
// It follows the money contract of AgainPayment: the outcome is a paid
// *Payment, a *PaymentFailedError (declined), not charged (*APIError,
// *ValidationError, ErrNotCharged) or ErrOutcomeUnknown. It is never resent
// blindly: after a failure in transport or a 5xx the merchant_uid is looked
// up, and a payment found counts only when its amount, currency and (when
// set) customer_uid match req. Calling again with the same merchant_uid is
// always safe.
func (c *Client) OnetimePayment(ctx context.Context, req *OnetimePaymentRequest) (*Payment, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	r := *req
	return c.charge(ctx, OpCharge, &request{method: http.MethodPost, path: "/subscribe/payments/onetime", body: r.body(),
		secrets: append(cardSecrets(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC), r.Secure3DToken)},
		r.MerchantUID, func(p *Payment) bool {
			return p.CustomerUID == r.CustomerUID && p.Amount == r.Amount && sameCurrency(p.Currency, r.Currency)
		})
}

// RetrySchedule charges a scheduled payment now
// (POST /subscribe/payments/schedule/{merchant_uid}/retry,
// https://api.iamport.kr/#!/subscribe/retry): one whose execution failed,
// or one that was revoked.
//
// It follows the money contract of AgainPayment. As the call knows no
// customer or amount, any paid payment for the merchant_uid is its outcome
// (err == nil means the schedule's charge was made once, by this call or an
// earlier one), and a failed one is its decline unless it certainly started
// before the call (an earlier failed execution of the schedule is not). It
// is never resent blindly; calling again after any outcome is safe: Iamport
// refuses to retry a schedule whose charge is paid, and the call then
// returns that paid payment (the repeat rule of AgainPayment).
func (c *Client) RetrySchedule(ctx context.Context, merchantUID string) (*Payment, error) {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return nil, err
	}
	return c.charge(ctx, OpScheduleRetry, &request{method: http.MethodPost, path: "/subscribe/payments/schedule/" + pathEscape(merchantUID) + "/retry"},
		merchantUID, func(*Payment) bool { return true })
}

// cardSecrets are the values of card data that must not reach an error or
// a log line, even if a server echoes them.
func cardSecrets(number, expiry, birth, pwd2, cvc string) []string {
	out := []string{number, wireCardNumber(number), expiry, birth, pwd2, cvc}
	if d, ok := cardDigits(number); ok {
		out = append(out, d)
	}
	return out
}

// ---- card data: validation, wire form, masking ----

var (
	expiryRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
	birthRE  = regexp.MustCompile(`^([0-9]{6}|[0-9]{10})$`)
	pwd2RE   = regexp.MustCompile(`^[0-9]{2}$`)
	cvcRE    = regexp.MustCompile(`^[0-9]{3,4}$`)
)

// checkCard validates card data. Its errors never contain the data.
func checkCard(number, expiry, birth, pwd2, cvc string) error {
	if _, ok := cardDigits(number); !ok {
		return &ValidationError{Field: "card_number", Reason: "must be 13 to 19 digits (dashes and spaces allowed)"}
	}
	if !expiryRE.MatchString(expiry) {
		return &ValidationError{Field: "expiry", Reason: `must be "YYYY-MM"`}
	}
	if birth != "" && !birthRE.MatchString(birth) {
		return &ValidationError{Field: "birth", Reason: "must be 6 digits (YYMMDD) or a 10-digit business registration number"}
	}
	if pwd2 != "" && !pwd2RE.MatchString(pwd2) {
		return &ValidationError{Field: "pwd_2digit", Reason: "must be 2 digits"}
	}
	if cvc != "" && !cvcRE.MatchString(cvc) {
		return &ValidationError{Field: "cvc", Reason: "must be 3 or 4 digits"}
	}
	return nil
}

// cardDigits is the card number's digits, and whether it is a plausible
// card number: 13 to 19 digits, with dashes or spaces between them.
func cardDigits(number string) (string, bool) {
	var b strings.Builder
	for _, r := range number {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == ' ':
		default:
			return "", false
		}
	}
	d := b.String()
	return d, len(d) >= 13 && len(d) <= 19
}

// wireCardNumber is the card number as the API documents it: 16 digits as
// "dddd-dddd-dddd-dddd", other lengths as bare digits.
func wireCardNumber(number string) string {
	d, _ := cardDigits(number)
	if len(d) != 16 {
		return d
	}
	return d[0:4] + "-" + d[4:8] + "-" + d[8:12] + "-" + d[12:16]
}
