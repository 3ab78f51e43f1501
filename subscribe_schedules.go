package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"time"

	"github.com/billingkr/iamport-go/internal/wire"
)

// ScheduleRequest schedules charges of one billing key
// (POST /subscribe/payments/schedule). With card data (CardNumber and
// Expiry) Iamport first issues the billing key CustomerUID from it, so a key
// is issued and scheduled in one call.
//
// With card data it has the masking methods of OnetimePaymentRequest: fmt
// (every verb), log/slog and encoding/json never print the card number (at
// most its first 6 and last 4 digits), the expiry, birth, pwd_2digit or
// CVC. A request held by value in an unexported struct field is not covered
// (see redact.go): hold it by pointer there.
type ScheduleRequest struct {
	CustomerUID string         // required, ≤ 80 characters: the billing key to charge
	Schedules   []ScheduleItem // required, at least one

	// CustomerID is the merchant's own id of the customer (customer_id;
	// tosspayments requires it).
	CustomerID string
	// ChannelKey picks the channel: the one to issue the key on (with card
	// data), or, for a super billing key, the channel whose key to charge;
	// ≤ 55 characters.
	ChannelKey string
	// PG names the billing key's PG ("provider" or "provider.MID"). It is
	// not sent: when set, the spec's per-PG requirements are checked before
	// sending (see pgrules.go), e.g. customer_id for tosspayments.
	PG string

	// Card data, to issue the key CustomerUID first. CardNumber and Expiry
	// go together.
	CardNumber string // 13 to 19 digits, dashes allowed ("dddd-dddd-dddd-dddd")
	Expiry     string // "YYYY-MM"
	Birth      string // YYMMDD, or the 10-digit business registration number
	Pwd2Digit  string // the first two digits of the card's PIN
	CVC        string // 3 or 4 digits, where the PG asks for it
	// CheckingAmount is a test charge (KRW) that checks the card before
	// scheduling; Iamport cancels it at once. 0 sends none (no test).
	CheckingAmount int64
}

// ScheduleItem is one scheduled charge. Amounts are in Currency's minor
// unit.
type ScheduleItem struct {
	MerchantUID string    // required, ≤ 40 characters, unique: the charge's idempotency key
	ScheduleAt  time.Time // required: when Iamport charges (sent in whole seconds)
	Amount      int64     // required, > 0
	Currency    string    // ISO 4217, "" = KRW (sent as "KRW": the API requires a currency)
	Name        string    // product name, ≤ 40 characters
	TaxFree     int64     // tax-free part of Amount
	VatAmount   *int64    // VAT; nil lets Iamport compute it
	NoticeURL   string    // webhook URL for the charge's result
	CustomData  string    // stored with the payment

	BuyerName     string
	BuyerEmail    string
	BuyerTel      string
	BuyerAddr     string
	BuyerPostcode string

	CardQuota              int   // instalment months; 0 = lump sum
	InterestFreeByMerchant *bool // interest-free instalments paid by the merchant
	UseCardPoint           *bool
	ProductType            string // "digital" or "real"
	BrowserIP              string
	PromotionID            string

	ProductCount    int             // number of products; 0 sends none (the API's default is 1)
	CashReceiptType string          // CashReceiptPerson, CashReceiptCompany, CashReceiptAnonymous or ""
	Bypass          json.RawMessage // PG-specific parameters: a JSON object, sent as the JSON string the API documents
	NaverUseCfm     string          // Naver Pay recurring: the usage end date, YYYYMMDD (extra.naverUseCfm)
}

func (it *ScheduleItem) extra() extraFields {
	return extraFields{ProductCount: it.ProductCount, CashReceiptType: it.CashReceiptType, Bypass: it.Bypass, NaverUseCfm: it.NaverUseCfm}
}

type scheduleBody struct {
	CustomerUID    string             `json:"customer_uid"`
	CustomerID     string             `json:"customer_id,omitempty"`
	ChannelKey     string             `json:"channel_key,omitempty"`
	CheckingAmount int64              `json:"checking_amount,omitempty"`
	CardNumber     string             `json:"card_number,omitempty"`
	Expiry         string             `json:"expiry,omitempty"`
	Birth          string             `json:"birth,omitempty"`
	Pwd2Digit      string             `json:"pwd_2digit,omitempty"`
	CVC            string             `json:"cvc,omitempty"`
	Schedules      []scheduleItemBody `json:"schedules"`
}

// hasCard says whether the request carries card data.
func (r *ScheduleRequest) hasCard() bool {
	return r.CardNumber != "" || r.Expiry != "" || r.Birth != "" || r.Pwd2Digit != "" || r.CVC != ""
}

type scheduleItemBody struct {
	MerchantUID string `json:"merchant_uid"`
	ScheduleAt  int64  `json:"schedule_at"`
	chargeBody
}

func (r *ScheduleRequest) validate() error {
	if err := checkUID("customer_uid", r.CustomerUID, MaxCustomerUIDLen); err != nil {
		return err
	}
	if len(r.Schedules) == 0 {
		return &ValidationError{Field: "schedules", Reason: "must not be empty"}
	}
	if err := checkText("customer_id", r.CustomerID); err != nil {
		return err
	}
	if err := checkKey("channel_key", r.ChannelKey); err != nil {
		return err
	}
	if r.hasCard() {
		if err := checkCard(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC); err != nil {
			return err
		}
	}
	if r.CheckingAmount < 0 {
		return &ValidationError{Field: "checking_amount", Reason: "must not be negative (0 sends none)"}
	}
	if err := checkPG(pgOpSchedule, r.PG, "", map[string]bool{
		"customer_id": r.CustomerID != "", "cvc": r.CVC != "",
		"card_number": r.CardNumber != "", "expiry": r.Expiry != "", "birth": r.Birth != "",
	}); err != nil {
		return err
	}
	seen := make(map[string]bool, len(r.Schedules))
	for i := range r.Schedules {
		it := &r.Schedules[i]
		err := checkUID("merchant_uid", it.MerchantUID, MaxMerchantUIDLen)
		if err == nil && seen[it.MerchantUID] {
			err = &ValidationError{Field: "merchant_uid", Reason: "must be unique in the request"}
		}
		if err == nil && it.ScheduleAt.IsZero() {
			err = &ValidationError{Field: "schedule_at", Reason: "must be set"}
		}
		if err == nil {
			err = checkCharge(it.Amount, it.TaxFree, it.VatAmount, it.Currency)
		}
		if err == nil {
			err = r.itemBody(it).chargeBody.check()
		}
		if err == nil {
			err = it.extra().validate()
		}
		if err == nil {
			err = checkPG(pgOpItem, r.PG, "", map[string]bool{
				"currency": it.Currency != "", "buyer_name": it.BuyerName != "", "buyer_email": it.BuyerEmail != "",
				"buyer_tel": it.BuyerTel != "", "product_type": it.ProductType != "",
			})
		}
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return &ValidationError{Field: fmt.Sprintf("schedules[%d].%s", i, ve.Field), Reason: ve.Reason}
			}
			return err
		}
		seen[it.MerchantUID] = true
	}
	return nil
}

func (r *ScheduleRequest) body() *scheduleBody {
	b := &scheduleBody{
		CustomerUID: r.CustomerUID, CustomerID: r.CustomerID, ChannelKey: r.ChannelKey, CheckingAmount: r.CheckingAmount,
		Expiry: r.Expiry, Birth: r.Birth, Pwd2Digit: r.Pwd2Digit, CVC: r.CVC,
		Schedules: make([]scheduleItemBody, 0, len(r.Schedules)),
	}
	if r.CardNumber != "" {
		b.CardNumber = wireCardNumber(r.CardNumber)
	}
	for i := range r.Schedules {
		b.Schedules = append(b.Schedules, r.itemBody(&r.Schedules[i]))
	}
	return b
}

// itemBody is the JSON of one scheduled charge.
func (r *ScheduleRequest) itemBody(it *ScheduleItem) scheduleItemBody {
	cur := it.Currency
	if cur == "" {
		cur = "KRW"
	}
	b := scheduleItemBody{
		MerchantUID: it.MerchantUID, ScheduleAt: wire.Seconds(it.ScheduleAt),
		chargeBody: chargeBody{
			Name:      it.Name,
			BuyerName: it.BuyerName, BuyerEmail: it.BuyerEmail, BuyerTel: it.BuyerTel, BuyerAddr: it.BuyerAddr, BuyerPostcode: it.BuyerPostcode,
			CardQuota: it.CardQuota, InterestFreeByMerchant: it.InterestFreeByMerchant, UseCardPoint: it.UseCardPoint,
			CustomData: it.CustomData, NoticeURL: it.NoticeURL, BrowserIP: it.BrowserIP, ProductType: it.ProductType, PromotionID: it.PromotionID,
		}.money(it.Amount, it.TaxFree, it.VatAmount, cur),
	}
	it.extra().fill(&b.chargeBody)
	return b
}

// matches says whether s is what item schedules for customerUID.
func (it *ScheduleItem) matches(customerUID string, s *Schedule) bool {
	return s.CustomerUID == customerUID && s.MerchantUID == it.MerchantUID &&
		wire.Seconds(s.ScheduleAt) == wire.Seconds(it.ScheduleAt) &&
		s.Amount == it.Amount && sameCurrency(s.Currency, it.Currency)
}

// SchedulePayments schedules charges of the billing key req.CustomerUID
// (POST /subscribe/payments/schedule,
// https://api.iamport.kr/#!/subscribe/schedule) and returns the schedules
// registered. The results of the charges arrive by webhook (and by
// GetSchedule).
//
// Each merchant_uid can be scheduled once, so the request is resent after
// a failure in transport or a 5xx: a resend cannot schedule a charge
// twice. A request with card data or a CheckingAmount is not resent (each
// attempt is a card authorisation at the PG, like IssueBillingKey). When Iamport refuses the request (say because a resend, or a
// re-run job, finds the merchant_uids already scheduled), the schedules are
// looked up: if every one of them is scheduled exactly as asked (same
// customer_uid, schedule_at, amount and currency), they are returned as this
// call's result; otherwise the refusal is returned as an *APIError.
func (c *Client) SchedulePayments(ctx context.Context, req *ScheduleRequest) ([]*Schedule, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	var list pageList[Schedule]
	err := c.do(ctx, &request{method: http.MethodPost, path: "/subscribe/payments/schedule", body: req.body(),
		retry: !req.hasCard() && req.CheckingAmount == 0, secrets: scheduleSecrets(req)}, &list)
	if err == nil {
		return nonNil(list.List), nil
	}
	return confirmRefusal(err, func() ([]*Schedule, bool) {
		got := make([]*Schedule, 0, len(req.Schedules))
		for i := range req.Schedules {
			it := &req.Schedules[i]
			s, gerr := c.GetSchedule(ctx, it.MerchantUID)
			if gerr != nil || s.ScheduleStatus != ScheduleScheduled || !it.matches(req.CustomerUID, s) {
				return nil, false
			}
			got = append(got, s)
		}
		return got, true
	})
}

func scheduleSecrets(r *ScheduleRequest) []string {
	if !r.hasCard() {
		return nil
	}
	return cardSecrets(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC)
}

func nonNil[T any](in []*T) []*T {
	out := make([]*T, 0, len(in))
	for _, v := range in {
		if v != nil {
			out = append(out, v)
		}
	}
	return out
}

// UnscheduleRequest revokes scheduled charges
// (POST /subscribe/payments/unschedule): those of MerchantUIDs, or, when
// MerchantUIDs is empty, every scheduled charge of CustomerUID. At least one
// of the two is required; when both are set both are sent, and Iamport
// revokes the MerchantUIDs that belong to CustomerUID.
type UnscheduleRequest struct {
	CustomerUID  string
	MerchantUIDs []string
}

type unscheduleBody struct {
	CustomerUID  string   `json:"customer_uid,omitempty"`
	MerchantUIDs []string `json:"merchant_uid,omitempty"`
}

// UnschedulePayments revokes scheduled charges that have not run yet
// (POST /subscribe/payments/unschedule,
// https://api.iamport.kr/#!/subscribe/unschedule) and returns the revoked
// schedules. Nothing to revoke is an *APIError (Iamport answers code 1) for
// which errors.Is(err, ErrNotFound) holds.
//
// A revocation is harmless to repeat, so the request is resent after a
// failure in transport or a 5xx. When req names MerchantUIDs and Iamport
// finds nothing to revoke (as a resend does when the first attempt went
// through), the schedules are looked up: if every one is revoked (for
// CustomerUID, when set), they are returned as this call's result.
func (c *Client) UnschedulePayments(ctx context.Context, req *UnscheduleRequest) ([]*Schedule, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	if req.CustomerUID == "" && len(req.MerchantUIDs) == 0 {
		return nil, &ValidationError{Field: "customer_uid", Reason: "customer_uid or merchant_uid must be set"}
	}
	if req.CustomerUID != "" {
		if err := checkUID("customer_uid", req.CustomerUID, MaxCustomerUIDLen); err != nil {
			return nil, err
		}
	}
	ids, err := distinctIDs("merchant_uid", req.MerchantUIDs, MaxMerchantUIDLen)
	if err != nil {
		return nil, err
	}
	var list pageList[Schedule]
	err = c.do(ctx, &request{method: http.MethodPost, path: "/subscribe/payments/unschedule", body: &unscheduleBody{CustomerUID: req.CustomerUID, MerchantUIDs: ids}, retry: true}, &list)
	if err == nil {
		return nonNil(list.List), nil
	}
	return confirmRefusal(err, func() ([]*Schedule, bool) {
		if len(ids) == 0 {
			return nil, false
		}
		got := make([]*Schedule, 0, len(ids))
		for _, m := range ids {
			s, gerr := c.GetSchedule(ctx, m)
			if gerr != nil || s.ScheduleStatus != ScheduleRevoked || (req.CustomerUID != "" && s.CustomerUID != req.CustomerUID) {
				return nil, false
			}
			got = append(got, s)
		}
		return got, true
	})
}

// GetSchedule returns the schedule of merchantUID
// (GET /subscribe/payments/schedule/{merchant_uid},
// https://api.iamport.kr/#!/subscribe/findScheduleByMerchantUid). An
// unknown one is an error for which errors.Is(err, ErrNotFound) holds. It
// is a read, resent under the client's RetryPolicy.
func (c *Client) GetSchedule(ctx context.Context, merchantUID string) (*Schedule, error) {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return nil, err
	}
	var s Schedule
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/subscribe/payments/schedule/" + pathEscape(merchantUID), retry: true}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

type scheduleAtBody struct {
	ScheduleAt int64 `json:"schedule_at"`
}

// UpdateSchedule moves a charge that is still scheduled to another time
// (PUT /subscribe/payments/schedule/{merchant_uid},
// https://api.iamport.kr/#!/subscribe/updateSchedule); at is sent in whole
// seconds and must be in the future. Setting a time is harmless to repeat,
// so the request is resent after a failure in transport or a 5xx.
func (c *Client) UpdateSchedule(ctx context.Context, merchantUID string, at time.Time) (*Schedule, error) {
	return c.setScheduleAt(ctx, http.MethodPut, merchantUID, "", at)
}

// RescheduleSchedule schedules again, at another time, a charge whose
// execution failed or that was revoked
// (POST /subscribe/payments/schedule/{merchant_uid}/reschedule,
// https://api.iamport.kr/#!/subscribe/reschedule); at is sent in whole
// seconds and must be in the future. The request is resent after a failure
// in transport or a 5xx; when Iamport then refuses it because the schedule
// is no longer a failed one, the schedule is looked up, and if it is
// scheduled at `at` it is returned as this call's result.
func (c *Client) RescheduleSchedule(ctx context.Context, merchantUID string, at time.Time) (*Schedule, error) {
	return c.setScheduleAt(ctx, http.MethodPost, merchantUID, "/reschedule", at)
}

func (c *Client) setScheduleAt(ctx context.Context, method, merchantUID, suffix string, at time.Time) (*Schedule, error) {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, &ValidationError{Field: "schedule_at", Reason: "must be set"}
	}
	if !at.After(c.cfg.clock.now()) {
		return nil, &ValidationError{Field: "schedule_at", Reason: "must be in the future"}
	}
	var s Schedule
	path := "/subscribe/payments/schedule/" + pathEscape(merchantUID) + suffix
	err := c.do(ctx, &request{method: method, path: path, body: &scheduleAtBody{ScheduleAt: wire.Seconds(at)}, retry: true}, &s)
	if err == nil {
		return &s, nil
	}
	return confirmRefusal(err, func() (*Schedule, bool) {
		if errors.Is(err, ErrNotFound) {
			return nil, false
		}
		got, gerr := c.GetSchedule(ctx, merchantUID)
		return got, gerr == nil && got.ScheduleStatus == ScheduleScheduled && wire.Seconds(got.ScheduleAt) == wire.Seconds(at)
	})
}

// ScheduleListOptions selects schedules for Schedules and CustomerSchedules.
type ScheduleListOptions struct {
	// From and To bound schedule_at: From ≤ schedule_at < To. Both are
	// required; any range is allowed (it is split into windows the API
	// accepts).
	From, To time.Time
	// Status is ScheduleScheduled, ScheduleExecuted, ScheduleRevoked, or ""
	// for all.
	Status string
	// Limit is the page size of Schedules, 1 to MaxListLimit (0: the API's
	// default of 20). CustomerSchedules has no page size.
	Limit int
	// Sorting orders Schedules: "" (the API's default: newest schedule_at
	// first) or ScheduleSortingOldest ("scheduled": oldest first, windows
	// oldest first too). CustomerSchedules has no order and refuses it.
	Sorting string
}

// ScheduleSortingOldest is the sorting of Schedules that yields the
// oldest schedule_at first (the API's "scheduled").
const ScheduleSortingOldest = "scheduled"

func (o *ScheduleListOptions) validate() error {
	if o.From.IsZero() {
		return &ValidationError{Field: "from", Reason: "must be set"}
	}
	if o.To.IsZero() {
		return &ValidationError{Field: "to", Reason: "must be set"}
	}
	if !o.To.After(o.From) {
		return &ValidationError{Field: "to", Reason: "must be after from"}
	}
	switch o.Status {
	case "", ScheduleScheduled, ScheduleExecuted, ScheduleRevoked:
	default:
		return &ValidationError{Field: "schedule_status", Reason: "must be scheduled, executed, revoked or empty for all"}
	}
	if o.Limit < 0 || o.Limit > MaxListLimit {
		return &ValidationError{Field: "limit", Reason: "must be between 1 and " + itoa(MaxListLimit) + " (0 for the API's default)"}
	}
	switch o.Sorting {
	case "", ScheduleSortingOldest:
	default:
		return &ValidationError{Field: "sorting", Reason: `must be "scheduled" (oldest first) or empty (newest first)`}
	}
	return nil
}

// windows splits the options' range into the windows of the list requests,
// in the order of the API's own order inside a window: newest first, or
// oldest first with ScheduleSortingOldest.
func (o *ScheduleListOptions) windows() []window {
	ws := ascendingHalfOpen(ceilUnix(o.From), ceilUnix(o.To))
	if o.Sorting != ScheduleSortingOldest {
		slices.Reverse(ws)
	}
	return ws
}

// scheduleListQuery is the query of GET /subscribe/payments/schedule.
type scheduleListQuery struct {
	From    int64  `url:"schedule_from"`
	To      int64  `url:"schedule_to"`
	Status  string `url:"schedule_status,omitempty"`
	Page    int    `url:"page"`
	Limit   int    `url:"limit,omitempty"`
	Sorting string `url:"sorting,omitempty"`
}

// customerScheduleQuery is the query of
// GET /subscribe/payments/schedule/customers/{customer_uid} (note the
// hyphen in schedule-status).
type customerScheduleQuery struct {
	From   int64  `url:"from"`
	To     int64  `url:"to"`
	Status string `url:"schedule-status,omitempty"`
	Page   int    `url:"page"`
}

func scheduleKey(s *Schedule) string { return s.MerchantUID }

// Schedules yields the schedules whose schedule_at is in [opts.From,
// opts.To) (GET /subscribe/payments/schedule,
// https://api.iamport.kr/#!/subscribe/getScheduleByDateRange), newest first.
// The range is split into windows of at most 89 days that do not overlap
// (the API's to is exclusive), and no schedule is yielded twice. Pages and
// windows are fetched as the loop asks for them; the first error is yielded
// once and ends the loop. Each page is a read, resent under the client's
// RetryPolicy.
func (c *Client) Schedules(ctx context.Context, opts *ScheduleListOptions) iter.Seq2[*Schedule, error] {
	if opts == nil {
		return errSeq[Schedule](&ValidationError{Field: "options", Reason: "must not be nil (From and To are required)"})
	}
	o := *opts
	if err := o.validate(); err != nil {
		return errSeq[Schedule](err)
	}
	return unique(chain(o.windows(), func(w window) iter.Seq2[*Schedule, error] {
		return paginate(ctx, func(ctx context.Context, page int) ([]*Schedule, int, error) {
			return listPage[Schedule](ctx, c, "/subscribe/payments/schedule", scheduleListQuery{From: w.from, To: w.to, Status: o.Status, Page: page, Limit: o.Limit, Sorting: o.Sorting})
		})
	}), scheduleKey)
}

// CustomerSchedules yields the schedules of the billing key customerUID
// whose schedule_at is in [opts.From, opts.To)
// (GET /subscribe/payments/schedule/customers/{customer_uid},
// https://api.iamport.kr/#!/subscribe/getScheduleByCustomer), newest first,
// split into windows like Schedules. opts.Limit is not used. Pages and
// windows are fetched as the loop asks for them; the first error is yielded
// once and ends the loop. Each page is a read, resent under the client's
// RetryPolicy.
func (c *Client) CustomerSchedules(ctx context.Context, customerUID string, opts *ScheduleListOptions) iter.Seq2[*Schedule, error] {
	if err := checkUID("customer_uid", customerUID, MaxCustomerUIDLen); err != nil {
		return errSeq[Schedule](err)
	}
	if opts == nil {
		return errSeq[Schedule](&ValidationError{Field: "options", Reason: "must not be nil (From and To are required)"})
	}
	o := *opts
	if err := o.validate(); err != nil {
		return errSeq[Schedule](err)
	}
	if o.Sorting != "" {
		return errSeq[Schedule](&ValidationError{Field: "sorting", Reason: "the customer's schedule list has no order parameter"})
	}
	path := "/subscribe/payments/schedule/customers/" + pathEscape(customerUID)
	return unique(chain(o.windows(), func(w window) iter.Seq2[*Schedule, error] {
		return paginate(ctx, func(ctx context.Context, page int) ([]*Schedule, int, error) {
			return listPage[Schedule](ctx, c, path, customerScheduleQuery{From: w.from, To: w.to, Status: o.Status, Page: page})
		})
	}), scheduleKey)
}
