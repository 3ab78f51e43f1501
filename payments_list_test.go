package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seenRequest is one API call as the mock saw it (getToken excluded).
type seenRequest struct {
	Method string
	Path   string // escaped
	Query  url.Values
	Body   []byte
	Auth   string
	CT     string
}

func (s seenRequest) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(s.Body, &m), string(s.Body))
	return m
}

// apiLog records the calls the client made.
type apiLog struct {
	mu   sync.Mutex
	reqs []seenRequest
}

func (l *apiLog) all() []seenRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]seenRequest(nil), l.reqs...)
}

func (l *apiLog) count() int { return len(l.all()) }

// routedClient is a client on an httpmock transport (getToken answered by
// mockClient) whose every other call goes to h, after being recorded.
func routedClient(t *testing.T, h func(r seenRequest) *http.Response, opts ...Option) (*Client, *apiLog) {
	t.Helper()
	c, mt, _ := mockClient(t, opts...)
	log := &apiLog{}
	responder := func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
		}
		sr := seenRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Body: body,
			Auth: r.Header.Get("Authorization"), CT: r.Header.Get("Content-Type")}
		log.mu.Lock()
		log.reqs = append(log.reqs, sr)
		log.mu.Unlock()
		resp := h(sr)
		if resp == nil {
			return nil, errors.New("connection reset by peer")
		}
		return resp, nil
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		mt.RegisterResponder(m, `=~^https://api\.iamport\.kr/(payments|subscribe)`, responder)
	}
	return c, log
}

// testdataResponse is the "response" of an envelope stored in testdata.
func testdataResponse(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var env struct {
		Response json.RawMessage `json:"response"`
	}
	require.NoError(t, json.Unmarshal(b, &env))
	return env.Response
}

func ok200(response any) *http.Response { return envelopeReply(http.StatusOK, 0, "", response) }

// pageBody is the paged list object the API answers.
func pageBody(list any, total, page, next int) map[string]any {
	prev := 0
	if page > 1 {
		prev = page - 1
	}
	return map[string]any{"total": total, "previous": prev, "next": next, "list": list}
}

func TestGetPaymentsChunksAndPartials(t *testing.T) {
	t.Parallel()
	unknown := map[string]bool{"imp_5": true, "imp_150": true, "imp_249": true}
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		ids := r.Query["imp_uid[]"]
		var found []any
		for _, id := range ids {
			if !unknown[id] {
				found = append(found, paymentJSON(id, "m_"+id, "c", 1000, "paid"))
			}
		}
		if len(found) < len(ids) {
			return envelopeReply(http.StatusMultiStatus, 0, "", found)
		}
		return ok200(found)
	})
	var ids []string
	for i := range 250 {
		ids = append(ids, fmt.Sprintf("imp_%d", i))
	}
	ids = append(ids, "imp_7") // a repeat is asked for once
	ps, err := c.GetPayments(context.Background(), ids)
	require.NoError(t, err)
	require.Len(t, ps, 247)
	reqs := log.all()
	require.Len(t, reqs, 3)
	total := 0
	for _, r := range reqs {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/payments", r.Path)
		assert.Equal(t, "Bearer "+testToken, r.Auth)
		assert.LessOrEqual(t, len(r.Query["imp_uid[]"]), 100)
		total += len(r.Query["imp_uid[]"])
	}
	assert.Equal(t, 250, total)
	// Input order, unknown ones absent.
	j := 0
	for _, id := range ids[:250] {
		if unknown[id] {
			continue
		}
		assert.Equal(t, id, ps[j].ImpUID)
		j++
	}
}

func TestGetPaymentsChunkWithNoneFound(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Query["imp_uid[]"][0] == "imp_100" {
			return envelopeReply(http.StatusNotFound, -1, "존재하지 않는 결제정보입니다.", nil)
		}
		var found []any
		for _, id := range r.Query["imp_uid[]"] {
			found = append(found, paymentJSON(id, "m", "c", 1, "paid"))
		}
		return ok200(found)
	})
	var ids []string
	for i := range 150 {
		ids = append(ids, fmt.Sprintf("imp_%d", i))
	}
	ps, err := c.GetPayments(context.Background(), ids)
	require.NoError(t, err)
	assert.Len(t, ps, 100)
	assert.Equal(t, 2, log.count())

	// An empty list sends nothing; a bad id is refused before sending.
	ps, err = c.GetPayments(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, ps)
	_, err = c.GetPayments(context.Background(), []string{"imp_1", " "})
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, 2, log.count())
}

func TestGetPaymentsErrorIsReturned(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		return envelopeReply(http.StatusBadRequest, -1, "잘못된 요청", nil)
	})
	_, err := c.GetPayments(context.Background(), []string{"imp_1"})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, 1, log.count())
}

func TestPaymentDecodingFromTestdata(t *testing.T) {
	t.Parallel()
	files := map[string]json.RawMessage{
		"imp_448280090638": testdataResponse(t, "payment_card_cancelled.json"),
		"imp_910000000001": testdataResponse(t, "payment_paypal_usd.json"),
		"imp_920000000002": testdataResponse(t, "payment_vbank_paid.json"),
	}
	c, _ := routedClient(t, func(r seenRequest) *http.Response {
		var list []json.RawMessage
		for _, id := range r.Query["imp_uid[]"] {
			list = append(list, files[id])
		}
		return ok200(list)
	})
	ps, err := c.GetPayments(context.Background(), []string{"imp_448280090638", "imp_910000000001", "imp_920000000002"})
	require.NoError(t, err)
	require.Len(t, ps, 3)

	card := ps[0]
	assert.Equal(t, "imp_448280090638", card.ImpUID)
	assert.Equal(t, "sub_2024-05_cust/1", card.MerchantUID)
	assert.Equal(t, "card", card.PayMethod)
	assert.Equal(t, "api", card.Channel)
	assert.Equal(t, "jtnet", card.PGProvider)
	assert.Equal(t, "", card.EmbPGProvider)
	assert.Equal(t, "tpaytest0m01012405011200123456", card.PGTID)
	assert.Equal(t, "tpaytest0m", card.PGID)
	assert.True(t, card.Sandbox)
	assert.False(t, card.Escrow)
	assert.Equal(t, "30012345", card.ApplyNum)
	assert.Equal(t, "366", card.CardCode)
	assert.Equal(t, "신한카드", card.CardName)
	assert.Equal(t, "366", card.CardIssuerCode)
	assert.Equal(t, "신한카드", card.CardIssuerName)
	assert.Equal(t, "366", card.CardPublisherCode)
	assert.Equal(t, "신한카드", card.CardPublisherName)
	assert.Equal(t, 0, card.CardQuota)
	assert.Equal(t, "409202******5678", card.CardNumber)
	assert.Nil(t, card.CardType, "card_type null (JTNet)")
	assert.True(t, card.VbankDate.IsZero())
	assert.True(t, card.VbankIssuedAt.IsZero())
	assert.Equal(t, "월간 구독 (5월)", card.Name)
	assert.Equal(t, int64(9900), card.Amount)
	assert.Equal(t, int64(3000), card.CancelAmount)
	assert.Equal(t, int64(6900), card.Refundable())
	assert.Equal(t, "KRW", card.Currency)
	assert.Equal(t, "홍길동", card.BuyerName)
	assert.Equal(t, "gildong@example.com", card.BuyerEmail)
	assert.Equal(t, "010-1234-5678", card.BuyerTel)
	assert.Equal(t, "서울특별시 강남구 테헤란로 1", card.BuyerAddr)
	assert.Equal(t, "06236", card.BuyerPostcode)
	assert.Equal(t, `{"plan":"monthly"}`, card.CustomData)
	assert.Equal(t, "sorry_not_supported", card.UserAgent)
	assert.Equal(t, PaymentCancelled, card.Status)
	assert.False(t, card.IsPaid())
	assert.Equal(t, time.Unix(1714532400, 0), card.StartedAt)
	assert.Equal(t, time.Unix(1714532402, 0), card.PaidAt)
	assert.True(t, card.FailedAt.IsZero(), "failed_at 0 is the zero time")
	assert.Equal(t, time.Unix(1714618800, 0), card.CancelledAt)
	assert.Equal(t, "", card.FailReason)
	assert.Equal(t, "부분 환불", card.CancelReason)
	assert.Contains(t, card.ReceiptURL, "tpaytest0m01012405011200123456")
	require.Len(t, card.CancelHistory, 2)
	assert.Equal(t, PaymentCancel{PGTID: "tpaytest0m01012405021200000002", Amount: 2000, CancelledAt: time.Unix(1714618800, 0),
		Reason: "부분 환불", CancellationID: "cancel_4d5e6f", ReceiptURL: "https://webtx.tpay.co.kr/receipt_card?tid=c2"}, card.CancelHistory[1])
	assert.Equal(t, int64(1000), card.CancelHistory[0].Amount)
	assert.Len(t, card.CancelReceiptURLs, 2)
	assert.False(t, card.CashReceiptIssued)
	assert.Equal(t, "cust/1", card.CustomerUID)
	assert.Equal(t, "payment.scheduled", card.CustomerUIDUsage)
	assert.JSONEq(t, `{"id":"promo_1","discount":1000}`, string(card.Promotion))

	usd := ps[1]
	assert.Equal(t, "USD", usd.Currency)
	assert.Equal(t, int64(1050), usd.Amount, "10.5 USD is 1050 cents")
	assert.Equal(t, int64(25), usd.CancelAmount)
	require.Len(t, usd.CancelHistory, 1)
	assert.Equal(t, int64(25), usd.CancelHistory[0].Amount)
	require.NotNil(t, usd.CardType)
	assert.Equal(t, 0, *usd.CardType)
	assert.Equal(t, "", usd.CustomerUID, "customer_uid null")
	assert.Equal(t, "", usd.CustomerUIDUsage)
	assert.Equal(t, "", usd.BuyerTel)

	vb := ps[2]
	assert.Equal(t, "vbank", vb.PayMethod)
	assert.Equal(t, "004", vb.BankCode)
	assert.Equal(t, "KB국민은행", vb.BankName)
	assert.Equal(t, "004", vb.VbankCode)
	assert.Equal(t, "KB국민은행", vb.VbankName)
	assert.Equal(t, "12345678901234", vb.VbankNum)
	assert.Equal(t, "(주)빌링", vb.VbankHolder)
	assert.Equal(t, time.Unix(1714705200, 0), vb.VbankDate)
	assert.Equal(t, time.Unix(1714532400, 0), vb.VbankIssuedAt)
	assert.True(t, vb.Escrow)
	assert.True(t, vb.CashReceiptIssued)
	assert.True(t, vb.IsPaid())
	require.Len(t, vb.DepositHistory, 1)
	assert.Equal(t, VbankDeposit{PGTID: "dep_1", Amount: 99000, DepositorName: "김철수", DepositedAt: time.Unix(1714600000, 0)}, vb.DepositHistory[0])
	assert.True(t, vb.CancelledAt.IsZero())
}

func TestPaymentDecodingRejectsFractionalKRW(t *testing.T) {
	t.Parallel()
	c, _ := routedClient(t, func(r seenRequest) *http.Response {
		p := paymentJSON("imp_1", "m", "c", 1, "paid")
		p["amount"] = json.Number("10.5") // KRW has no minor unit
		return ok200([]any{p})
	})
	_, err := c.GetPayments(context.Background(), []string{"imp_1"})
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "amount")
}

// servePayments answers a paged list of n payments, size per page. The
// bodies are written as text (not through maps and encoding/json), which
// keeps thousands of payments cheap under the race detector.
func servePayments(n, size int, prefix string) func(page int) *http.Response {
	return func(page int) *http.Response {
		var b strings.Builder
		now := time.Now().Unix()
		for i := (page - 1) * size; i < min(page*size, n); i++ {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"imp_uid":"%s%05d","merchant_uid":"m_1","customer_uid":"c","pay_method":"card","pg_provider":"jtnet",`+
				`"amount":100,"cancel_amount":0,"currency":"KRW","status":"paid","card_type":null,"started_at":%d,"paid_at":%d,`+
				`"failed_at":0,"cancelled_at":0,"cancel_history":[]}`, prefix, i, now, now)
		}
		next := page + 1
		if page*size >= n {
			next = 0
		}
		prev := max(page-1, 0)
		body := fmt.Sprintf(`{"code":0,"message":null,"response":{"total":%d,"previous":%d,"next":%d,"list":[%s]}}`, n, prev, next, b.String())
		resp := httpmock.NewStringResponse(http.StatusOK, body)
		resp.Header.Set("Content-Type", "application/json; charset=utf-8")
		return resp
	}
}

func pageOf(t *testing.T, r seenRequest) int {
	t.Helper()
	p, err := strconv.Atoi(r.Query.Get("page"))
	require.NoError(t, err)
	return p
}

func TestFindPaymentsPages(t *testing.T) {
	t.Parallel()
	serve := servePayments(2500, 1000, "imp_")
	c, log := routedClient(t, func(r seenRequest) *http.Response { return serve(pageOf(t, r)) })

	n := 0
	for p, err := range c.FindPayments(context.Background(), "sub/2024 05") {
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("imp_%05d", n), p.ImpUID)
		n++
	}
	assert.Equal(t, 2500, n)
	reqs := log.all()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		assert.Equal(t, "/payments/findAll/sub%2F2024%2005", r.Path)
		assert.Equal(t, strconv.Itoa(i+1), r.Query.Get("page"))
		assert.Equal(t, "Bearer "+testToken, r.Auth)
	}
}

func TestFindPaymentsBreakFetchesOnePage(t *testing.T) {
	t.Parallel()
	serve := servePayments(2500, 1000, "imp_")
	c, log := routedClient(t, func(r seenRequest) *http.Response { return serve(pageOf(t, r)) })
	seq := c.FindPayments(context.Background(), "m_1")
	assert.Equal(t, 0, log.count(), "nothing is fetched before the loop")
	n := 0
	for _, err := range seq {
		require.NoError(t, err)
		if n++; n == 10 {
			break
		}
	}
	assert.Equal(t, 1, log.count())
}

func TestFindPaymentsErrorOnPage2(t *testing.T) {
	t.Parallel()
	serve := servePayments(2500, 1000, "imp_")
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if pageOf(t, r) == 2 {
			return envelopeReply(http.StatusBadRequest, -1, "page 파라메터가 올바르지 않습니다.", nil)
		}
		return serve(pageOf(t, r))
	})
	items, errs := 0, 0
	for p, err := range c.FindPayments(context.Background(), "m_1") {
		if err != nil {
			errs++
			var ae *APIError
			assert.ErrorAs(t, err, &ae)
			assert.Nil(t, p)
			continue
		}
		items++
	}
	assert.Equal(t, 1000, items)
	assert.Equal(t, 1, errs)
	assert.Equal(t, 2, log.count())
}

func TestFindPaymentsNoneAndBareArray(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Path == "/payments/findAll/none" {
			return envelopeReply(http.StatusNotFound, -1, "존재하지 않는 결제정보입니다.", nil)
		}
		// A bare array is one page: no second request.
		return ok200([]any{paymentJSON("imp_1", "arr", "c", 1, "failed"), paymentJSON("imp_2", "arr", "c", 1, "paid")})
	})
	for range c.FindPayments(context.Background(), "none") {
		t.Fatal("no payment expected")
	}
	var got []string
	for p, err := range c.FindPayments(context.Background(), "arr") {
		require.NoError(t, err)
		got = append(got, p.ImpUID)
	}
	assert.Equal(t, []string{"imp_1", "imp_2"}, got)
	assert.Equal(t, 2, log.count())

	for _, err := range c.FindPayments(context.Background(), "") {
		require.ErrorIs(t, err, ErrInvalidRequest)
	}
	assert.Equal(t, 2, log.count())
}

func TestPaymentsByStatusWindows(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_720_000_000, 0)
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		from, _ := strconv.ParseInt(r.Query.Get("from"), 10, 64)
		// Every window repeats one payment on its second page (as an
		// offset list does when a payment arrives between two fetches).
		page := pageOf(t, r)
		id := fmt.Sprintf("imp_%d", from)
		if page == 1 {
			return ok200(pageBody([]any{paymentJSON(id, "m", "c", 1, "paid")}, 2, 1, 2))
		}
		return ok200(pageBody([]any{paymentJSON(id, "m", "c", 1, "paid"), paymentJSON(id+"_b", "m", "c", 1, "paid")}, 2, 2, 0))
	}, withClock(func() time.Time { return now }, realClock().sleep))

	var got []string
	for p, err := range c.PaymentsByStatus(context.Background(), "", nil) {
		require.NoError(t, err)
		got = append(got, p.ImpUID)
	}
	reqs := log.all()
	require.Len(t, reqs, 4, "90 days = two windows of two pages")
	assert.Len(t, got, 4, "the repeated payment is yielded once per window")
	type win struct{ from, to int64 }
	var wins []win
	for _, r := range reqs {
		assert.Equal(t, "/payments/status/all", r.Path)
		f, _ := strconv.ParseInt(r.Query.Get("from"), 10, 64)
		to, _ := strconv.ParseInt(r.Query.Get("to"), 10, 64)
		assert.LessOrEqual(t, to-f, int64(89*86400))
		if r.Query.Get("page") == "1" {
			wins = append(wins, win{f, to})
		}
	}
	require.Len(t, wins, 2)
	assert.Equal(t, now.Unix(), wins[0].to, "zero To is now; newest window first")
	assert.Equal(t, now.Add(-90*24*time.Hour).Unix(), wins[1].from, "zero From is To − 90 days")
	assert.Equal(t, wins[0].from-1, wins[1].to, "inclusive bounds: windows share no second")
}

func TestPaymentsByStatusOptions(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		return ok200(pageBody([]any{}, 0, 1, 0))
	})
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	opts := &PaymentListOptions{From: from, To: to, Limit: 1000, Sorting: "-paid"}
	for _, err := range c.PaymentsByStatus(context.Background(), PaymentPaid, opts) {
		require.NoError(t, err)
	}
	reqs := log.all()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/payments/status/paid", reqs[0].Path)
	assert.Equal(t, url.Values{"page": {"1"}, "limit": {"1000"}, "from": {strconv.FormatInt(from.Unix(), 10)},
		"to": {strconv.FormatInt(to.Unix(), 10)}, "sorting": {"-paid"}}, reqs[0].Query)
	assert.Equal(t, from, opts.From, "the caller's options are not modified")

	bad := []struct {
		status PaymentStatus
		opts   *PaymentListOptions
		field  string
	}{
		{"paidd", nil, "payment_status"},
		{"", &PaymentListOptions{Limit: 1001}, "limit"},
		{"", &PaymentListOptions{Sorting: "newest"}, "sorting"},
		{"", &PaymentListOptions{From: to, To: from}, "from"},
	}
	for _, tc := range bad {
		n := 0
		for p, err := range c.PaymentsByStatus(context.Background(), tc.status, tc.opts) {
			n++
			assert.Nil(t, p)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
		}
		assert.Equal(t, 1, n)
	}
	assert.Equal(t, 1, log.count(), "bad input sends nothing")
}

func TestPaymentsByStatusLongRange(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		to := r.Query.Get("to")
		return ok200(pageBody([]any{paymentJSON("imp_"+to, "m", "c", 1, "paid")}, 1, 1, 0))
	})
	from := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // 365 days → 5 windows
	n := 0
	for _, err := range c.PaymentsByStatus(context.Background(), PaymentCancelled, &PaymentListOptions{From: from, To: to}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 5, n)
	reqs := log.all()
	require.Len(t, reqs, 5)
	covered := int64(0)
	for i, r := range reqs {
		f, _ := strconv.ParseInt(r.Query.Get("from"), 10, 64)
		tt, _ := strconv.ParseInt(r.Query.Get("to"), 10, 64)
		covered += tt - f + 1
		if i > 0 {
			prevFrom, _ := strconv.ParseInt(reqs[i-1].Query.Get("from"), 10, 64)
			assert.Equal(t, prevFrom-1, tt)
		}
	}
	assert.Equal(t, to.Unix()-from.Unix()+1, covered, "every second of [from, to] exactly once")
}
