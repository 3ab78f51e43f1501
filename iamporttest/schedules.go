package iamporttest

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/billingkr/iamport-go/internal/apitext"
)

const (
	msgNoSchedule      = apitext.NoSchedule
	msgNothingToRevoke = apitext.NothingToRevoke
	maxUnixSeconds     = 99_999_999_999 // larger values are milliseconds by mistake
)

func (s *Server) schedulePaymentStatus(sc *schedule) *string {
	if sc.status != "executed" {
		return nil
	}
	if p := s.st.byImp[sc.impUID]; p != nil && sc.impUID != "" {
		return sptr(p.status)
	}
	return nstr(sc.paymentStatus)
}

func (s *Server) renderScheduleLocked(sc *schedule) wireSchedule {
	return wireSchedule{
		CustomerUID: sc.customerUID, MerchantUID: sc.merchantUID, ImpUID: nstr(sc.impUID),
		PGProvider: sptr(s.schedulePGLocked(sc).PGProvider), PGID: sptr(s.schedulePGLocked(sc).PGID), CustomerID: nstr(sc.customerID),
		ScheduleAt: sc.scheduleAt, ExecutedAt: unix(sc.executedAt), RevokedAt: unix(sc.revokedAt),
		Amount: formatAmount(sc.amount, sc.currency), Currency: sc.currency, Name: nstr(sc.name),
		BuyerName: nstr(sc.buyer.name), BuyerEmail: nstr(sc.buyer.email), BuyerTel: nstr(sc.buyer.tel),
		BuyerAddr: nstr(sc.buyer.addr), BuyerPostcode: nstr(sc.buyer.postcode),
		CustomData: nstr(sc.customData), ScheduleStatus: sc.status,
		PaymentStatus: s.schedulePaymentStatus(sc), FailReason: nstr(sc.failReason),
	}
}

// schedulePGLocked is the channel a schedule charges on.
func (s *Server) schedulePGLocked(sc *schedule) *Channel {
	if ch := s.st.channels[sc.channelKey]; ch != nil {
		return ch
	}
	if k := s.st.keys[sc.customerUID]; k != nil {
		if ch := s.st.channels[k.channelKey]; ch != nil {
			return ch
		}
	}
	return s.st.channels[DefaultChannelKey]
}

func (s *Server) renderSchedulesLocked(list []*schedule) []wireSchedule {
	out := make([]wireSchedule, 0, len(list))
	for _, sc := range list {
		out = append(out, s.renderScheduleLocked(sc))
	}
	return out
}

func readScheduleAt(p params) (int64, *reply) {
	at, present, err := p.int64("schedule_at")
	switch {
	case !present:
		r := badRequest("schedule_at 파라메터가 필요합니다.")
		return 0, &r
	case err != nil || at <= 0:
		r := badRequest("schedule_at 파라메터가 올바르지 않습니다.")
		return 0, &r
	case at > maxUnixSeconds:
		r := badRequest("schedule_at 은 UNIX timestamp(초 단위)여야 합니다.")
		return 0, &r
	}
	return at, nil
}

// POST /subscribe/payments/schedule
func (s *Server) handleSchedule(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	cuid := rc.p.str("customer_uid")
	if cuid == "" || utf8.RuneCountInString(cuid) > maxCustomerUIDLen {
		return badRequest("customer_uid 파라메터가 올바르지 않습니다.")
	}
	items, err := rc.p.objects("schedules")
	if err != nil {
		return badRequest("schedules 파라메터가 올바르지 않습니다.")
	}
	if len(items) == 0 {
		return badRequest("schedules 파라메터가 필요합니다.")
	}
	if txt, present := rc.p.num("checking_amount"); present {
		if _, err := parseAmount(txt, "KRW"); err != nil {
			return badRequest("checking_amount 파라메터가 올바르지 않습니다.")
		}
	}
	customerID, channelKey := rc.p.str("customer_id"), rc.p.str("channel_key")
	var list []*schedule
	seen := map[string]bool{}
	for i, it := range items {
		m := it.str("merchant_uid")
		if m == "" || utf8.RuneCountInString(m) > maxMerchantUIDLen {
			return badRequest(fmt.Sprintf("schedules[%d].merchant_uid 가 올바르지 않습니다.", i))
		}
		if seen[m] {
			return bizErr(1, "중복된 merchant_uid 가 있습니다: "+m)
		}
		seen[m] = true
		at, bad := readScheduleAt(it)
		if bad != nil {
			return *bad
		}
		cur := it.str("currency")
		txt, present := it.num("amount")
		if !present {
			return badRequest(fmt.Sprintf("schedules[%d].amount 가 필요합니다.", i))
		}
		amount, err := parseAmount(txt, cur)
		if err != nil || amount <= 0 {
			return badRequest(fmt.Sprintf("schedules[%d].amount 가 올바르지 않습니다.", i))
		}
		list = append(list, &schedule{
			customerUID: cuid, merchantUID: m, scheduleAt: at, amount: amount,
			currency: normCurrency(cur), name: it.str("name"), buyer: buyerOf(it),
			customData: it.str("custom_data"), noticeURL: it.str("notice_url"), status: "scheduled",
			customerID: customerID, channelKey: channelKey,
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rc.p.str("card_number") != "" {
		ch, badCh := s.channelLocked(channelKey)
		if badCh != nil {
			return *badCh
		}
		d, cardErr := s.checkCardLocked(rc.p)
		if cardErr != nil {
			return *cardErr
		}
		k := s.issueKeyOnLocked(cuid, d, customerBuyerOf(rc.p), ch)
		k.customerID = customerID
	} else if k := s.activeKeyLocked(cuid); k == nil {
		return bizErr(1, msgUnknownBuyer)
	} else if _, badCh := s.keyChannelLocked(k, channelKey); badCh != nil {
		return *badCh
	}
	for _, sc := range list {
		if old := s.st.schedules[sc.merchantUID]; old != nil && old.status != "revoked" {
			return bizErr(1, "이미 결제예약된 merchant_uid 입니다: "+sc.merchantUID)
		}
		if s.blockedLocked(sc.merchantUID) {
			return bizErr(1, msgAlreadyPaid+": "+sc.merchantUID)
		}
	}
	for _, sc := range list {
		sc.seq = s.st.nextSeq()
		s.st.schedules[sc.merchantUID] = sc
	}
	return ok(s.renderSchedulesLocked(list))
}

// POST /subscribe/payments/unschedule
func (s *Server) handleUnschedule(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	cuid := rc.p.str("customer_uid")
	merchants := rc.p.strs("merchant_uid")
	if cuid == "" && len(merchants) == 0 {
		return badRequest("customer_uid 또는 merchant_uid 파라메터가 필요합니다.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var hit []*schedule
	if len(merchants) > 0 {
		for _, m := range merchants {
			sc := s.st.schedules[m]
			if sc != nil && sc.status == "scheduled" && (cuid == "" || sc.customerUID == cuid) {
				hit = append(hit, sc)
			}
		}
	} else {
		for _, sc := range s.sortedSchedulesLocked() {
			if sc.status == "scheduled" && sc.customerUID == cuid {
				hit = append(hit, sc)
			}
		}
	}
	if len(hit) == 0 {
		return bizErr(1, msgNothingToRevoke)
	}
	now := s.now()
	for _, sc := range hit {
		sc.status, sc.revokedAt = "revoked", now
	}
	return ok(s.renderSchedulesLocked(hit))
}

var scheduleStatuses = map[string]bool{"scheduled": true, "executed": true, "revoked": true}

// listSchedules serves the three list endpoints.
func (s *Server) listSchedules(q url.Values, fromKey, toKey, statusKey, cuid string, limitMax int) reply {
	fromS, toS := q.Get(fromKey), q.Get(toKey)
	if fromS == "" || toS == "" {
		return badRequest(fromKey + ", " + toKey + " 파라메터가 필요합니다.")
	}
	from, err1 := strconv.ParseInt(fromS, 10, 64)
	to, err2 := strconv.ParseInt(toS, 10, 64)
	if err1 != nil || err2 != nil || from > to {
		return badRequest("조회 기간이 올바르지 않습니다.")
	}
	if to-from > int64(maxRange.Seconds()) {
		return badRequest("조회 기간은 최대 3개월(90일)입니다.")
	}
	status := q.Get(statusKey)
	if status != "" && !scheduleStatuses[status] {
		return badRequest("schedule_status 파라메터가 올바르지 않습니다: " + status)
	}
	page, limit, bad := pageParams(q, 20, limitMax)
	if bad != "" {
		return badRequest(bad)
	}
	asc := q.Get("sorting") == "scheduled"
	s.mu.Lock()
	defer s.mu.Unlock()
	if cuid != "" && s.st.keys[cuid] == nil && !s.hasSchedulesLocked(cuid) {
		// An unknown customer: HTTP 200, code 1, the live text.
		return bizErr(1, apitext.NoCustomer)
	}
	var list []*schedule
	for _, sc := range s.st.schedules {
		if cuid != "" && sc.customerUID != cuid {
			continue
		}
		if status != "" && sc.status != status {
			continue
		}
		if sc.scheduleAt >= from && sc.scheduleAt < to {
			list = append(list, sc)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.scheduleAt != b.scheduleAt {
			if asc {
				return a.scheduleAt < b.scheduleAt
			}
			return a.scheduleAt > b.scheduleAt
		}
		if asc {
			return a.seq < b.seq
		}
		return a.seq > b.seq
	})
	if s.st.bareScheduleLists {
		// The spec's shape: a bare array, all of it on page 1.
		if page > 1 {
			return ok([]wireSchedule{})
		}
		return ok(s.renderSchedulesLocked(list))
	}
	return ok(pageOf(s.renderSchedulesLocked(list), page, limit))
}

func (s *Server) hasSchedulesLocked(cuid string) bool {
	for _, sc := range s.st.schedules {
		if sc.customerUID == cuid {
			return true
		}
	}
	return false
}

// GET /subscribe/payments/schedule?schedule_from&schedule_to&schedule_status&page&limit&sorting
func (s *Server) handleListSchedules(rc *reqCtx) reply {
	return s.listSchedules(rc.r.URL.Query(), "schedule_from", "schedule_to", "schedule_status", "", 1000)
}

// GET /subscribe/payments/schedule/customers/{customer_uid}?from&to&page&schedule-status
// and GET /subscribe/customers/{customer_uid}/schedules (same parameters).
func (s *Server) handleCustomerSchedules(rc *reqCtx) reply {
	cuid := rc.r.PathValue("customer_uid")
	return s.listSchedules(rc.r.URL.Query(), "from", "to", "schedule-status", cuid, 0)
}

// GET /subscribe/payments/schedule/{merchant_uid}
func (s *Server) handleGetSchedule(rc *reqCtx) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.st.schedules[rc.r.PathValue("merchant_uid")]
	if sc == nil {
		return notFound(msgNoSchedule)
	}
	return ok(s.renderScheduleLocked(sc))
}

// PUT /subscribe/payments/schedule/{merchant_uid} (body schedule_at)
func (s *Server) handleUpdateSchedule(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	at, bad := readScheduleAt(rc.p)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.st.schedules[rc.r.PathValue("merchant_uid")]
	if sc == nil {
		return notFound(msgNoSchedule)
	}
	if sc.status != "scheduled" {
		return badRequest("이미 실행 혹은 취소된 결제예약입니다.")
	}
	if at <= s.now().Unix() {
		return badRequest("예약시각은 현재 시각 이후여야 합니다.")
	}
	sc.scheduleAt = at
	return ok(s.renderScheduleLocked(sc))
}

func (s *Server) failedScheduleLocked(rc *reqCtx) (*schedule, *reply) {
	sc := s.st.schedules[rc.r.PathValue("merchant_uid")]
	if sc == nil {
		r := notFound(msgNoSchedule)
		return nil, &r
	}
	// The spec allows a failed execution, or a schedule that was revoked
	// ("혹은 예약 취소했던 건").
	ps := s.schedulePaymentStatus(sc)
	failed := sc.status == "executed" && ps != nil && *ps == "failed"
	if !failed && sc.status != "revoked" {
		r := badRequest("결제에 실패한 결제예약건이 아닙니다. (아직 실행되지 않았거나 이미 승인 또는 취소된 결제예약)")
		return nil, &r
	}
	return sc, nil
}

// POST /subscribe/payments/schedule/{merchant_uid}/reschedule (body schedule_at)
func (s *Server) handleReschedule(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	at, bad := readScheduleAt(rc.p)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, badRep := s.failedScheduleLocked(rc)
	if badRep != nil {
		return *badRep
	}
	if at <= s.now().Unix() {
		return badRequest("예약시각은 현재 시각 이후여야 합니다.")
	}
	sc.status, sc.scheduleAt = "scheduled", at
	sc.impUID, sc.failReason, sc.paymentStatus = "", "", ""
	sc.executedAt = time.Time{}
	return ok(s.renderScheduleLocked(sc))
}

// POST /subscribe/payments/schedule/{merchant_uid}/retry: charges now.
func (s *Server) handleRetry(rc *reqCtx) reply {
	s.mu.Lock()
	sc, badRep := s.failedScheduleLocked(rc)
	if badRep != nil {
		s.mu.Unlock()
		return *badRep
	}
	k := s.activeKeyLocked(sc.customerUID)
	if k == nil {
		s.mu.Unlock()
		return notFound(msgUnknownBuyer)
	}
	if s.blockedLocked(sc.merchantUID) {
		s.mu.Unlock()
		return badRequest(msgAlreadyPaid)
	}
	p := s.newPaymentLocked(s.scheduleCharge(sc, k))
	return s.finishCharge(rc, p, false, func(p *payment) {
		sc.status = "executed"
		sc.impUID, sc.failReason, sc.paymentStatus = p.impUID, p.failReason, ""
		sc.executedAt = s.now()
	})
}

func (s *Server) scheduleCharge(sc *schedule, k *billingKey) chargeSpec {
	c := chargeSpec{
		merchantUID: sc.merchantUID, customerUID: sc.customerUID, usage: "payment.scheduled",
		channel: "api", amount: sc.amount, currency: sc.currency, name: sc.name, buyer: sc.buyer,
		customData: sc.customData, noticeURL: sc.noticeURL, channel2: s.schedulePGLocked(sc),
	}
	if k != nil {
		c.cardDigits = k.cardDigits
	}
	return c
}

// runDueSchedules executes every schedule whose schedule_at has passed on
// the server's clock.
func (s *Server) runDueSchedules() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.closed {
		return
	}
	now := s.now().Unix()
	var due []*schedule
	for _, sc := range s.st.schedules {
		if sc.status == "scheduled" && sc.scheduleAt <= now {
			due = append(due, sc)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if due[i].scheduleAt != due[j].scheduleAt {
			return due[i].scheduleAt < due[j].scheduleAt
		}
		return due[i].seq < due[j].seq
	})
	for _, sc := range due {
		s.executeScheduleLocked(sc)
	}
}

func (s *Server) executeScheduleLocked(sc *schedule) {
	now := s.now()
	sc.status, sc.executedAt = "executed", now
	if s.blockedLocked(sc.merchantUID) {
		sc.paymentStatus, sc.failReason = "failed", msgAlreadyPaid
		return
	}
	k := s.activeKeyLocked(sc.customerUID)
	p := s.newPaymentLocked(s.scheduleCharge(sc, k))
	sc.impUID = p.impUID
	if k == nil {
		p.status, p.failReason, p.failedAt, p.updatedAt = "failed", msgUnknownBuyer, now, now
		s.sendWebhookLocked(p.noticeURL, wireWebhook{ImpUID: p.impUID, MerchantUID: p.merchantUID, Status: p.status})
	} else {
		s.settleLocked(p, true)
	}
	sc.failReason = p.failReason
}
