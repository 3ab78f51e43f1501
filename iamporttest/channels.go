package iamporttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// Channels: the PG channels of the fake's account (GET /users/pg). Every
// payment and billing key belongs to one; a payment on a channel whose
// Sandbox is true is a sandbox payment, which the lookups answer only with
// include_sandbox=true (the API since 2026-01-26).

// The channels a new Server (and a Reset one) has.
const (
	// DefaultChannelKey is the live JTNet channel, used when a request
	// names none.
	DefaultChannelKey = "channel-key-iamporttest-jtnet"
	// SandboxChannelKey is a JTNet test channel: its payments and keys are
	// sandbox ones.
	SandboxChannelKey = "channel-key-iamporttest-jtnet-test"
)

// Channel is one PG channel of the fake's account.
type Channel struct {
	Key        string // channel_key
	Name       string // channel_name
	PGProvider string // e.g. "jtnet", "tosspayments"
	PGID       string // the MID
	Sandbox    bool   // a test channel
}

func defaultChannels() map[string]*Channel {
	return map[string]*Channel{
		DefaultChannelKey: {Key: DefaultChannelKey, Name: "JTNet 정기결제", PGProvider: pgProvider, PGID: pgID},
		SandboxChannelKey: {Key: SandboxChannelKey, Name: "JTNet 정기결제 (테스트)", PGProvider: pgProvider, PGID: pgID, Sandbox: true},
	}
}

// AddChannel adds (or replaces) a channel of the account. Requests may then
// name it by its key (channel_key); a Sandbox channel makes sandbox
// payments and keys. It fails for an empty or over-long key.
func (s *Server) AddChannel(ch Channel) error {
	if ch.Key == "" || utf8.RuneCountInString(ch.Key) > maxChannelKeyLen {
		return errorf("invalid channel key %q", ch.Key)
	}
	if ch.PGProvider == "" {
		ch.PGProvider = pgProvider
	}
	if ch.PGID == "" {
		ch.PGID = pgID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := ch
	s.st.channels[ch.Key] = &c
	return nil
}

// AddChannelGroup defines a smart-routing channel group: issuing a billing
// key with channel_group_id id issues a super billing key on each of these
// channels (failing on those whose key is not a channel).
func (s *Server) AddChannelGroup(id string, channelKeys ...string) error {
	if id == "" || utf8.RuneCountInString(id) > maxChannelKeyLen {
		return errorf("invalid channel group id %q", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.groups[id] = append([]string(nil), channelKeys...)
	return nil
}

// Channels returns the account's channels, by key.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, 0, len(s.st.channels))
	for _, c := range s.st.channels {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

const maxChannelKeyLen = 55

func errorf(format string, args ...any) error { return fmt.Errorf("iamporttest: "+format, args...) }

const msgNoChannel = "채널 정보를 찾을 수 없습니다." // the live text is unconfirmed

// channelLocked resolves a request's channel_key: the default channel for
// "", nil and a refusal for an unknown one.
func (s *Server) channelLocked(key string) (*Channel, *reply) {
	if key == "" {
		return s.st.channels[DefaultChannelKey], nil
	}
	c := s.st.channels[key]
	if c == nil {
		r := bizErr(1, msgNoChannel+" (channel_key: "+key+")")
		return nil, &r
	}
	return c, nil
}

// includeSandbox says whether a lookup asked for sandbox payments.
func includeSandbox(rc *reqCtx) bool {
	v := strings.ToLower(rc.r.URL.Query().Get("include_sandbox"))
	return v == "true" || v == "1"
}

// visible says whether a lookup answers with p.
func visible(p *payment, rc *reqCtx) bool { return !p.sandbox || includeSandbox(rc) }

type wirePGSetting struct {
	PGProvider  string  `json:"pg_provider"`
	PGID        string  `json:"pg_id"`
	Sandbox     bool    `json:"sandbox"`
	Type        string  `json:"type"`
	ChannelName *string `json:"channel_name"`
	ChannelKey  *string `json:"channel_key"`
}

// GET /users/pg
func (s *Server) handleUsersPG(rc *reqCtx) reply {
	out := []wirePGSetting{}
	for _, c := range s.Channels() {
		out = append(out, wirePGSetting{PGProvider: c.PGProvider, PGID: c.PGID, Sandbox: c.Sandbox, Type: "payment", ChannelName: nstr(c.Name), ChannelKey: sptr(c.Key)})
	}
	return ok(out)
}

type wireBalanceDetail struct {
	TaxFree json.Number `json:"tax_free"`
	Supply  json.Number `json:"supply"`
	Vat     json.Number `json:"vat"`
	Service json.Number `json:"service"`
}

type wireBalanceHistory struct {
	CashReceipt wireBalanceDetail `json:"cash_receipt"`
	Primary     wireBalanceDetail `json:"primary"`
	Secondary   wireBalanceDetail `json:"secondary"`
	Discount    wireBalanceDetail `json:"discount"`
	Created     int64             `json:"created"`
}

type wireBalance struct {
	Amount      json.Number          `json:"amount"`
	CashReceipt wireBalanceDetail    `json:"cash_receipt"`
	Primary     wireBalanceDetail    `json:"primary"`
	Secondary   wireBalanceDetail    `json:"secondary"`
	Discount    wireBalanceDetail    `json:"discount"`
	Histories   []wireBalanceHistory `json:"histories"`
}

// balanceDetail splits a KRW amount: tax-free part, then supply and VAT
// (10 %) of the rest.
func balanceDetail(amount, taxFree int64, cur string) wireBalanceDetail {
	taxable := amount - taxFree
	vat := taxable / 11
	return wireBalanceDetail{
		TaxFree: formatAmount(taxFree, cur), Supply: formatAmount(taxable-vat, cur),
		Vat: formatAmount(vat, cur), Service: formatAmount(0, cur),
	}
}

// GET /payments/{imp_uid}/balance
func (s *Server) handleBalance(rc *reqCtx) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.byImp[rc.r.PathValue("imp_uid")]
	if p == nil || !visible(p, rc) {
		return notFound(msgNoPayment)
	}
	zero := balanceDetail(0, 0, p.currency)
	left := p.amount - p.cancelAmount
	tf := min(p.taxFree, left)
	w := wireBalance{
		Amount: formatAmount(left, p.currency), CashReceipt: zero, Primary: balanceDetail(left, tf, p.currency),
		Secondary: zero, Discount: zero, Histories: []wireBalanceHistory{},
	}
	if !p.paidAt.IsZero() {
		w.Histories = append(w.Histories, wireBalanceHistory{CashReceipt: zero, Primary: balanceDetail(p.amount, p.taxFree, p.currency), Secondary: zero, Discount: zero, Created: unix(p.paidAt)})
		rest := p.amount
		for _, c := range p.cancels {
			rest -= c.amount
			w.Histories = append(w.Histories, wireBalanceHistory{CashReceipt: zero, Primary: balanceDetail(rest, min(p.taxFree, rest), p.currency), Secondary: zero, Discount: zero, Created: unix(c.at)})
		}
	}
	return ok(w)
}

// ---- what the fake received ----

// Received is one request as the fake received it, for tests that check
// what a client sent.
type Received struct {
	Route  string         // e.g. "POST /subscribe/payments/again"
	Method string         // HTTP method
	Path   string         // the URL path
	Query  url.Values     // the query
	Body   map[string]any // a JSON body, numbers as json.Number; nil for a form or no body
	Form   url.Values     // a form body; nil for JSON
}

// maxReceived is how many requests per route the fake remembers (the
// latest).
const maxReceived = 1000

func (s *Server) recordLocked(route string, r *http.Request, p params) {
	rec := Received{Route: route, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: p.js, Form: p.form}
	list := append(s.st.received[route], rec)
	if len(list) > maxReceived {
		list = append([]Received(nil), list[len(list)-maxReceived:]...)
	}
	s.st.received[route] = list
}

// Received returns the requests received on route (a route string such as
// [RouteAgain]), oldest first; at most the latest 1,000 per route.
func (s *Server) Received(route string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.st.received[route]...)
}

// LastReceived returns the latest request received on route.
func (s *Server) LastReceived(route string) (Received, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.st.received[route]
	if len(list) == 0 {
		return Received{}, false
	}
	return list[len(list)-1], true
}

// ---- bare-array schedule lists ----

// SetBareScheduleLists makes the schedule list endpoints answer as the spec
// documents them, a bare array of all matching schedules (one page), rather
// than the paged object {total, previous, next, list} that the official
// clients and a live test decode. Both shapes occur; clients must read
// both.
func (s *Server) SetBareScheduleLists(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.bareScheduleLists = on
}
