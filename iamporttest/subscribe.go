package iamporttest

import (
	"net/http"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/billingkr/iamport-go/internal/apitext"
)

func buyerOf(p params) buyer {
	return buyer{
		name: p.str("buyer_name"), email: p.str("buyer_email"), tel: p.str("buyer_tel"),
		addr: p.str("buyer_addr"), postcode: p.str("buyer_postcode"),
	}
}

func customerBuyerOf(p params) buyer {
	return buyer{
		name: p.str("customer_name"), email: p.str("customer_email"), tel: p.str("customer_tel"),
		addr: p.str("customer_addr"), postcode: p.str("customer_postcode"),
	}
}

// chargeFields reads the fields common to again and onetime.
func chargeFields(p params) (chargeSpec, *reply) {
	bad := func(msg string) (chargeSpec, *reply) { r := badRequest(msg); return chargeSpec{}, &r }
	c := chargeSpec{
		merchantUID: p.str("merchant_uid"), customerUID: p.str("customer_uid"),
		currency: p.str("currency"), name: p.str("name"), buyer: buyerOf(p),
		customData: p.str("custom_data"), noticeURL: p.str("notice_url"), channel: "api",
	}
	if c.merchantUID == "" {
		return bad("merchant_uid 파라메터가 필요합니다.")
	}
	if utf8.RuneCountInString(c.merchantUID) > maxMerchantUIDLen {
		return bad("merchant_uid 는 40자 이내여야 합니다.")
	}
	if utf8.RuneCountInString(c.customerUID) > maxCustomerUIDLen {
		return bad("customer_uid 는 80자 이내여야 합니다.")
	}
	if utf8.RuneCountInString(c.name) > 40 {
		return bad("name 은 40자 이내여야 합니다.")
	}
	txt, present := p.num("amount")
	if !present {
		return bad("amount 파라메터가 필요합니다.")
	}
	a, err := parseAmount(txt, c.currency)
	if err != nil || a <= 0 {
		return bad("amount 파라메터가 올바르지 않습니다.")
	}
	c.amount = a
	if txt, present := p.num("tax_free"); present {
		tf, err := parseAmount(txt, c.currency)
		if err != nil || tf > a {
			return bad("tax_free 파라메터가 올바르지 않습니다.")
		}
		c.taxFree = tf
	}
	if txt, present := p.num("vat_amount"); present {
		if _, err := parseAmount(txt, c.currency); err != nil {
			return bad("vat_amount 파라메터가 올바르지 않습니다.")
		}
	}
	q, _, err := p.int64("card_quota")
	if err != nil || q < 0 || q > 36 {
		return bad("card_quota 파라메터가 올바르지 않습니다.")
	}
	c.cardQuota = int(q)
	return c, nil
}

// POST /subscribe/payments/again
func (s *Server) handleAgain(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	c, bad := chargeFields(rc.p)
	if bad != nil {
		return *bad
	}
	if c.customerUID == "" {
		return badRequest("customer_uid 파라메터가 필요합니다.")
	}
	c.usage = "payment"
	s.mu.Lock()
	k := s.activeKeyLocked(c.customerUID)
	if k == nil {
		s.mu.Unlock()
		return bizErr(1, msgUnknownBuyer)
	}
	ch, badCh := s.keyChannelLocked(k, rc.p.str("channel_key"))
	if badCh != nil {
		s.mu.Unlock()
		return *badCh
	}
	c.channel2 = ch
	if s.blockedLocked(c.merchantUID) {
		s.mu.Unlock()
		return bizErr(1, msgAlreadyPaid)
	}
	c.cardDigits = k.cardDigits
	p := s.newPaymentLocked(c)
	return s.finishCharge(rc, p, false, nil)
}

var (
	reExpiry = regexp.MustCompile(`^(\d{4})-(0[1-9]|1[0-2])$`)
	reBirth  = regexp.MustCompile(`^(\d{6}|\d{10})$`)
	rePwd2   = regexp.MustCompile(`^\d{2}$`)
)

// checkCardLocked validates key-in card data; the reply is a code -1
// business error.
func (s *Server) checkCardLocked(p params) (string, *reply) {
	fail := func(msg string) (string, *reply) { r := bizErr(-1, msg); return "", &r }
	d := cardDigits(p.str("card_number"))
	if d == "" {
		return fail(msgBadCard + " (카드번호 형식: dddd-dddd-dddd-dddd)")
	}
	m := reExpiry.FindStringSubmatch(p.str("expiry"))
	if m == nil {
		return fail(msgBadCard + " (유효기간 형식: YYYY-MM)")
	}
	if b := p.str("birth"); b != "" && !reBirth.MatchString(b) {
		return fail(msgBadCard + " (생년월일 6자리 또는 사업자등록번호 10자리)")
	}
	if pw := p.str("pwd_2digit"); pw != "" && !rePwd2.MatchString(pw) {
		return fail(msgBadCard + " (비밀번호 앞 2자리)")
	}
	now := s.now().UTC()
	if m[1]+m[2] < now.Format("200601") {
		return fail("유효기간이 만료된 카드입니다.")
	}
	if msg, rejected := s.st.rejectCard[d]; rejected {
		return fail(msg)
	}
	return d, nil
}

// POST /subscribe/payments/onetime
func (s *Server) handleOnetime(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	c, bad := chargeFields(rc.p)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	ch, badCh := s.channelLocked(rc.p.str("channel_key"))
	if badCh != nil {
		s.mu.Unlock()
		return *badCh
	}
	c.channel2 = ch
	d, cardErr := s.checkCardLocked(rc.p)
	if cardErr != nil {
		s.mu.Unlock()
		return *cardErr
	}
	if s.blockedLocked(c.merchantUID) {
		s.mu.Unlock()
		return bizErr(1, msgAlreadyPaid)
	}
	if c.customerUID != "" {
		s.issueKeyOnLocked(c.customerUID, d, c.buyer, ch)
		c.usage = "issue"
	}
	c.cardDigits = d
	p := s.newPaymentLocked(c)
	return s.finishCharge(rc, p, false, nil)
}

// ---- billing keys ----

// keyChannelLocked is the channel a charge of key k goes to: the one
// named by channelKey (which must be one the key was issued on), or the
// key's own.
func (s *Server) keyChannelLocked(k *billingKey, channelKey string) (*Channel, *reply) {
	if channelKey == "" {
		if ch := s.st.channels[k.channelKey]; ch != nil {
			return ch, nil
		}
		return s.st.channels[DefaultChannelKey], nil
	}
	ch, bad := s.channelLocked(channelKey)
	if bad != nil {
		return nil, bad
	}
	if channelKey != k.channelKey && !slices.Contains(k.superChannels, channelKey) {
		r := bizErr(1, "해당 채널로 발급된 빌링키가 없습니다. (channel_key: "+channelKey+")") // the live text is unconfirmed
		return nil, &r
	}
	return ch, nil
}

func renderCustomer(k *billingKey) wireCustomer {
	return wireCustomer{
		CustomerUID: k.customerUID, PGProvider: k.pgProvider, PGID: k.pgID, Sandbox: k.sandbox, CustomerID: nstr(k.customerID),
		CardName: k.cardName, CardCode: nstr(k.cardCode), CardNumber: nstr(k.cardNum),
		CardType:     nil,
		CustomerName: nstr(k.buyer.name), CustomerTel: nstr(k.buyer.tel), CustomerEmail: nstr(k.buyer.email),
		CustomerAddr: nstr(k.buyer.addr), CustomerPostcode: nstr(k.buyer.postcode),
		Inserted: unix(k.inserted), Updated: unix(k.updated),
	}
}

// customerNotFound is the answer for an unknown customer_uid: HTTP 404
// (the spec) with the live text.
func customerNotFound(string) reply { return notFound(apitext.NoCustomer) }

// GET /subscribe/customers/{customer_uid}
func (s *Server) handleGetCustomer(rc *reqCtx) reply {
	cuid := rc.r.PathValue("customer_uid")
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.activeKeyLocked(cuid)
	if k == nil {
		return customerNotFound(cuid)
	}
	return ok(renderCustomer(k))
}

// GET /subscribe/customers?customer_uid[]=…
func (s *Server) handleGetCustomers(rc *reqCtx) reply {
	uids := queryList(rc.r.URL.Query(), "customer_uid")
	if len(uids) == 0 {
		return badRequest("customer_uid[] 파라메터가 필요합니다.")
	}
	if len(uids) > 100 {
		return badRequest("한 번에 조회할 수 있는 customer_uid 는 최대 100개입니다.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []wireCustomer{}
	for _, u := range uids {
		if k := s.activeKeyLocked(u); k != nil {
			out = append(out, renderCustomer(k))
		}
	}
	switch {
	case len(out) == 0:
		return notFound(apitext.NoCustomer)
	case len(out) < len(uids):
		r := ok(out)
		r.status = http.StatusMultiStatus
		return r
	}
	return ok(out)
}

// POST /subscribe/customers/{customer_uid}
func (s *Server) handleIssueCustomer(rc *reqCtx) reply {
	if rc.perr != nil {
		return badRequest("요청 본문을 해석할 수 없습니다.")
	}
	cuid := rc.r.PathValue("customer_uid")
	if cuid == "" || utf8.RuneCountInString(cuid) > maxCustomerUIDLen {
		return badRequest("customer_uid 는 80자 이내여야 합니다.")
	}
	if v := rc.p.str("channel_group_id"); utf8.RuneCountInString(v) > maxChannelKeyLen {
		return badRequest("channel_group_id 는 55자 이내여야 합니다.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, cardErr := s.checkCardLocked(rc.p)
	if cardErr != nil {
		return *cardErr
	}
	if gid := rc.p.str("channel_group_id"); gid != "" {
		return s.issueSuperKeyLocked(cuid, gid, d, rc.p)
	}
	ch, badCh := s.channelLocked(rc.p.str("channel_key"))
	if badCh != nil {
		return *badCh
	}
	k := s.issueKeyOnLocked(cuid, d, customerBuyerOf(rc.p), ch)
	k.customerID = rc.p.str("customer_id")
	return ok(renderCustomer(k))
}

// issueSuperKeyLocked issues a super billing key on every channel of the
// group gid and answers with the SuperBillingKey object.
func (s *Server) issueSuperKeyLocked(cuid, gid, digits string, p params) reply {
	keys, okGroup := s.st.groups[gid]
	if !okGroup {
		return bizErr(1, "스마트 라우팅 그룹을 찾을 수 없습니다. (channel_group_id: "+gid+")") // the live text is unconfirmed
	}
	var good []*Channel
	var failed []failedChannel
	for _, key := range keys {
		if ch := s.st.channels[key]; ch != nil {
			good = append(good, ch)
		} else {
			failed = append(failed, failedChannel{typ: "INVALID_REQUEST", message: msgNoChannel, pgProvider: "", pgID: ""})
		}
	}
	if len(good) == 0 {
		return bizErr(-1, "빌링키 발급에 실패하였습니다. (모든 채널 실패)")
	}
	b := customerBuyerOf(p)
	k := s.issueKeyOnLocked(cuid, digits, b, good[0])
	k.customerID, k.groupID, k.failedChannels = p.str("customer_id"), gid, failed
	for _, ch := range good {
		k.superChannels = append(k.superChannels, ch.Key)
	}
	w := wireSuperBillingKey{
		CustomerUID: cuid, ChannelGroupID: gid, CustomerID: nstr(k.customerID),
		CustomerName: nstr(b.name), CustomerTel: nstr(b.tel), CustomerEmail: nstr(b.email),
		CustomerAddr: nstr(b.addr), CustomerPostcode: nstr(b.postcode),
		SucceededChannels: []wireSucceededChannel{}, FailedChannels: []wireFailedChannel{},
	}
	for _, ch := range good {
		w.SucceededChannels = append(w.SucceededChannels, wireSucceededChannel{
			PGProvider: ch.PGProvider, PGID: ch.PGID, CardName: nstr(k.cardName), CardCode: nstr(k.cardCode),
			CardNumber: nstr(k.cardNum), Inserted: unix(k.inserted), Updated: unix(k.updated),
		})
	}
	for _, f := range failed {
		w.FailedChannels = append(w.FailedChannels, wireFailedChannel{Type: f.typ, Message: f.message, PGProvider: f.pgProvider, PGID: f.pgID})
	}
	return ok(w)
}

// DELETE /subscribe/customers/{customer_uid}?reason=&extra[requester]=
func (s *Server) handleDeleteCustomer(rc *reqCtx) reply {
	cuid := rc.r.PathValue("customer_uid")
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.activeKeyLocked(cuid)
	if k == nil {
		return customerNotFound(cuid)
	}
	k.deleted = true
	k.updated = s.now()
	return ok(renderCustomer(k))
}

// GET /subscribe/customers/{customer_uid}/payments?page=N (20 per page)
func (s *Server) handleCustomerPayments(rc *reqCtx) reply {
	cuid := rc.r.PathValue("customer_uid")
	page, _, bad := pageParams(rc.r.URL.Query(), 20, 0)
	if bad != "" {
		return badRequest(bad)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*payment
	for _, p := range s.st.payments {
		if p.customerUID == cuid {
			list = append(list, p)
		}
	}
	if len(list) == 0 && s.st.keys[cuid] == nil {
		return customerNotFound(cuid)
	}
	sortPayments(list, "")
	return ok(pageOf(s.renderPaymentsLocked(list), page, 20))
}
