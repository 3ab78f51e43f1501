package iamporttest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

type buyer struct{ name, email, tel, addr, postcode string }

type cancelRec struct {
	pgTID, reason, id, receiptURL string
	amount                        int64
	at                            time.Time
}

type payment struct {
	seq                                      int64
	impUID, merchantUID, customerUID, usage  string
	channel, name, currency, status          string
	amount, cancelAmount, taxFree            int64
	startedAt, paidAt, failedAt, cancelledAt time.Time
	updatedAt                                time.Time
	failReason, cancelReason                 string
	pgTID, applyNum, receiptURL              string
	cardDigits, cardName, cardCode, cardNum  string
	cardQuota                                int
	buyer                                    buyer
	customData, noticeURL                    string
	cancels                                  []cancelRec
	channelKey, pgProvider, pgID             string
	sandbox                                  bool
}

type billingKey struct {
	customerUID                    string
	cardDigits, cardName, cardCode string
	cardNum                        string
	buyer                          buyer
	inserted, updated              time.Time
	deleted                        bool
	channelKey, pgProvider, pgID   string
	sandbox                        bool
	customerID, groupID            string
	superChannels                  []string        // a super billing key: the channels it was issued on
	failedChannels                 []failedChannel // … and those that refused it
}

type failedChannel struct{ typ, message, pgProvider, pgID string }

type schedule struct {
	seq                      int64
	customerUID, merchantUID string
	scheduleAt               int64
	executedAt, revokedAt    time.Time
	amount                   int64
	currency, name           string
	buyer                    buyer
	customData, noticeURL    string
	status                   string // scheduled | executed | revoked
	impUID, failReason       string
	paymentStatus            string // set when executed without a payment record
	customerID, channelKey   string
}

type prepared struct {
	amount   int64
	currency string
}

type state struct {
	closed                       bool
	token                        string
	tokenExp                     time.Time
	tokenCalls, expiredTokenReqs int
	requests                     map[string]int
	faults                       []*faultEntry
	faultFn                      func(route, merchantUID string) Fault

	seq        int64
	impBase    int64
	payments   []*payment
	byImp      map[string]*payment
	byMerchant map[string][]*payment
	keys       map[string]*billingKey
	schedules  map[string]*schedule
	prepared   map[string]prepared

	declineCustomer map[string]string
	declineCard     map[string]string
	rejectCard      map[string]string

	webhooks         []Webhook
	webhooksInFlight int

	channels          map[string]*Channel
	groups            map[string][]string
	received          map[string][]Received
	bareScheduleLists bool
}

func (st *state) init() {
	st.requests = map[string]int{}
	st.byImp = map[string]*payment{}
	st.byMerchant = map[string][]*payment{}
	st.keys = map[string]*billingKey{}
	st.schedules = map[string]*schedule{}
	st.prepared = map[string]prepared{}
	st.declineCustomer = map[string]string{}
	st.declineCard = map[string]string{}
	st.rejectCard = map[string]string{}
	st.impBase = 100_000_000_000 + randomInt(700_000_000_000)
	st.channels = defaultChannels()
	st.groups = map[string][]string{}
	st.received = map[string][]Received{}
}

func (st *state) nextSeq() int64 {
	st.seq++
	return st.seq
}

// ---- exported snapshots ----

// Payment is a snapshot of one payment record of the fake (its own type, not
// the SDK's). Amounts are in the currency's minor unit; times are the
// server's clock, zero when unset.
type Payment struct {
	ImpUID           string
	MerchantUID      string
	CustomerUID      string
	CustomerUIDUsage string // "", "issue", "payment" or "payment.scheduled"
	PayMethod        string
	Channel          string // "api" or "pc"
	PGProvider       string
	PGTID            string
	Name             string
	Amount           int64
	CancelAmount     int64
	Currency         string
	Status           string // ready | paid | failed | cancelled
	FailReason       string
	CancelReason     string
	CardName         string
	CardNumber       string // masked
	BuyerName        string
	BuyerEmail       string
	BuyerTel         string
	CustomData       string
	NoticeURL        string
	StartedAt        time.Time
	PaidAt           time.Time
	FailedAt         time.Time
	CancelledAt      time.Time
	Cancels          []Cancel
	ChannelKey       string // the channel it was made on
	Sandbox          bool   // made on a test channel
}

// Cancel is one entry of a payment's cancel history.
type Cancel struct {
	CancellationID string
	PGTID          string
	Amount         int64
	Reason         string
	CancelledAt    time.Time
}

// BillingKey is a snapshot of a billing key (the spec's "customer").
type BillingKey struct {
	CustomerUID   string
	PGProvider    string
	PGID          string
	CardName      string
	CardCode      string
	CardNumber    string // masked, like "4092-02**-****-5678"
	CustomerName  string
	CustomerTel   string
	CustomerEmail string
	Inserted      time.Time
	Updated       time.Time
	ChannelKey    string   // the channel it was issued on
	Sandbox       bool     // issued on a test channel
	CustomerID    string   // customer_id given at issuance
	GroupID       string   // channel_group_id of a super billing key
	Channels      []string // the channels a super billing key was issued on
}

// Schedule is a snapshot of a scheduled payment.
type Schedule struct {
	CustomerUID    string
	MerchantUID    string
	ImpUID         string // "" until executed
	ScheduleAt     time.Time
	ExecutedAt     time.Time
	RevokedAt      time.Time
	Amount         int64
	Currency       string
	Name           string
	NoticeURL      string
	ScheduleStatus string // scheduled | executed | revoked
	PaymentStatus  string // "" until executed, then paid | failed | cancelled
	FailReason     string
	CustomerID     string // customer_id given when it was scheduled
	ChannelKey     string // channel_key given when it was scheduled
}

// Webhook records one webhook delivery attempt by the fake.
type Webhook struct {
	URL            string
	ImpUID         string
	MerchantUID    string
	Status         string
	CancellationID string
	StatusCode     int    // the receiver's HTTP status, 0 when none
	Err            string // delivery error, or why it was not sent
}

func (p *payment) snapshot() Payment {
	out := Payment{
		ImpUID: p.impUID, MerchantUID: p.merchantUID, CustomerUID: p.customerUID,
		CustomerUIDUsage: p.usage, PayMethod: "card", Channel: p.channel, PGProvider: p.pgProvider,
		ChannelKey: p.channelKey, Sandbox: p.sandbox,
		PGTID: p.pgTID, Name: p.name, Amount: p.amount, CancelAmount: p.cancelAmount,
		Currency: p.currency, Status: p.status, FailReason: p.failReason, CancelReason: p.cancelReason,
		CardName: p.cardName, CardNumber: p.cardNum, BuyerName: p.buyer.name, BuyerEmail: p.buyer.email,
		BuyerTel: p.buyer.tel, CustomData: p.customData, NoticeURL: p.noticeURL,
		StartedAt: p.startedAt, PaidAt: p.paidAt, FailedAt: p.failedAt, CancelledAt: p.cancelledAt,
	}
	for _, c := range p.cancels {
		out.Cancels = append(out.Cancels, Cancel{CancellationID: c.id, PGTID: c.pgTID, Amount: c.amount, Reason: c.reason, CancelledAt: c.at})
	}
	return out
}

func (k *billingKey) snapshot() BillingKey {
	return BillingKey{
		CustomerUID: k.customerUID, PGProvider: k.pgProvider, PGID: k.pgID, CardName: k.cardName,
		CardCode: k.cardCode, CardNumber: k.cardNum, CustomerName: k.buyer.name,
		CustomerTel: k.buyer.tel, CustomerEmail: k.buyer.email, Inserted: k.inserted, Updated: k.updated,
		ChannelKey: k.channelKey, Sandbox: k.sandbox, CustomerID: k.customerID, GroupID: k.groupID,
		Channels: append([]string(nil), k.superChannels...),
	}
}

func (s *Server) scheduleSnapshot(sc *schedule) Schedule {
	out := Schedule{
		CustomerUID: sc.customerUID, MerchantUID: sc.merchantUID, ImpUID: sc.impUID,
		ScheduleAt: time.Unix(sc.scheduleAt, 0), ExecutedAt: sc.executedAt, RevokedAt: sc.revokedAt,
		Amount: sc.amount, Currency: sc.currency, Name: sc.name, NoticeURL: sc.noticeURL,
		ScheduleStatus: sc.status, FailReason: sc.failReason, CustomerID: sc.customerID, ChannelKey: sc.channelKey,
	}
	if ps := s.schedulePaymentStatus(sc); ps != nil {
		out.PaymentStatus = *ps
	}
	return out
}

// Payments returns a snapshot of every payment record, oldest first.
func (s *Server) Payments() []Payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Payment, 0, len(s.st.payments))
	for _, p := range s.st.payments {
		out = append(out, p.snapshot())
	}
	return out
}

// PaymentsByMerchantUID returns the payment records with merchant_uid m,
// oldest first.
func (s *Server) PaymentsByMerchantUID(m string) []Payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Payment
	for _, p := range s.st.byMerchant[m] {
		out = append(out, p.snapshot())
	}
	return out
}

// Payment returns the payment record with imp_uid impUID.
func (s *Server) Payment(impUID string) (Payment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.st.byImp[impUID]; p != nil {
		return p.snapshot(), true
	}
	return Payment{}, false
}

// Charges returns how many payments with this merchant_uid reached "paid"
// (the ledger of money taken; a payment cancelled later still counts). In
// correct operation it never exceeds 1.
func (s *Server) Charges(merchantUID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.st.byMerchant[merchantUID] {
		if !p.paidAt.IsZero() {
			n++
		}
	}
	return n
}

// ChargeAttempts returns how many payment records were created with this
// merchant_uid (any status).
func (s *Server) ChargeAttempts(merchantUID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.byMerchant[merchantUID])
}

// BillingKey returns the billing key of customerUID; false when it was never
// issued or has been deleted.
func (s *Server) BillingKey(customerUID string) (BillingKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.st.keys[customerUID]
	if k == nil || k.deleted {
		return BillingKey{}, false
	}
	return k.snapshot(), true
}

// Schedules returns a snapshot of every scheduled payment, in the order they
// were created.
func (s *Server) Schedules() []Schedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.sortedSchedulesLocked()
	out := make([]Schedule, 0, len(list))
	for _, sc := range list {
		out = append(out, s.scheduleSnapshot(sc))
	}
	return out
}

func (s *Server) sortedSchedulesLocked() []*schedule {
	list := make([]*schedule, 0, len(s.st.schedules))
	for _, sc := range s.st.schedules {
		list = append(list, sc)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	return list
}

// Webhooks returns the webhook deliveries attempted so far, in order.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Webhook(nil), s.st.webhooks...)
}

// WaitWebhooks blocks until no webhook delivery is in flight.
func (s *Server) WaitWebhooks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.st.webhooksInFlight > 0 {
		s.whCnd.Wait()
	}
}

// ---- cards ----

// cardDigits returns the digits of a card number, or "" when it is not 14 to
// 16 digits (with or without dashes).
func cardDigits(n string) string {
	d := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r == '-' || r == ' ':
			return -1
		}
		return 'x'
	}, n)
	if strings.ContainsRune(d, 'x') || len(d) < 14 || len(d) > 16 {
		return ""
	}
	return d
}

// maskCard masks all but the first 6 and last 4 digits: "4092-02**-****-5678".
func maskCard(d string) string {
	b := []byte(d)
	for i := 6; i < len(b)-4; i++ {
		b[i] = '*'
	}
	if len(b) != 16 {
		return string(b)
	}
	return fmt.Sprintf("%s-%s-%s-%s", b[0:4], b[4:8], b[8:12], b[12:16])
}

// cardIssuer guesses a Korean card company from the first digit.
func cardIssuer(d string) (name, code string) {
	switch d[0] {
	case '3':
		return "현대카드", "367"
	case '4':
		return "신한카드", "366"
	case '5':
		return "삼성카드", "365"
	case '6':
		return "롯데카드", "368"
	case '9':
		return "BC카드", "361"
	default:
		return "KB국민카드", "381"
	}
}

var errRejected = errors.New("card rejected")

// issueKeyLocked stores (or re-maps) a billing key for customerUID.
func (s *Server) issueKeyLocked(customerUID, digits string, b buyer) *billingKey {
	return s.issueKeyOnLocked(customerUID, digits, b, s.st.channels[DefaultChannelKey])
}

// issueKeyOnLocked stores (or re-maps) a billing key for customerUID on
// channel ch (a key re-issued on another channel moves there).
func (s *Server) issueKeyOnLocked(customerUID, digits string, b buyer, ch *Channel) *billingKey {
	now := s.now()
	name, code := cardIssuer(digits)
	k := s.st.keys[customerUID]
	if k == nil || k.deleted {
		k = &billingKey{customerUID: customerUID, inserted: now}
		s.st.keys[customerUID] = k
	}
	k.cardDigits, k.cardName, k.cardCode, k.cardNum = digits, name, code, maskCard(digits)
	k.buyer = b
	k.updated = now
	k.channelKey, k.pgProvider, k.pgID, k.sandbox = ch.Key, ch.PGProvider, ch.PGID, ch.Sandbox
	k.groupID, k.superChannels, k.failedChannels = "", nil, nil
	return k
}

// activeKeyLocked returns the usable billing key of customerUID, or nil.
func (s *Server) activeKeyLocked(customerUID string) *billingKey {
	k := s.st.keys[customerUID]
	if k == nil || k.deleted {
		return nil
	}
	return k
}

// RegisterBillingKey stores a billing key for customerUID as if the payment
// window had issued it (pg_provider "jtnet", card_type null, masked card
// number, card name from the first digit, e.g. "신한카드" for 4…). Reusing a
// customer_uid maps it to the new card. It fails for a malformed card number
// or a card refused with [Server.RejectCard].
func (s *Server) RegisterBillingKey(customerUID, cardNumber string) error {
	if customerUID == "" || utf8.RuneCountInString(customerUID) > maxCustomerUIDLen {
		return fmt.Errorf("iamporttest: invalid customer_uid %q", customerUID)
	}
	d := cardDigits(cardNumber)
	if d == "" {
		return fmt.Errorf("iamporttest: invalid card number")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg, ok := s.st.rejectCard[d]; ok {
		return fmt.Errorf("iamporttest: %w: %s", errRejected, msg)
	}
	s.issueKeyLocked(customerUID, d, buyer{})
	return nil
}

// DeclineCustomer makes every charge on customerUID's key decline: HTTP 200,
// code 0, status "failed", fail_reason = reason. An empty reason undoes it.
func (s *Server) DeclineCustomer(customerUID, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reason == "" {
		delete(s.st.declineCustomer, customerUID)
		return
	}
	s.st.declineCustomer[customerUID] = reason
}

// DeclineCard makes charges with this card number (key-in, or a key issued
// from it) decline with reason. An empty reason undoes it.
func (s *Server) DeclineCard(cardNumber, reason string) {
	d := cardDigits(cardNumber)
	s.mu.Lock()
	defer s.mu.Unlock()
	if reason == "" {
		delete(s.st.declineCard, d)
		return
	}
	s.st.declineCard[d] = reason
}

// RejectCard makes issuing a key or a key-in charge with this card number
// fail: HTTP 200, code -1, message. An empty message undoes it.
func (s *Server) RejectCard(cardNumber, message string) {
	d := cardDigits(cardNumber)
	s.mu.Lock()
	defer s.mu.Unlock()
	if message == "" {
		delete(s.st.rejectCard, d)
		return
	}
	s.st.rejectCard[d] = message
}

// ---- charging ----

type chargeSpec struct {
	merchantUID, customerUID, usage, channel, impPrefix string
	amount, taxFree                                     int64
	currency, name                                      string
	buyer                                               buyer
	customData, noticeURL                               string
	cardQuota                                           int
	cardDigits                                          string
	channel2                                            *Channel // the PG channel; nil: the default one
}

// blockedLocked reports whether merchantUID cannot be charged again: one of
// its payments is paid (or was, before a cancel) or still in progress.
func (s *Server) blockedLocked(merchantUID string) bool {
	for _, p := range s.st.byMerchant[merchantUID] {
		if p.status == "ready" || !p.paidAt.IsZero() {
			return true
		}
	}
	return false
}

// newPaymentLocked records a payment in status "ready".
func (s *Server) newPaymentLocked(c chargeSpec) *payment {
	now := s.now()
	seq := s.st.nextSeq()
	prefix := c.impPrefix
	if prefix == "" {
		prefix = "imps"
	}
	p := &payment{
		seq: seq, impUID: fmt.Sprintf("%s_%012d", prefix, s.st.impBase+seq),
		merchantUID: c.merchantUID, customerUID: c.customerUID, usage: c.usage,
		channel: c.channel, name: c.name, currency: normCurrency(c.currency), status: "ready",
		amount: c.amount, taxFree: c.taxFree, startedAt: now, updatedAt: now,
		pgTID:      fmt.Sprintf("%s%s%08d", pgID, now.UTC().Format("0601021504"), seq%100_000_000),
		cardDigits: c.cardDigits, cardQuota: c.cardQuota, buyer: c.buyer,
		customData: c.customData, noticeURL: c.noticeURL,
	}
	if p.channel == "" {
		p.channel = "api"
	}
	ch := c.channel2
	if ch == nil {
		ch = s.st.channels[DefaultChannelKey]
	}
	p.channelKey, p.pgProvider, p.pgID, p.sandbox = ch.Key, ch.PGProvider, ch.PGID, ch.Sandbox
	if c.cardDigits != "" {
		p.cardName, p.cardCode = cardIssuer(c.cardDigits)
		p.cardNum = maskCard(c.cardDigits)
	}
	s.st.payments = append(s.st.payments, p)
	s.st.byImp[p.impUID] = p
	s.st.byMerchant[p.merchantUID] = append(s.st.byMerchant[p.merchantUID], p)
	return p
}

// declineReasonLocked is why a charge on this customer/card declines, "" if
// it does not.
func (s *Server) declineReasonLocked(customerUID, digits string) string {
	if customerUID != "" {
		if r, ok := s.st.declineCustomer[customerUID]; ok {
			return r
		}
	}
	if digits != "" {
		if r, ok := s.st.declineCard[digits]; ok {
			return r
		}
	}
	return ""
}

// settleLocked turns a "ready" payment into "paid" or "failed" and sends the
// webhook (for paid, and for failed when notifyFailed).
func (s *Server) settleLocked(p *payment, notifyFailed bool) {
	if p.status != "ready" {
		return
	}
	now := s.now()
	p.updatedAt = now
	if reason := s.declineReasonLocked(p.customerUID, p.cardDigits); reason != "" {
		p.status, p.failReason, p.failedAt = "failed", reason, now
		if notifyFailed {
			s.sendWebhookLocked(p.noticeURL, wireWebhook{ImpUID: p.impUID, MerchantUID: p.merchantUID, Status: p.status})
		}
		return
	}
	p.status, p.paidAt = "paid", now
	p.applyNum = fmt.Sprintf("%08d", (p.seq*7919+13)%100_000_000)
	p.receiptURL = "https://webtx.tpay.co.kr/receipt_card?tid=" + p.pgTID
	if p.amount > 0 {
		s.sendWebhookLocked(p.noticeURL, wireWebhook{ImpUID: p.impUID, MerchantUID: p.merchantUID, Status: p.status})
	}
}

// finishCharge completes a charge whose payment was just recorded "ready".
// It is called with s.mu held and releases it. Under FaultSlowPG it unlocks,
// waits, then settles. after (optional) runs under the lock once settled.
func (s *Server) finishCharge(rc *reqCtx, p *payment, notifyFailed bool, after func(*payment)) reply {
	if rc != nil && rc.slow > 0 {
		s.mu.Unlock()
		s.faultSleep(rc.slow)
		s.mu.Lock()
	}
	s.settleLocked(p, notifyFailed)
	if after != nil {
		after(p)
	}
	w := s.renderPaymentLocked(p)
	s.mu.Unlock()
	return ok(w)
}

// ---- the payment window ----

// WindowRequest is what a browser would pass to IMP.request_pay with pg
// "jtnet" for a billing key (see [Server.RequestPay]).
type WindowRequest struct {
	PG          string // ignored ("jtnet" assumed)
	MerchantUID string
	Name        string
	Amount      int64 // KRW; 0 issues the key only
	CustomerUID string
	CardNumber  string // default "4092-0230-1234-5678"
	BuyerName   string
	BuyerEmail  string
	BuyerTel    string
	NoticeURL   string // webhook URL for this payment ("" = the console URL, WithWebhookURL)
	Closed      bool   // the user closed the window
	ChannelKey  string // the channel ("" = DefaultChannelKey; SandboxChannelKey makes a sandbox payment and key)
}

// WindowResult is what the window's callback (or m_redirect_url) reports.
type WindowResult struct {
	Success     bool
	ImpUID      string
	MerchantUID string
	ErrorCode   string
	ErrorMsg    string
}

// DefaultCardNumber is the card RequestPay uses when none is given.
const DefaultCardNumber = "4092-0230-1234-5678"

// RequestPay stands in for IMP.request_pay with pg "jtnet" and a
// customer_uid. Amount 0 issues the key only and records a payment of 0,
// status "paid", customer_uid_usage "issue". Amount > 0 issues the key and
// charges the first payment (customer_uid_usage "payment", channel "pc"). A
// declined or rejected card gives Success false with the reason, records the
// payment "failed" and stores no key. Closed gives Success false, ErrorCode
// "F1002", ErrorMsg "사용자가 결제를 취소하셨습니다" and stores nothing.
func (s *Server) RequestPay(req WindowRequest) WindowResult {
	res := WindowResult{MerchantUID: req.MerchantUID}
	if req.Closed {
		res.ErrorCode, res.ErrorMsg = "F1002", msgUserClosed
		return res
	}
	switch {
	case req.MerchantUID == "" || utf8.RuneCountInString(req.MerchantUID) > maxMerchantUIDLen:
		res.ErrorCode, res.ErrorMsg = "F0001", "merchant_uid 가 올바르지 않습니다."
		return res
	case req.CustomerUID == "" || utf8.RuneCountInString(req.CustomerUID) > maxCustomerUIDLen:
		res.ErrorCode, res.ErrorMsg = "F0001", "정기결제를 위해서는 customer_uid 가 필요합니다."
		return res
	case req.Amount < 0:
		res.ErrorCode, res.ErrorMsg = "F0001", "결제금액이 올바르지 않습니다."
		return res
	}
	card := req.CardNumber
	if card == "" {
		card = DefaultCardNumber
	}
	d := cardDigits(card)
	if d == "" {
		res.ErrorCode, res.ErrorMsg = "F0002", msgBadCard
		return res
	}
	s.mu.Lock()
	ch, badCh := s.channelLocked(req.ChannelKey)
	if badCh != nil {
		s.mu.Unlock()
		res.ErrorCode, res.ErrorMsg = "F0001", msgNoChannel
		return res
	}
	if s.blockedLocked(req.MerchantUID) {
		s.mu.Unlock()
		res.ErrorCode, res.ErrorMsg = "F0003", msgAlreadyPaid
		return res
	}
	if pr, ok := s.st.prepared[req.MerchantUID]; ok && pr.amount != req.Amount {
		s.mu.Unlock()
		res.ErrorCode, res.ErrorMsg = "F0004", "사전 등록된 결제정보와 결제금액이 일치하지 않습니다."
		return res
	}
	usage := "issue"
	if req.Amount > 0 {
		usage = "payment"
	}
	b := buyer{name: req.BuyerName, email: req.BuyerEmail, tel: req.BuyerTel}
	p := s.newPaymentLocked(chargeSpec{
		merchantUID: req.MerchantUID, customerUID: req.CustomerUID, usage: usage, channel: "pc",
		impPrefix: "imp", amount: req.Amount, currency: "KRW", name: req.Name, buyer: b, cardDigits: d,
		noticeURL: req.NoticeURL, channel2: ch,
	})
	res.ImpUID = p.impUID
	if msg, rejected := s.st.rejectCard[d]; rejected {
		now := s.now()
		p.status, p.failReason, p.failedAt, p.updatedAt = "failed", msg, now, now
		s.mu.Unlock()
		res.ErrorCode, res.ErrorMsg = "F0002", msg
		return res
	}
	s.settleLocked(p, false)
	if p.status != "paid" {
		s.mu.Unlock()
		res.ErrorCode, res.ErrorMsg = "F0005", p.failReason
		return res
	}
	s.issueKeyOnLocked(req.CustomerUID, d, b, ch)
	s.mu.Unlock()
	res.Success = true
	return res
}
