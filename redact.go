package iamport

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Card data in the caller-facing request types (OnetimePaymentRequest,
// IssueBillingKeyRequest, ScheduleRequest) never leaves them through a generic encoder: each
// type has value-receiver String, GoString, Format, LogValue and
// MarshalJSON methods that print the card number masked as Iamport masks it
// (at most its first 6 and last 4 digits, "409202******5678") and write
// "[redacted]" for the expiry, birth, pwd_2digit and CVC. Value receivers
// make the methods apply to values, pointers, and requests inside slices,
// maps and exported struct fields, so:
//
//   - encoding/json (and every logger that calls json.Marshal: slog's JSON
//     handler at any depth, zap's reflection encoder) writes the masked form;
//   - fmt, every verb, writes the masked form, also for requests inside
//     slices, maps and exported fields (fmt calls the element's methods);
//   - log/slog resolves LogValue for an attribute's value, and its text
//     handler prints deeper values with fmt (above).
//
// What is not covered, because fmt and reflection-based encoders read
// unexported struct fields without calling their methods: a request held
// by value in an unexported field of another struct (or in a slice or map
// held by an unexported field) is printed field by field by fmt's %v, %+v
// and %#v. Hold requests by pointer there (fmt prints a nested pointer as an
// address) or do not format the outer struct.
//
// The SDK's own wire encoding uses separate unexported body structs, so
// what is sent to Iamport is the real card data.

const redactedText = "[redacted]"

// maskCardNumber masks a card number as Iamport does in its answers: the
// first 6 and last 4 digits, the rest '*' ("409202******5678"). Anything
// that is not a plausible card number is redacted whole.
func maskCardNumber(number string) string {
	if number == "" {
		return ""
	}
	d, ok := cardDigits(number)
	if !ok {
		return redactedText
	}
	return d[:6] + strings.Repeat("*", len(d)-10) + d[len(d)-4:]
}

// redacted is "[redacted]" for a set value and "" for an empty one, so
// that a reader sees whether the field was given.
func redacted(s string) string {
	if s == "" {
		return ""
	}
	return redactedText
}

func writeCard(b *strings.Builder, number, expiry, birth, pwd2, cvc string) {
	fmt.Fprintf(b, ", CardNumber: %q, Expiry: %q, Birth: %q, Pwd2Digit: %q, CVC: %q",
		maskCardNumber(number), redacted(expiry), redacted(birth), redacted(pwd2), redacted(cvc))
}

func cardAttrs(number, expiry, birth, pwd2, cvc string) []slog.Attr {
	return []slog.Attr{
		slog.String("card_number", maskCardNumber(number)),
		slog.String("expiry", redacted(expiry)),
		slog.String("birth", redacted(birth)),
		slog.String("pwd_2digit", redacted(pwd2)),
		slog.String("cvc", redacted(cvc)),
	}
}

// maskedCard is the JSON of a request's card data, masked.
type maskedCard struct {
	CardNumber string `json:"card_number,omitempty"`
	Expiry     string `json:"expiry,omitempty"`
	Birth      string `json:"birth,omitempty"`
	Pwd2Digit  string `json:"pwd_2digit,omitempty"`
	CVC        string `json:"cvc,omitempty"`
}

func newMaskedCard(number, expiry, birth, pwd2, cvc string) maskedCard {
	return maskedCard{maskCardNumber(number), redacted(expiry), redacted(birth), redacted(pwd2), redacted(cvc)}
}

// ---- OnetimePaymentRequest ----

// String describes the request with its card data masked.
func (r OnetimePaymentRequest) String() string {
	var b strings.Builder
	b.WriteString("iamport.OnetimePaymentRequest{MerchantUID: ")
	b.WriteString(strconv.Quote(r.MerchantUID))
	fmt.Fprintf(&b, ", Amount: %d, Currency: %q, CustomerUID: %q, PG: %q, Name: %q", r.Amount, r.Currency, r.CustomerUID, r.PG, r.Name)
	writeCard(&b, r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC)
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v never shows card data.
func (r OnetimePaymentRequest) GoString() string { return r.String() }

// Format makes every fmt verb print String, card data masked.
func (r OnetimePaymentRequest) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// LogValue is what log/slog records: the charge's identifiers and amount,
// card data masked.
func (r OnetimePaymentRequest) LogValue() slog.Value {
	return slog.GroupValue(append([]slog.Attr{
		slog.String("merchant_uid", r.MerchantUID),
		slog.Int64("amount", r.Amount),
		slog.String("currency", r.Currency),
		slog.String("customer_uid", r.CustomerUID),
		slog.String("pg", r.PG),
	}, cardAttrs(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC)...)...)
}

// MarshalJSON writes the request for logs and debugging: the JSON that
// OnetimePayment sends (fields under their API names, amounts in the API's
// form), with the card data masked (card_number as "409202******5678", the
// expiry, birth, pwd_2digit, CVC and secure_3d_token as "[redacted]"). It
// cannot be decoded back into a request.
func (r OnetimePaymentRequest) MarshalJSON() ([]byte, error) {
	b := r.body()
	b.CardNumber = maskCardNumber(r.CardNumber)
	b.Expiry, b.Birth, b.Pwd2Digit, b.CVC = redacted(r.Expiry), redacted(r.Birth), redacted(r.Pwd2Digit), redacted(r.CVC)
	b.Secure3DTok = redacted(r.Secure3DToken)
	return json.Marshal(b)
}

// ---- IssueBillingKeyRequest ----

// String describes the request with its card data masked.
func (r IssueBillingKeyRequest) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iamport.IssueBillingKeyRequest{CustomerUID: %q, PG: %q, CustomerName: %q", r.CustomerUID, r.PG, r.CustomerName)
	writeCard(&b, r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC)
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v never shows card data.
func (r IssueBillingKeyRequest) GoString() string { return r.String() }

// Format makes every fmt verb print String, card data masked.
func (r IssueBillingKeyRequest) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// LogValue is what log/slog records: the customer_uid and PG, card data
// masked.
func (r IssueBillingKeyRequest) LogValue() slog.Value {
	return slog.GroupValue(append([]slog.Attr{
		slog.String("customer_uid", r.CustomerUID),
		slog.String("pg", r.PG),
	}, cardAttrs(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC)...)...)
}

// MarshalJSON writes the request for logs and debugging, card data masked
// (card_number as "409202******5678", the expiry, birth, pwd_2digit and CVC
// as "[redacted]"), the other fields under their API names. It is not what
// IssueBillingKey sends, and it cannot be decoded back into a request.
func (r IssueBillingKeyRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CustomerUID string `json:"customer_uid"`
		maskedCard
		PG               string `json:"pg,omitempty"`
		ChannelKey       string `json:"channel_key,omitempty"`
		ChannelGroupID   string `json:"channel_group_id,omitempty"`
		CustomerID       string `json:"customer_id,omitempty"`
		CustomerName     string `json:"customer_name,omitempty"`
		CustomerTel      string `json:"customer_tel,omitempty"`
		CustomerEmail    string `json:"customer_email,omitempty"`
		CustomerAddr     string `json:"customer_addr,omitempty"`
		CustomerPostcode string `json:"customer_postcode,omitempty"`
	}{
		CustomerUID: r.CustomerUID,
		maskedCard:  newMaskedCard(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC),
		PG:          r.PG, ChannelKey: r.ChannelKey, ChannelGroupID: r.ChannelGroupID, CustomerID: r.CustomerID,
		CustomerName: r.CustomerName, CustomerTel: r.CustomerTel, CustomerEmail: r.CustomerEmail,
		CustomerAddr: r.CustomerAddr, CustomerPostcode: r.CustomerPostcode,
	})
}

// ---- ScheduleRequest ----

// String describes the request with its card data masked.
func (r ScheduleRequest) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iamport.ScheduleRequest{CustomerUID: %q, CustomerID: %q, ChannelKey: %q, PG: %q, CheckingAmount: %d, Schedules: %d",
		r.CustomerUID, r.CustomerID, r.ChannelKey, r.PG, r.CheckingAmount, len(r.Schedules))
	writeCard(&b, r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC)
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v never shows card data.
func (r ScheduleRequest) GoString() string { return r.String() }

// Format makes every fmt verb print String, card data masked.
func (r ScheduleRequest) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// LogValue is what log/slog records: the customer_uid, the schedules'
// merchant_uids, card data masked.
func (r ScheduleRequest) LogValue() slog.Value {
	ids := make([]string, 0, len(r.Schedules))
	for _, it := range r.Schedules {
		ids = append(ids, it.MerchantUID)
	}
	return slog.GroupValue(append([]slog.Attr{
		slog.String("customer_uid", r.CustomerUID),
		slog.String("channel_key", r.ChannelKey),
		slog.Any("merchant_uids", ids),
	}, cardAttrs(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC)...)...)
}

// MarshalJSON writes the request for logs and debugging, card data masked
// (card_number as "409202******5678", the expiry, birth, pwd_2digit and CVC
// as "[redacted]"), schedule_at as UNIX seconds and amounts in the
// currency's minor unit. It is not what SchedulePayments sends, and it
// cannot be decoded back into a request.
func (r ScheduleRequest) MarshalJSON() ([]byte, error) {
	type item struct {
		MerchantUID string `json:"merchant_uid"`
		ScheduleAt  int64  `json:"schedule_at"`
		Amount      int64  `json:"amount"`
		Currency    string `json:"currency,omitempty"`
		Name        string `json:"name,omitempty"`
	}
	items := make([]item, 0, len(r.Schedules))
	for _, it := range r.Schedules {
		items = append(items, item{MerchantUID: it.MerchantUID, ScheduleAt: it.ScheduleAt.Unix(), Amount: it.Amount, Currency: it.Currency, Name: it.Name})
	}
	return json.Marshal(struct {
		CustomerUID    string `json:"customer_uid"`
		CustomerID     string `json:"customer_id,omitempty"`
		ChannelKey     string `json:"channel_key,omitempty"`
		PG             string `json:"pg,omitempty"`
		CheckingAmount int64  `json:"checking_amount,omitempty"`
		maskedCard
		Schedules []item `json:"schedules"`
	}{
		CustomerUID: r.CustomerUID, CustomerID: r.CustomerID, ChannelKey: r.ChannelKey, PG: r.PG, CheckingAmount: r.CheckingAmount,
		maskedCard: newMaskedCard(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC),
		Schedules:  items,
	})
}

// compile-time checks that the masking interfaces are implemented.
var (
	_ fmt.Stringer   = OnetimePaymentRequest{}
	_ fmt.GoStringer = OnetimePaymentRequest{}
	_ fmt.Formatter  = OnetimePaymentRequest{}
	_ slog.LogValuer = OnetimePaymentRequest{}
	_ json.Marshaler = OnetimePaymentRequest{}

	_ fmt.Stringer   = IssueBillingKeyRequest{}
	_ fmt.GoStringer = IssueBillingKeyRequest{}
	_ fmt.Formatter  = IssueBillingKeyRequest{}
	_ slog.LogValuer = IssueBillingKeyRequest{}
	_ json.Marshaler = IssueBillingKeyRequest{}

	_ fmt.Stringer   = ScheduleRequest{}
	_ fmt.GoStringer = ScheduleRequest{}
	_ fmt.Formatter  = ScheduleRequest{}
	_ slog.LogValuer = ScheduleRequest{}
	_ json.Marshaler = ScheduleRequest{}
)
