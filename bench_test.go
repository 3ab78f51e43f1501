package iamport_test

// Benchmarks of the SDK's request path against a hand-written net/http +
// encoding/json client of the same endpoint on the same loopback server, of
// the token cache, and of a 100,000-payment listing. The figures and the
// commands that produce them are in BENCHMARKS.md.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
)

const (
	benchToken      = "bench_token_0123456789abcdef0123456789"
	benchListPages  = 100
	benchListLimit  = 1000
	benchListTotal  = benchListPages * benchListLimit
	benchMerchantID = "bill_aqydoiaqa2yz3bkjs2irh34yhn"
)

// benchPaymentJSON is a realistic paid JTNet billing-key payment as the API
// sends it (nulls where the API has them).
func benchPaymentJSON(impUID, merchantUID string) map[string]any {
	return map[string]any{
		"imp_uid": impUID, "merchant_uid": merchantUID, "pay_method": "card", "channel": "api",
		"pg_provider": "jtnet", "emb_pg_provider": nil, "pg_tid": "tpaytest0m01261127134500000042", "pg_id": "tpaytest0m",
		"sandbox": false, "escrow": false, "apply_num": "30001234", "bank_code": nil, "bank_name": nil,
		"card_code": "366", "card_name": "신한카드", "card_issuer_code": "366", "card_issuer_name": "신한카드",
		"card_publisher_code": "366", "card_publisher_name": "신한카드", "card_quota": 0,
		"card_number": "4092-02**-****-5678", "card_type": nil,
		"vbank_code": nil, "vbank_name": nil, "vbank_num": nil, "vbank_holder": nil, "vbank_date": 0, "vbank_issued_at": 0,
		"name": "Pro 플랜 월간 구독", "amount": 9900, "cancel_amount": 0, "currency": "KRW",
		"buyer_name": "홍길동", "buyer_email": "gildong@example.com", "buyer_tel": "010-1234-5678",
		"buyer_addr": "서울특별시 강남구 테헤란로 123", "buyer_postcode": "06236",
		"custom_data": `{"plan":"pro","period":"2026-11"}`, "user_agent": "sorry_not_supported", "status": "paid",
		"started_at": 1795868700, "paid_at": 1795868701, "failed_at": 0, "cancelled_at": 0,
		"fail_reason": nil, "cancel_reason": nil, "receipt_url": "https://webtx.tpay.co.kr/receipt_card?tid=tpaytest0m01261127134500000042",
		"cancel_history": []any{}, "deposit_history": []any{}, "cancel_receipt_urls": []any{}, "cash_receipt_issued": false,
		"customer_uid": "cust_00042", "customer_uid_usage": "payment", "promotion": nil,
	}
}

func benchEnvelope(resp any) []byte {
	b, err := json.Marshal(map[string]any{"code": 0, "message": nil, "response": resp})
	if err != nil {
		panic(err)
	}
	return b
}

// benchServer is the loopback stub both clients talk to.
type benchServer struct {
	*httptest.Server
	tokenCalls atomic.Int64
	tokenDelay time.Duration

	pageOnce sync.Once
	pageTmpl []byte // one page's list, ids as placeholders
	pageIDs  []int  // offsets of the ids' digits in pageTmpl (imp_uid, merchant_uid of each payment)
	pagePool sync.Pool
}

func newBenchServer(tb testing.TB) *benchServer {
	tb.Helper()
	s := &benchServer{}
	payment := benchEnvelope(benchPaymentJSON("imps_410186128831", benchMerchantID))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users/getToken", func(w http.ResponseWriter, r *http.Request) {
		s.tokenCalls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if s.tokenDelay > 0 {
			time.Sleep(s.tokenDelay)
		}
		now := time.Now().Unix()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(benchEnvelope(map[string]any{"access_token": benchToken, "now": now, "expired_at": now + 1800}))
	})
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+benchToken {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"code":-1,"message":"Unauthorized","response":null}`))
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			h(w, r)
		}
	}
	mux.HandleFunc("GET /payments/{imp_uid}", authed(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(payment)
	}))
	mux.HandleFunc("POST /subscribe/payments/again", authed(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(payment)
	}))
	mux.HandleFunc("GET /payments/status/{status}", authed(s.servePage))
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// servePage writes page N of a 100-page list of 1,000 distinct payments.
// The list is rendered once as a template; each page copies it into a
// pooled buffer and patches the fixed-width ids in place, so the stub
// costs little CPU and its own garbage stays small next to what the client
// under test keeps.
func (s *benchServer) servePage(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 || page > benchListPages {
		_, _ = fmt.Fprintf(w, `{"code":0,"message":null,"response":{"total":%d,"previous":%d,"next":0,"list":[]}}`, benchListTotal, page-1)
		return
	}
	s.pageOnce.Do(s.buildPageTemplate)
	buf, _ := s.pagePool.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer s.pagePool.Put(buf)
	next := page + 1
	if page >= benchListPages {
		next = 0
	}
	b := fmt.Appendf((*buf)[:0], `{"code":0,"message":null,"response":{"total":%d,"previous":%d,"next":%d,"list":`, benchListTotal, page-1, next)
	off := len(b)
	b = append(b, s.pageTmpl...)
	for i, at := range s.pageIDs {
		n := (page-1)*benchListLimit + i/2
		digits := b[off+at : off+at+12]
		for j := 11; j >= 0; j-- {
			digits[j] = byte('0' + n%10)
			n /= 10
		}
	}
	b = append(b, "}}"...)
	*buf = b
	_, _ = w.Write(b)
}

// buildPageTemplate renders the 1,000 payments of a page with placeholder
// ids and records where each id's 12 digits are.
func (s *benchServer) buildPageTemplate() {
	const ph = "999999999999"
	list := make([]map[string]any, benchListLimit)
	for i := range list {
		list[i] = benchPaymentJSON("imps_"+ph, "bill_00000000000000"+ph)
	}
	tmpl, err := json.Marshal(list)
	if err != nil {
		panic(err)
	}
	for i := 0; ; {
		j := bytes.Index(tmpl[i:], []byte(ph))
		if j < 0 {
			break
		}
		s.pageIDs = append(s.pageIDs, i+j)
		i += j + len(ph)
	}
	if len(s.pageIDs) != 2*benchListLimit {
		panic(fmt.Sprintf("template has %d ids", len(s.pageIDs)))
	}
	s.pageTmpl = tmpl
}

func benchTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 512
	return tr
}

func benchSDK(tb testing.TB, s *benchServer, opts ...iamport.Option) *iamport.Client {
	tb.Helper()
	all := append([]iamport.Option{iamport.WithBaseURL(s.URL), iamport.WithHTTPClient(&http.Client{Transport: benchTransport()})}, opts...)
	c, err := iamport.NewClient("bench_key", "bench_secret", all...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// handPayment is what a hand-written client would decode: the same fields,
// with the wire's own types.
type handPayment struct {
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
	CardNumber        string          `json:"card_number"`
	CardType          *int            `json:"card_type"`
	VbankCode         string          `json:"vbank_code"`
	VbankName         string          `json:"vbank_name"`
	VbankNum          string          `json:"vbank_num"`
	VbankHolder       string          `json:"vbank_holder"`
	VbankDate         int64           `json:"vbank_date"`
	VbankIssuedAt     int64           `json:"vbank_issued_at"`
	Name              string          `json:"name"`
	Amount            json.Number     `json:"amount"`
	CancelAmount      json.Number     `json:"cancel_amount"`
	Currency          string          `json:"currency"`
	BuyerName         string          `json:"buyer_name"`
	BuyerEmail        string          `json:"buyer_email"`
	BuyerTel          string          `json:"buyer_tel"`
	BuyerAddr         string          `json:"buyer_addr"`
	BuyerPostcode     string          `json:"buyer_postcode"`
	CustomData        string          `json:"custom_data"`
	UserAgent         string          `json:"user_agent"`
	Status            string          `json:"status"`
	StartedAt         int64           `json:"started_at"`
	PaidAt            int64           `json:"paid_at"`
	FailedAt          int64           `json:"failed_at"`
	CancelledAt       int64           `json:"cancelled_at"`
	FailReason        string          `json:"fail_reason"`
	CancelReason      string          `json:"cancel_reason"`
	ReceiptURL        string          `json:"receipt_url"`
	CancelHistory     []handCancel    `json:"cancel_history"`
	CancelReceiptURLs []string        `json:"cancel_receipt_urls"`
	CashReceiptIssued bool            `json:"cash_receipt_issued"`
	CustomerUID       string          `json:"customer_uid"`
	CustomerUIDUsage  string          `json:"customer_uid_usage"`
	Promotion         json.RawMessage `json:"promotion"`
}

type handCancel struct {
	PGTID       string      `json:"pg_tid"`
	Amount      json.Number `json:"amount"`
	CancelledAt int64       `json:"cancelled_at"`
	Reason      string      `json:"reason"`
	ReceiptURL  string      `json:"receipt_url"`
}

type handEnvelope struct {
	Code     int          `json:"code"`
	Message  *string      `json:"message"`
	Response *handPayment `json:"response"`
}

// handClient is the hand-written baseline: one request, token header, JSON
// decode of the envelope, body drained for connection reuse.
type handClient struct {
	hc   *http.Client
	base string
}

func (h *handClient) do(ctx context.Context, method, url string, body []byte) (*handPayment, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env handEnvelope
	err = json.NewDecoder(resp.Body).Decode(&env)
	_, _ = io.Copy(io.Discard, resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || env.Code != 0 || env.Response == nil {
		return nil, fmt.Errorf("HTTP %d code %d", resp.StatusCode, env.Code)
	}
	return env.Response, nil
}

func (h *handClient) getPayment(ctx context.Context, impUID string) (*handPayment, error) {
	return h.do(ctx, http.MethodGet, h.base+"/payments/"+impUID, nil)
}

type handAgainBody struct {
	CustomerUID string      `json:"customer_uid"`
	MerchantUID string      `json:"merchant_uid"`
	Amount      json.Number `json:"amount"`
	Name        string      `json:"name,omitempty"`
	BuyerEmail  string      `json:"buyer_email,omitempty"`
}

func (h *handClient) againPayment(ctx context.Context, b *handAgainBody) (*handPayment, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return h.do(ctx, http.MethodPost, h.base+"/subscribe/payments/again", body)
}

// processCPU is the process's user+system CPU time from /proc/self/stat
// (Linux; ok is false elsewhere), in clock ticks of 10ms. Wall-clock ns/op
// on a shared machine is at the mercy of its other load; CPU time per op,
// client and stub server together, much less so.
func processCPU() (d time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// reportCPU adds the cpu-ns/op metric: process CPU per operation.
func reportCPU(b *testing.B, start time.Duration, ok bool) {
	if end, ok2 := processCPU(); ok && ok2 && b.N > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkGetPayment: one GET /payments/{imp_uid} with a cached token.
func BenchmarkGetPayment(b *testing.B) {
	s := newBenchServer(b)
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c := benchSDK(b, s)
		if _, err := c.GetPayment(ctx, "imps_410186128831"); err != nil { // warm the token
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu, ok := processCPU()
		for range b.N {
			p, err := c.GetPayment(ctx, "imps_410186128831")
			if err != nil || p.Amount != 9900 {
				b.Fatal(p, err)
			}
		}
		reportCPU(b, cpu, ok)
	})
	b.Run("hand", func(b *testing.B) {
		h := &handClient{hc: &http.Client{Transport: benchTransport()}, base: s.URL}
		b.ReportAllocs()
		b.ResetTimer()
		cpu, ok := processCPU()
		for range b.N {
			p, err := h.getPayment(ctx, "imps_410186128831")
			if err != nil || p.Amount != "9900" {
				b.Fatal(p, err)
			}
		}
		reportCPU(b, cpu, ok)
	})
}

// BenchmarkAgainPayment: one POST /subscribe/payments/again answered paid.
func BenchmarkAgainPayment(b *testing.B) {
	s := newBenchServer(b)
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c := benchSDK(b, s)
		req := &iamport.AgainPaymentRequest{CustomerUID: "cust_00042", MerchantUID: benchMerchantID, Amount: 9900, Name: "Pro 플랜 월간 구독", BuyerEmail: "gildong@example.com"}
		if _, err := c.AgainPayment(ctx, req); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu, ok := processCPU()
		for range b.N {
			p, err := c.AgainPayment(ctx, req)
			if err != nil || !p.IsPaid() {
				b.Fatal(p, err)
			}
		}
		reportCPU(b, cpu, ok)
	})
	b.Run("hand", func(b *testing.B) {
		h := &handClient{hc: &http.Client{Transport: benchTransport()}, base: s.URL}
		body := &handAgainBody{CustomerUID: "cust_00042", MerchantUID: benchMerchantID, Amount: "9900", Name: "Pro 플랜 월간 구독", BuyerEmail: "gildong@example.com"}
		b.ReportAllocs()
		b.ResetTimer()
		cpu, ok := processCPU()
		for range b.N {
			p, err := h.againPayment(ctx, body)
			if err != nil || p.Status != "paid" {
				b.Fatal(p, err)
			}
		}
		reportCPU(b, cpu, ok)
	})
}

// BenchmarkTokenSequential: 10,000 sequential calls on a new client; the
// metric getToken/op is how many getToken requests one such run sends
// (the target is 1).
func BenchmarkTokenSequential(b *testing.B) {
	s := newBenchServer(b)
	ctx := context.Background()
	before := s.tokenCalls.Load()
	for range b.N {
		c := benchSDK(b, s)
		for range 10_000 {
			if _, err := c.GetPayment(ctx, "imps_410186128831"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(s.tokenCalls.Load()-before)/float64(b.N), "getToken/op")
	b.ReportMetric(10_000, "calls/op")
}

// BenchmarkTokenColdConcurrent: 256 goroutines released at once on a new
// client with no token; getToken answers after 5ms, so they all find no
// token. getToken/op is how many getToken requests they caused (target 1).
func BenchmarkTokenColdConcurrent(b *testing.B) {
	s := newBenchServer(b)
	s.tokenDelay = 5 * time.Millisecond
	ctx := context.Background()
	before := s.tokenCalls.Load()
	for range b.N {
		c := benchSDK(b, s)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 256)
		for range 256 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := c.GetPayment(ctx, "imps_410186128831"); err != nil {
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.tokenCalls.Load()-before)/float64(b.N), "getToken/op")
	b.ReportMetric(256, "callers/op")
}

// BenchmarkPaymentsByStatus100k iterates 100,000 payments (100 pages of
// 1,000) with PaymentsByStatus. Metrics: peak-heap-MiB, the highest heap in
// use (live and not yet collected objects, sampled every 250µs through
// runtime/metrics, which does not stop the world) above the heap before the
// walk; live-heap-MiB, the heap still reachable at the last payment (after
// a forced GC there); the stub server's pooled page buffer (≈ 1.4 MiB) is
// included in both.
func BenchmarkPaymentsByStatus100k(b *testing.B) {
	s := newBenchServer(b)
	ctx := context.Background()
	c := benchSDK(b, s)
	to := time.Now()
	opts := &iamport.PaymentListOptions{From: to.Add(-24 * time.Hour), To: to, Limit: benchListLimit}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heapNow := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var peakMax, liveMax uint64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		base := heapNow()
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(250 * time.Microsecond)
			defer t.Stop()
			s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			for {
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		n := 0
		var sumAmount int64
		for p, err := range c.PaymentsByStatus(ctx, iamport.PaymentPaid, opts) {
			if err != nil {
				b.Fatal(err)
			}
			n++
			sumAmount += p.Amount
			if n == benchListTotal {
				runtime.GC()
				if h := heapNow(); h > base {
					liveMax = max(liveMax, h-base)
				}
			}
		}
		close(stop)
		<-sampled
		if n != benchListTotal || sumAmount != 9900*benchListTotal {
			b.Fatalf("got %d payments, sum %d", n, sumAmount)
		}
		if p := peak.Load(); p > base {
			peakMax = max(peakMax, p-base)
		}
	}
	b.ReportMetric(float64(peakMax)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(liveMax)/(1<<20), "live-heap-MiB")
	b.ReportMetric(benchListTotal, "payments/op")
}
