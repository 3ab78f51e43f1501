package iamporttest

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/billingkr/iamport-go/internal/apitext"
)

var cardPayMethod = "card"

func (s *Server) renderPaymentLocked(p *payment) wirePayment {
	w := wirePayment{
		ImpUID:            p.impUID,
		MerchantUID:       p.merchantUID,
		PayMethod:         sptr(cardPayMethod),
		Channel:           sptr(p.channel),
		PGProvider:        sptr(p.pgProvider),
		PGTID:             nstr(p.pgTID),
		PGID:              sptr(p.pgID),
		ApplyNum:          nstr(p.applyNum),
		CardCode:          nstr(p.cardCode),
		CardName:          nstr(p.cardName),
		CardQuota:         p.cardQuota,
		CardNumber:        nstr(p.cardNum),
		CardType:          nil, // JTNet does not tell credit from check cards
		Name:              nstr(p.name),
		Amount:            formatAmount(p.amount, p.currency),
		CancelAmount:      formatAmount(p.cancelAmount, p.currency),
		Currency:          p.currency,
		BuyerName:         nstr(p.buyer.name),
		BuyerEmail:        nstr(p.buyer.email),
		BuyerTel:          nstr(p.buyer.tel),
		BuyerAddr:         nstr(p.buyer.addr),
		BuyerPostcode:     nstr(p.buyer.postcode),
		CustomData:        nstr(p.customData),
		Status:            p.status,
		StartedAt:         unix(p.startedAt),
		PaidAt:            unix(p.paidAt),
		FailedAt:          unix(p.failedAt),
		CancelledAt:       unix(p.cancelledAt),
		FailReason:        nstr(p.failReason),
		CancelReason:      nstr(p.cancelReason),
		ReceiptURL:        nstr(p.receiptURL),
		CancelHistory:     []wireCancel{},
		CancelReceiptURLs: []string{},
		DepositHistory:    []struct{}{},
		CustomerUID:       nstr(p.customerUID),
		CustomerUIDUsage:  nstr(p.usage),
		Sandbox:           p.sandbox,
	}
	if p.channel == "api" {
		w.UserAgent = sptr("sorry_not_supported")
	} else {
		w.UserAgent = sptr("Mozilla/5.0 (iamporttest)")
	}
	for _, c := range p.cancels {
		w.CancelHistory = append(w.CancelHistory, wireCancel{
			PGTID: c.pgTID, Amount: formatAmount(c.amount, p.currency), CancelledAt: unix(c.at),
			Reason: c.reason, CancellationID: c.id, ReceiptURL: nstr(c.receiptURL),
		})
		w.CancelReceiptURLs = append(w.CancelReceiptURLs, c.receiptURL)
	}
	return w
}

func (s *Server) renderPaymentsLocked(list []*payment) []wirePayment {
	out := make([]wirePayment, 0, len(list))
	for _, p := range list {
		out = append(out, s.renderPaymentLocked(p))
	}
	return out
}

var paymentStatuses = map[string]bool{"ready": true, "paid": true, "failed": true, "cancelled": true}

// sortPayments orders by sorting ("-started" default, "started", "-paid",
// "paid", "-updated", "updated"); ties by creation order in the same
// direction.
func sortPayments(list []*payment, sorting string) bool {
	desc := true
	key := "started"
	switch sorting {
	case "", "-started":
	case "started":
		desc = false
	case "-paid":
		key = "paid"
	case "paid":
		key, desc = "paid", false
	case "-updated":
		key = "updated"
	case "updated":
		key, desc = "updated", false
	default:
		return false
	}
	val := func(p *payment) time.Time {
		switch key {
		case "paid":
			return p.paidAt
		case "updated":
			return p.updatedAt
		}
		return p.startedAt
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		ta, tb := val(a), val(b)
		if !ta.Equal(tb) {
			if desc {
				return ta.After(tb)
			}
			return ta.Before(tb)
		}
		if desc {
			return a.seq > b.seq
		}
		return a.seq < b.seq
	})
	return true
}

// pageOf cuts a page out of items (page from 1): {total, previous, next, list}.
func pageOf[T any](items []T, page, limit int) wirePage {
	total := len(items)
	start, end := total, total
	if page-1 < total/limit+1 { // no overflow for absurd pages
		start = min((page-1)*limit, total)
		end = min(start+limit, total)
	}
	wp := wirePage{Total: total, List: append([]T{}, items[start:end]...)}
	if page > 1 {
		wp.Previous = page - 1
	}
	if end < total {
		wp.Next = page + 1
	}
	return wp
}

// pageParams reads page (default 1) and limit (default def, at most max).
func pageParams(q url.Values, def, max int) (page, limit int, bad string) {
	page, limit = 1, def
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, "page 파라메터가 올바르지 않습니다."
		}
		page = n
	}
	if v := q.Get("limit"); v != "" && max > 0 {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			return 0, 0, fmt.Sprintf("limit 파라메터는 1 이상 %d 이하여야 합니다.", max)
		}
		limit = n
	}
	return page, limit, ""
}

// GET /payments/{imp_uid}
func (s *Server) handleGetPayment(rc *reqCtx) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.byImp[rc.r.PathValue("imp_uid")]
	if p == nil || !visible(p, rc) {
		return notFound(msgNoPayment)
	}
	return ok(s.renderPaymentLocked(p))
}

// GET /payments?imp_uid[]=…&merchant_uid[]=…
func (s *Server) handleGetPayments(rc *reqCtx) reply {
	q := rc.r.URL.Query()
	imps, merchants := queryList(q, "imp_uid"), queryList(q, "merchant_uid")
	n := len(imps) + len(merchants)
	if n == 0 {
		return badRequest("imp_uid[] 또는 merchant_uid[] 파라메터가 필요합니다.")
	}
	if n > 100 {
		return badRequest("한 번에 조회할 수 있는 결제건은 최대 100건입니다.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*payment
	for _, imp := range imps {
		if p := s.st.byImp[imp]; p != nil && visible(p, rc) {
			found = append(found, p)
		}
	}
	for _, m := range merchants {
		var list []*payment
		for _, p := range s.st.byMerchant[m] {
			if visible(p, rc) {
				list = append(list, p)
			}
		}
		if len(list) > 0 {
			sortPayments(list, "")
			found = append(found, list[0])
		}
	}
	switch {
	case len(found) == 0:
		return notFound(msgNoPayment)
	case len(found) < n:
		rep := ok(s.renderPaymentsLocked(found))
		rep.status = http.StatusMultiStatus
		return rep
	}
	return ok(s.renderPaymentsLocked(found))
}

func (s *Server) merchantPaymentsLocked(rc *reqCtx) ([]*payment, *reply) {
	status := rc.r.PathValue("payment_status")
	if status != "" && !paymentStatuses[status] {
		r := badRequest("payment_status 파라메터가 올바르지 않습니다: " + status)
		return nil, &r
	}
	var list []*payment
	for _, p := range s.st.byMerchant[rc.r.PathValue("merchant_uid")] {
		if (status == "" || p.status == status) && visible(p, rc) {
			list = append(list, p)
		}
	}
	if !sortPayments(list, rc.r.URL.Query().Get("sorting")) {
		r := badRequest("sorting 파라메터가 올바르지 않습니다.")
		return nil, &r
	}
	return list, nil
}

// GET /payments/find/{merchant_uid}[/{payment_status}]
func (s *Server) handleFind(rc *reqCtx) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, bad := s.merchantPaymentsLocked(rc)
	if bad != nil {
		return *bad
	}
	if len(list) == 0 {
		return notFound(msgNoPayment)
	}
	return ok(s.renderPaymentLocked(list[0]))
}

// GET /payments/findAll/{merchant_uid}[/{payment_status}]?page&limit&sorting
func (s *Server) handleFindAll(rc *reqCtx) reply {
	page, limit, bad := pageParams(rc.r.URL.Query(), 20, 1000)
	if bad != "" {
		return badRequest(bad)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list, badRep := s.merchantPaymentsLocked(rc)
	if badRep != nil {
		return *badRep
	}
	if len(list) == 0 {
		return notFound(msgNoPayment)
	}
	return ok(pageOf(s.renderPaymentsLocked(list), page, limit))
}

// statusTime is the timestamp /payments/status compares for a payment: the
// one of its current status.
func statusTime(p *payment) time.Time {
	switch p.status {
	case "paid":
		return p.paidAt
	case "failed":
		return p.failedAt
	case "cancelled":
		return p.cancelledAt
	}
	return p.startedAt
}

const maxRange = 90 * 24 * time.Hour

// GET /payments/status/{payment_status}?page&limit&from&to&sorting
func (s *Server) handleByStatus(rc *reqCtx) reply {
	status := rc.r.PathValue("payment_status")
	if status != "all" && !paymentStatuses[status] {
		return badRequest("payment_status 파라메터가 올바르지 않습니다: " + status)
	}
	q := rc.r.URL.Query()
	page, limit, bad := pageParams(q, 20, 1000)
	if bad != "" {
		return badRequest(bad)
	}
	now := s.now().Unix()
	to, err := unixParam(q, "to", now)
	if err != nil {
		return badRequest("to 파라메터가 올바르지 않습니다.")
	}
	from, err := unixParam(q, "from", to-int64(maxRange/time.Second))
	if err != nil {
		return badRequest("from 파라메터가 올바르지 않습니다.")
	}
	if from > to {
		return badRequest("from 은 to 보다 이전이어야 합니다.")
	}
	if to-from > int64(maxRange/time.Second) {
		return badRequest("조회 기간은 최대 90일입니다.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*payment
	for _, p := range s.st.payments {
		if status != "all" && p.status != status || !visible(p, rc) {
			continue
		}
		t := statusTime(p).Unix()
		if t >= from && t <= to {
			list = append(list, p)
		}
	}
	if !sortPayments(list, q.Get("sorting")) {
		return badRequest("sorting 파라메터가 올바르지 않습니다.")
	}
	if page > 1 && page-1 >= (len(list)+limit-1)/limit {
		return badRequest("데이터 범위를 넘어선 page 입니다.")
	}
	return ok(pageOf(s.renderPaymentsLocked(list), page, limit))
}

func unixParam(q url.Values, k string, def int64) (int64, error) {
	v := q.Get(k)
	if v == "" {
		return def, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// POST /payments/cancel
func (s *Server) handleCancel(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	p := rc.p
	imp, merchant := p.str("imp_uid"), p.str("merchant_uid")
	if imp == "" && merchant == "" {
		return badRequest("imp_uid 또는 merchant_uid 파라메터가 필요합니다.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var pay *payment
	if imp != "" {
		pay = s.st.byImp[imp]
	} else {
		list := append([]*payment(nil), s.st.byMerchant[merchant]...)
		sortPayments(list, "")
		for _, c := range list {
			if c.status == "paid" || (c.status == "cancelled" && c.cancelAmount < c.amount) {
				pay = c
				break
			}
		}
	}
	if pay == nil || (pay.status != "paid" && pay.status != "cancelled") || pay.cancelAmount >= pay.amount {
		return bizErr(1, msgNothingCancel)
	}
	refundable := pay.amount - pay.cancelAmount
	amount := refundable
	if txt, present := p.num("amount"); present {
		a, err := parseAmount(txt, pay.currency)
		if err != nil {
			return badRequest("amount 파라메터가 올바르지 않습니다.")
		}
		if a > 0 {
			amount = a
		}
	}
	if txt, present := p.num("checksum"); present {
		c, err := parseAmount(txt, pay.currency)
		if err != nil {
			return badRequest("checksum 파라메터가 올바르지 않습니다.")
		}
		if c != refundable {
			return bizErr(1, fmt.Sprintf("[결제취소 실패] 취소가능잔액 검증에 실패하였습니다. (취소가능잔액: %s)", formatAmount(refundable, pay.currency)))
		}
	}
	if amount > refundable {
		return bizErr(1, fmt.Sprintf("[결제취소 실패] 취소요청금액(%s)이 취소가능잔액(%s)보다 큽니다.",
			formatAmount(amount, pay.currency), formatAmount(refundable, pay.currency)))
	}
	now := s.now()
	seq := s.st.nextSeq()
	c := cancelRec{
		pgTID:  fmt.Sprintf("%sC%s%08d", pgID, now.UTC().Format("0601021504"), seq%100_000_000),
		amount: amount, at: now, reason: p.str("reason"),
		id: fmt.Sprintf("cancel_%s_%d", randomHex(6), seq),
	}
	c.receiptURL = "https://webtx.tpay.co.kr/receipt_card?tid=" + c.pgTID
	pay.cancels = append(pay.cancels, c)
	pay.cancelAmount += amount
	pay.status, pay.cancelledAt, pay.updatedAt = "cancelled", now, now
	pay.cancelReason = c.reason
	if p.boolean("enable_webhook") {
		s.sendWebhookLocked(pay.noticeURL, wireWebhook{ImpUID: pay.impUID, MerchantUID: pay.merchantUID, Status: "cancelled", CancellationID: c.id})
	}
	return ok(s.renderPaymentLocked(pay))
}

// ---- prepare ----

func (s *Server) readPrepare(rc *reqCtx) (string, prepared, *reply) {
	if rc.perr != nil {
		r := badRequest("요청 본문을 해석할 수 없습니다.")
		return "", prepared{}, &r
	}
	m := rc.p.str("merchant_uid")
	if m == "" || len([]rune(m)) > maxMerchantUIDLen {
		r := badRequest("merchant_uid 파라메터가 올바르지 않습니다.")
		return "", prepared{}, &r
	}
	cur := rc.p.str("currency")
	txt, present := rc.p.num("amount")
	if !present {
		r := badRequest("amount 파라메터가 필요합니다.")
		return "", prepared{}, &r
	}
	a, err := parseAmount(txt, cur)
	if err != nil {
		r := badRequest("amount 파라메터가 올바르지 않습니다.")
		return "", prepared{}, &r
	}
	return m, prepared{amount: a, currency: cur}, nil
}

func renderPrepare(m string, pr prepared) wirePrepare {
	w := wirePrepare{MerchantUID: m, Amount: formatAmount(pr.amount, pr.currency)}
	if pr.currency != "" {
		w.Currency = sptr(normCurrency(pr.currency))
	}
	return w
}

// POST /payments/prepare
func (s *Server) handlePrepare(rc *reqCtx) reply {
	m, pr, bad := s.readPrepare(rc)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.st.prepared[m]; dup {
		return bizErr(1, "이미 등록된 merchant_uid 입니다.")
	}
	s.st.prepared[m] = pr
	return ok(renderPrepare(m, pr))
}

// PUT /payments/prepare
func (s *Server) handleUpdatePrepare(rc *reqCtx) reply {
	m, pr, bad := s.readPrepare(rc)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.st.prepared[m]; !exists {
		return notFound(apitext.NoPrepared)
	}
	s.st.prepared[m] = pr
	return ok(renderPrepare(m, pr))
}

// GET /payments/prepare/{merchant_uid}
func (s *Server) handleGetPrepare(rc *reqCtx) reply {
	m := rc.r.PathValue("merchant_uid")
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, exists := s.st.prepared[m]
	if !exists {
		return notFound(apitext.NoPrepared)
	}
	return ok(renderPrepare(m, pr))
}
