package iamport

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/billingkr/iamport-go/internal/wire"
)

// PaymentStatus is a payment's status.
type PaymentStatus string

// The payment statuses. Only PaymentPaid means money was taken.
const (
	PaymentReady     PaymentStatus = "ready"     // started, not (yet) approved
	PaymentPaid      PaymentStatus = "paid"      // approved: money taken
	PaymentCancelled PaymentStatus = "cancelled" // cancelled in full or in part (see CancelAmount)
	PaymentFailed    PaymentStatus = "failed"    // declined or failed: nothing taken
)

// Payment is the API's Payment object. Amounts are int64 in the minor unit
// of Currency (KRW: won; USD: cents); times are zero where the API has 0.
type Payment struct {
	ImpUID            string          `json:"imp_uid"`
	MerchantUID       string          `json:"merchant_uid"`
	PayMethod         string          `json:"pay_method"`
	Channel           string          `json:"channel"`
	PGProvider        string          `json:"pg_provider"`
	EmbPGProvider     string          `json:"emb_pg_provider"`
	PGTID             string          `json:"pg_tid"`
	PGID              string          `json:"pg_id"`
	Sandbox           bool            `json:"sandbox"`
	Escrow            bool            `json:"escrow"`
	ApplyNum          string          `json:"apply_num"`
	BankCode          string          `json:"bank_code"`
	BankName          string          `json:"bank_name"`
	CardCode          string          `json:"card_code"`
	CardName          string          `json:"card_name"`
	CardIssuerCode    string          `json:"card_issuer_code"`
	CardIssuerName    string          `json:"card_issuer_name"`
	CardPublisherCode string          `json:"card_publisher_code"`
	CardPublisherName string          `json:"card_publisher_name"`
	CardQuota         int             `json:"card_quota"`
	CardNumber        string          `json:"card_number"` // masked by Iamport
	CardType          *int            `json:"-"`           // card_type: 0 credit, 1 check; nil where the PG does not say (JTNet)
	VbankCode         string          `json:"vbank_code"`
	VbankName         string          `json:"vbank_name"`
	VbankNum          string          `json:"vbank_num"`
	VbankHolder       string          `json:"vbank_holder"`
	VbankDate         time.Time       `json:"-"` // vbank_date
	VbankIssuedAt     time.Time       `json:"-"` // vbank_issued_at
	Name              string          `json:"name"`
	Amount            int64           `json:"-"` // amount, in Currency's minor unit
	CancelAmount      int64           `json:"-"` // cancel_amount, in Currency's minor unit
	Currency          string          `json:"currency"`
	BuyerName         string          `json:"buyer_name"`
	BuyerEmail        string          `json:"buyer_email"`
	BuyerTel          string          `json:"buyer_tel"`
	BuyerAddr         string          `json:"buyer_addr"`
	BuyerPostcode     string          `json:"buyer_postcode"`
	CustomData        string          `json:"-"` // custom_data: its text when a string, else the JSON text of the value
	UserAgent         string          `json:"user_agent"`
	Status            PaymentStatus   `json:"status"`
	StartedAt         time.Time       `json:"-"` // started_at
	PaidAt            time.Time       `json:"-"` // paid_at
	FailedAt          time.Time       `json:"-"` // failed_at
	CancelledAt       time.Time       `json:"-"` // cancelled_at
	FailReason        string          `json:"fail_reason"`
	CancelReason      string          `json:"cancel_reason"`
	ReceiptURL        string          `json:"receipt_url"`
	CancelHistory     []PaymentCancel `json:"-"` // cancel_history
	DepositHistory    []VbankDeposit  `json:"-"` // deposit_history
	CancelReceiptURLs []string        `json:"cancel_receipt_urls"`
	CashReceiptIssued bool            `json:"cash_receipt_issued"`
	CustomerUID       string          `json:"customer_uid"`
	CustomerUIDUsage  string          `json:"customer_uid_usage"` // "", issue, payment, payment.scheduled
	Promotion         json.RawMessage `json:"promotion,omitempty"`
}

// PaymentCancel is one entry of a payment's cancel history.
type PaymentCancel struct {
	PGTID          string    `json:"pg_tid"`
	Amount         int64     `json:"-"` // amount, in the payment's minor unit
	CancelledAt    time.Time `json:"-"` // cancelled_at
	Reason         string    `json:"reason"`
	CancellationID string    `json:"cancellation_id"`
	ReceiptURL     string    `json:"receipt_url"`
}

// VbankDeposit is one deposit into a fixed virtual account.
type VbankDeposit struct {
	PGTID         string    `json:"pg_tid"`
	Amount        int64     `json:"-"` // amount, in the payment's minor unit
	DepositorName string    `json:"depositor_name"`
	DepositedAt   time.Time `json:"-"` // deposited_at
}

// IsPaid reports whether the payment is approved: money was taken and not
// cancelled.
func (p *Payment) IsPaid() bool { return p != nil && p.Status == PaymentPaid }

// Refundable is what can still be cancelled: Amount − CancelAmount. Pass it
// as CancelPaymentRequest.Checksum so that Iamport refuses a cancel computed
// from a stale balance (and a resend of a cancel that already happened).
func (p *Payment) Refundable() int64 { return p.Amount - p.CancelAmount }

type wireCancel struct {
	PaymentCancel
	Amount      wire.Number `json:"amount"`
	CancelledAt wire.Number `json:"cancelled_at"`
}

type wireDeposit struct {
	VbankDeposit
	Amount      wire.Number `json:"amount"`
	DepositedAt wire.Number `json:"deposited_at"`
}

type paymentAlias Payment

// paymentWireFields are the fields of the API's Payment whose wire form
// differs from Payment's: field-level codecs that take any JSON shape and
// are converted (and, for money, checked) afterwards.
type paymentWireFields struct {
	Amount         wire.Number   `json:"amount"`
	CancelAmount   wire.Number   `json:"cancel_amount"`
	VbankDate      wire.Number   `json:"vbank_date"`
	VbankIssuedAt  wire.Number   `json:"vbank_issued_at"`
	StartedAt      wire.Number   `json:"started_at"`
	PaidAt         wire.Number   `json:"paid_at"`
	FailedAt       wire.Number   `json:"failed_at"`
	CancelledAt    wire.Number   `json:"cancelled_at"`
	CustomData     wire.Text     `json:"custom_data"`
	CardType       wire.Number   `json:"card_type"`
	CancelHistory  []wireCancel  `json:"cancel_history"`
	DepositHistory []wireDeposit `json:"deposit_history"`
}

// paymentWire is the API's Payment as the SDK decodes it: encoding/json's
// plain struct path (no UnmarshalJSON of its own, so decoding it inside the
// envelope is one pass), then toPayment converts it.
type paymentWire struct {
	paymentAlias
	paymentWireFields
}

// toPayment converts w.
func (w *paymentWire) toPayment() (*Payment, error) {
	p := Payment(w.paymentAlias)
	if err := w.paymentWireFields.finish(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UnmarshalJSON decodes the API's Payment: amounts exactly into the
// currency's minor unit (a JSON number or a string holding one), UNIX
// seconds into time.Time. Unknown fields are ignored, and a field that
// carries no money and arrives in another shape is left zero; an amount
// that is not an exact amount of the currency is an error naming it.
func (p *Payment) UnmarshalJSON(b []byte) error {
	var w paymentWire
	if err := unmarshalTolerant(b, &w); err != nil {
		return fmt.Errorf("payment: %w", err)
	}
	q, err := w.toPayment()
	if err != nil {
		return fmt.Errorf("payment: %w", err)
	}
	*p = *q
	return nil
}

// unmarshalTolerant is json.Unmarshal that leaves a scalar field of the
// wrong JSON type zero instead of failing (encoding/json goes on decoding
// the rest, and reports the first such field): the API adds and reshapes
// fields, and one odd field must not lose a payment.
func unmarshalTolerant(b []byte, v any) error {
	err := json.Unmarshal(b, v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" && scalarField(te) {
		return checkShape(b, v)
	}
	return err
}

// shapeProber is a wire type with lists: shapeProbe is a value whose only
// type errors are those lists' shapes. encoding/json reports only the first
// type error, so a tolerated scalar field can hide a later list of the
// wrong shape; decoding b again into the probe finds it.
type shapeProber interface{ shapeProbe() any }

func (*paymentWire) shapeProbe() any {
	return &struct {
		CancelHistory     []map[string]json.RawMessage `json:"cancel_history"`
		DepositHistory    []map[string]json.RawMessage `json:"deposit_history"`
		CancelReceiptURLs []json.RawMessage            `json:"cancel_receipt_urls"`
	}{}
}

// checkShape decodes b into v's probe, if v has one.
func checkShape(b []byte, v any) error {
	if p, ok := v.(shapeProber); ok {
		return json.Unmarshal(b, p.shapeProbe())
	}
	return nil
}

// scalarField says whether a type error is about a scalar field (a string,
// a number, a bool): one that may be left zero. A list, an object or a map
// of the wrong shape is an error.
func scalarField(te *json.UnmarshalTypeError) bool {
	if te.Type == nil {
		return false
	}
	switch te.Type.Kind().String() {
	case "struct", "slice", "array", "map":
		return false
	}
	return true
}

// finish converts the wire fields into p, whose other fields are decoded.
func (w *paymentWireFields) finish(p *Payment) error {
	if string(p.Promotion) == "null" {
		p.Promotion = nil
	}
	p.CustomData = string(w.CustomData)
	p.CardType = nil
	if v, err := strconv.Atoi(string(w.CardType)); err == nil {
		p.CardType = &v
	}
	var err error
	if p.Amount, err = toMinor("amount", w.Amount, p.Currency); err != nil {
		return err
	}
	if p.CancelAmount, err = toMinor("cancel_amount", w.CancelAmount, p.Currency); err != nil {
		return err
	}
	p.VbankDate, p.VbankIssuedAt = toTime(w.VbankDate), toTime(w.VbankIssuedAt)
	p.StartedAt, p.PaidAt = toTime(w.StartedAt), toTime(w.PaidAt)
	p.FailedAt, p.CancelledAt = toTime(w.FailedAt), toTime(w.CancelledAt)
	p.CancelHistory = nil
	for i, c := range w.CancelHistory {
		pc := c.PaymentCancel
		if pc.Amount, err = toMinor(fmt.Sprintf("cancel_history[%d].amount", i), c.Amount, p.Currency); err != nil {
			return err
		}
		pc.CancelledAt = toTime(c.CancelledAt)
		p.CancelHistory = append(p.CancelHistory, pc)
	}
	p.DepositHistory = nil
	for i, d := range w.DepositHistory {
		vd := d.VbankDeposit
		if vd.Amount, err = toMinor(fmt.Sprintf("deposit_history[%d].amount", i), d.Amount, p.Currency); err != nil {
			return err
		}
		vd.DepositedAt = toTime(d.DepositedAt)
		p.DepositHistory = append(p.DepositHistory, vd)
	}
	return nil
}

// wirePaymentOut is Payment's JSON as MarshalJSON writes it.
type wirePaymentOut struct {
	*paymentAlias
	paymentWireFields
}

// MarshalJSON writes the API's wire form (amounts as decimal numbers in the
// currency's major unit, times as UNIX seconds), the inverse of UnmarshalJSON.
func (p Payment) MarshalJSON() ([]byte, error) {
	w := wirePaymentOut{paymentAlias: (*paymentAlias)(&p), paymentWireFields: paymentWireFields{
		Amount:        wire.Number(wire.FromMinor(p.Amount, p.Currency)),
		CancelAmount:  wire.Number(wire.FromMinor(p.CancelAmount, p.Currency)),
		VbankDate:     unixNumber(p.VbankDate),
		VbankIssuedAt: unixNumber(p.VbankIssuedAt),
		StartedAt:     unixNumber(p.StartedAt),
		PaidAt:        unixNumber(p.PaidAt),
		FailedAt:      unixNumber(p.FailedAt),
		CancelledAt:   unixNumber(p.CancelledAt),
		CustomData:    wire.Text(p.CustomData),
		CardType:      "null",
	}}
	if p.CardType != nil {
		w.paymentWireFields.CardType = wire.Number(strconv.Itoa(*p.CardType))
	}
	wf := &w.paymentWireFields
	wf.CancelHistory = []wireCancel{}
	for _, c := range p.CancelHistory {
		wf.CancelHistory = append(wf.CancelHistory, wireCancel{PaymentCancel: c, Amount: wire.Number(wire.FromMinor(c.Amount, p.Currency)), CancelledAt: unixNumber(c.CancelledAt)})
	}
	for _, d := range p.DepositHistory {
		wf.DepositHistory = append(wf.DepositHistory, wireDeposit{VbankDeposit: d, Amount: wire.Number(wire.FromMinor(d.Amount, p.Currency)), DepositedAt: unixNumber(d.DepositedAt)})
	}
	return json.Marshal(w)
}

// toTime reads UNIX seconds; a time in any other shape carries no money
// and is left zero.
func toTime(n wire.Number) time.Time {
	t, err := wire.ToTime(n)
	if err != nil {
		return time.Time{}
	}
	return t
}

func unixNumber(t time.Time) wire.Number { return wire.Number(strconv.FormatInt(wire.Seconds(t), 10)) }

func toMinor(field string, n wire.Number, currency string) (int64, error) {
	v, err := wire.ToMinor(n, currency)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// BillingKey is the API's customer object: a card registered under a
// customer_uid that AgainPayment and schedules charge.
type BillingKey struct {
	CustomerUID       string    `json:"customer_uid"`
	PGProvider        string    `json:"pg_provider"`
	PGID              string    `json:"pg_id"`
	Sandbox           bool      `json:"sandbox"`
	CustomerID        string    `json:"customer_id"`
	CardName          string    `json:"card_name"`
	CardCode          string    `json:"card_code"`
	CardIssuerCode    string    `json:"card_issuer_code"`
	CardIssuerName    string    `json:"card_issuer_name"`
	CardPublisherCode string    `json:"card_publisher_code"`
	CardPublisherName string    `json:"card_publisher_name"`
	CardNumber        string    `json:"card_number"` // masked by Iamport
	CardType          *int      `json:"-"`           // card_type: 0 credit, 1 check; nil where the PG does not say (JTNet)
	CustomerName      string    `json:"customer_name"`
	CustomerTel       string    `json:"customer_tel"`
	CustomerEmail     string    `json:"customer_email"`
	CustomerAddr      string    `json:"customer_addr"`
	CustomerPostcode  string    `json:"customer_postcode"`
	Inserted          time.Time `json:"-"` // inserted
	Updated           time.Time `json:"-"` // updated

	// A super billing key (IssueBillingKeyRequest.ChannelGroupID): the
	// smart-routing group, and the channels the key was issued on and
	// those that refused it.
	ChannelGroupID    string                     `json:"channelGroupId,omitempty"`
	SucceededChannels []BillingKeyChannel        `json:"succeededChannels,omitempty"`
	FailedChannels    []BillingKeyChannelFailure `json:"failedChannels,omitempty"`
}

// BillingKeyChannel is one channel a super billing key was issued on.
type BillingKeyChannel struct {
	PGProvider        string    `json:"pg_provider"`
	PGID              string    `json:"pg_id"`
	CardName          string    `json:"card_name"`
	CardCode          string    `json:"card_code"`
	CardIssuerCode    string    `json:"card_issuer_code"`
	CardIssuerName    string    `json:"card_issuer_name"`
	CardPublisherCode string    `json:"card_publisher_code"`
	CardPublisherName string    `json:"card_publisher_name"`
	CardNumber        string    `json:"card_number"` // masked by Iamport
	CardType          *int      `json:"card_type"`
	Inserted          time.Time `json:"-"` // inserted
	Updated           time.Time `json:"-"` // updated
}

type billingKeyChannelAlias BillingKeyChannel

type wireBillingKeyChannel struct {
	*billingKeyChannelAlias
	Inserted wire.Number `json:"inserted"`
	Updated  wire.Number `json:"updated"`
}

// UnmarshalJSON decodes the API's SucceededChannel object.
func (ch *BillingKeyChannel) UnmarshalJSON(b []byte) error {
	*ch = BillingKeyChannel{}
	w := wireBillingKeyChannel{billingKeyChannelAlias: (*billingKeyChannelAlias)(ch)}
	if err := unmarshalTolerant(b, &w); err != nil {
		return fmt.Errorf("billing key channel: %w", err)
	}
	ch.Inserted, ch.Updated = toTime(w.Inserted), toTime(w.Updated)
	return nil
}

// MarshalJSON writes the API's wire form.
func (ch BillingKeyChannel) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireBillingKeyChannel{billingKeyChannelAlias: (*billingKeyChannelAlias)(&ch), Inserted: unixNumber(ch.Inserted), Updated: unixNumber(ch.Updated)})
}

// BillingKeyChannelFailure is one channel that refused a super billing
// key.
type BillingKeyChannelFailure struct {
	Type       string `json:"type"` // INVALID_REQUEST, PG_PROVIDER or DB_FAILED
	Message    string `json:"message"`
	PGProvider string `json:"pg_provider"`
	PGID       string `json:"pg_id"`
}

type billingKeyAlias BillingKey

type wireBillingKey struct {
	*billingKeyAlias
	Inserted wire.Number `json:"inserted"`
	Updated  wire.Number `json:"updated"`
	CardType wire.Number `json:"card_type"`
}

// UnmarshalJSON decodes the API's customer object (and the super billing
// key object that issuing with a channel group answers).
func (k *BillingKey) UnmarshalJSON(b []byte) error {
	*k = BillingKey{}
	w := wireBillingKey{billingKeyAlias: (*billingKeyAlias)(k)}
	if err := unmarshalTolerant(b, &w); err != nil {
		return fmt.Errorf("billing key: %w", err)
	}
	k.Inserted, k.Updated = toTime(w.Inserted), toTime(w.Updated)
	k.CardType = cardType(w.CardType)
	return nil
}

// cardType reads card_type: a number or a numeric string; anything else
// (null, other shapes) is nil.
func cardType(n wire.Number) *int {
	if v, err := strconv.Atoi(string(n)); err == nil {
		return &v
	}
	return nil
}

func cardTypeNumber(t *int) wire.Number {
	if t == nil {
		return "null"
	}
	return wire.Number(strconv.Itoa(*t))
}

// MarshalJSON writes the API's wire form.
func (k BillingKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireBillingKey{billingKeyAlias: (*billingKeyAlias)(&k), Inserted: unixNumber(k.Inserted), Updated: unixNumber(k.Updated), CardType: cardTypeNumber(k.CardType)})
}

// The schedule statuses.
const (
	ScheduleScheduled = "scheduled" // waiting for schedule_at
	ScheduleExecuted  = "executed"  // charged (PaymentStatus says how it went)
	ScheduleRevoked   = "revoked"   // unscheduled before it ran
)

// Schedule is a charge scheduled at Iamport for a billing key.
type Schedule struct {
	CustomerUID    string        `json:"customer_uid"`
	MerchantUID    string        `json:"merchant_uid"`
	ImpUID         string        `json:"imp_uid"` // empty until executed
	PGProvider     string        `json:"pg_provider"`
	PGID           string        `json:"pg_id"`
	CustomerID     string        `json:"customer_id"`
	ScheduleAt     time.Time     `json:"-"` // schedule_at
	ExecutedAt     time.Time     `json:"-"` // executed_at
	RevokedAt      time.Time     `json:"-"` // revoked_at
	Amount         int64         `json:"-"` // amount, in Currency's minor unit
	Currency       string        `json:"currency"`
	Name           string        `json:"name"`
	BuyerName      string        `json:"buyer_name"`
	BuyerEmail     string        `json:"buyer_email"`
	BuyerTel       string        `json:"buyer_tel"`
	BuyerAddr      string        `json:"buyer_addr"`
	BuyerPostcode  string        `json:"buyer_postcode"`
	CustomData     string        `json:"-"`               // custom_data: its text when a string, else the JSON text of the value
	ScheduleStatus string        `json:"schedule_status"` // ScheduleScheduled, ScheduleExecuted or ScheduleRevoked
	PaymentStatus  PaymentStatus `json:"payment_status"`  // empty until executed
	FailReason     string        `json:"fail_reason"`
	PromotionID    string        `json:"promotion_id"`
}

type scheduleAlias Schedule

type wireSchedule struct {
	*scheduleAlias
	ScheduleAt wire.Number `json:"schedule_at"`
	ExecutedAt wire.Number `json:"executed_at"`
	RevokedAt  wire.Number `json:"revoked_at"`
	Amount     wire.Number `json:"amount"`
	CustomData wire.Text   `json:"custom_data"`
}

// UnmarshalJSON decodes the API's schedule object.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	*s = Schedule{}
	w := wireSchedule{scheduleAlias: (*scheduleAlias)(s)}
	if err := unmarshalTolerant(b, &w); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	var err error
	if s.Amount, err = toMinor("amount", w.Amount, s.Currency); err != nil {
		return err
	}
	s.ScheduleAt, s.ExecutedAt, s.RevokedAt = toTime(w.ScheduleAt), toTime(w.ExecutedAt), toTime(w.RevokedAt)
	s.CustomData = string(w.CustomData)
	return nil
}

// MarshalJSON writes the API's wire form.
func (s Schedule) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireSchedule{
		scheduleAlias: (*scheduleAlias)(&s),
		ScheduleAt:    unixNumber(s.ScheduleAt), ExecutedAt: unixNumber(s.ExecutedAt), RevokedAt: unixNumber(s.RevokedAt),
		Amount: wire.Number(wire.FromMinor(s.Amount, s.Currency)), CustomData: wire.Text(s.CustomData),
	})
}
