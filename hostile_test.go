package iamport_test

// Hostile tests of the money engine (issue 8): each reproduced case as a
// table, through the public API only, against the hostile server of
// hostile_server_test.go. Each asserts the true outcome of the charge or
// cancel and counts the money POSTs the server received (exactly one per
// money write).
//
//	1 TestHostileProxyNotFoundIsNotAbsence  a proxy's 404 / a 5xx "not found" is not absence
//	2 TestHostileSlowGetToken               one skewed clock sample does not disown a payment
//	3 TestHostileRedirectsAreNotFollowed    no 3xx followed, no card data to another host
//	  TestHostileHTTP2NoReplay              no money POST replayed by HTTP/2 after a GOAWAY
//	4 TestHostileOursIsStrict               merchant_uid, customer_uid, amount, currency all match
//	5 TestHostileStaleChecksumRefusal       a refused cancel is refused, whatever the history
//	6 TestHostileReadyThenNotFound          "ready" then 404 is a lagging replica: unknown
//	7 TestHostileLateCommit                 a client-cut exchange is never "not charged";
//	                                        NewClient refuses a window <= the attempt timeout
//	8 TestHostileDotIDs                     "." and ".." refused before anything is sent
//
// Run: go test -race -run Hostile -count=3 .

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	hCustomer = "cust_h"
	hAmount   = 9900
	hCard     = "4092-0230-1234-5678"
	hCardBare = "4092023012345678"
)

// hOp is one charging call of the public API.
type hOp struct {
	name     string
	route    string
	path     func(m string) string
	call     func(ctx context.Context, c *iamport.Client, m string) (*iamport.Payment, error)
	customer string // what the server charges: the request's, or the schedule's
	amount   int64
}

var (
	hOpAgain = hOp{
		name: "again", route: hrAgain,
		path: func(string) string { return "/subscribe/payments/again" },
		call: func(ctx context.Context, c *iamport.Client, m string) (*iamport.Payment, error) {
			return c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: hCustomer, MerchantUID: m, Amount: hAmount, Name: "월간 구독"})
		},
		customer: hCustomer, amount: hAmount,
	}
	hOpOnetime = hOp{
		name: "onetime", route: hrOnetime,
		path: func(string) string { return "/subscribe/payments/onetime" },
		call: func(ctx context.Context, c *iamport.Client, m string) (*iamport.Payment, error) {
			return c.OnetimePayment(ctx, &iamport.OnetimePaymentRequest{MerchantUID: m, Amount: hAmount, Name: "월간 구독",
				CardNumber: hCard, Expiry: "2029-12", Birth: "880101", Pwd2Digit: "12", CustomerUID: hCustomer})
		},
		customer: hCustomer, amount: hAmount,
	}
	hOpRetry = hOp{
		name: "retry", route: hrRetry,
		path: func(m string) string { return "/subscribe/payments/schedule/" + m + "/retry" },
		call: func(ctx context.Context, c *iamport.Client, m string) (*iamport.Payment, error) {
			return c.RetrySchedule(ctx, m)
		},
		customer: hSchedCustomer, amount: hSchedAmount,
	}
	hOps = []hOp{hOpAgain, hOpOnetime, hOpRetry}
)

// commit charges m as the server would for op's request.
func (op hOp) commit(h *hostile, m string) *hPay {
	return h.commit(m, op.customer, op.amount, "")
}

// hGroup runs subtests several at once. They spend their time waiting out
// settle windows; t.Parallel would run only GOMAXPROCS of them at a time.
// (t.Run may be called from several goroutines; all return before wait.)
// At most hGroupSize run at once, so that a 2-core machine under -race
// still answers loopback calls well within the attempt timeout.
type hGroup struct {
	t   *testing.T
	wg  sync.WaitGroup
	sem chan struct{}
}

const hGroupSize = 24

func hConcurrent(t *testing.T) *hGroup { return &hGroup{t: t, sem: make(chan struct{}, hGroupSize)} }

func (g *hGroup) run(name string, fn func(t *testing.T)) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.sem <- struct{}{}
		defer func() { <-g.sem }()
		g.t.Run(name, fn)
	}()
}

func (g *hGroup) wait() { g.wg.Wait() }

// hCtx bounds a test's calls, so that a hung engine fails instead of
// hanging, without a deadline: a ctx with a deadline would replace the
// client's attempt timeout (WithTimeout), which these tests rely on.
func hCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(20*time.Second, cancel)
	t.Cleanup(func() { stop.Stop(); cancel() })
	return ctx
}

// hCommitAndHangUp is a charge handler that commits the charge, then closes
// the connection without a reply.
func hCommitAndHangUp(h *hostile, op hOp, m string) hHandler {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
		op.commit(h, m)
		hHangUp(w)
	}
}

// Case 1: a proxy's answer read as Iamport's. The charge is committed and
// its reply lost; every lookup then gets something that looks like "not
// found" but is not Iamport's own envelope (or is a 5xx). Absence is never
// proven: the outcome is unknown, never not charged.
func TestHostileProxyNotFoundIsNotAbsence(t *testing.T) {
	t.Parallel()
	g := hConcurrent(t)
	defer g.wait()
	junk := []struct {
		name  string
		write func(w http.ResponseWriter)
	}{
		{"nginx html 404", func(w http.ResponseWriter) { hWriteHTML(w, http.StatusNotFound) }},
		{"empty 404", func(w http.ResponseWriter) { hWriteEmpty(w, http.StatusNotFound) }},
		{"plain-text 404", func(w http.ResponseWriter) { http.Error(w, "404 page not found", http.StatusNotFound) }},
		{"500 envelope 찾을 수 없습니다", func(w http.ResponseWriter) {
			hWriteEnvelope(w, http.StatusInternalServerError, -1, "요청하신 결제정보를 찾을 수 없습니다.", nil)
		}},
		{"502 envelope 존재하지 않는", func(w http.ResponseWriter) {
			hWriteEnvelope(w, http.StatusBadGateway, -1, hNotFoundMsg, nil)
		}},
		{"503 envelope 존재하지 않는", func(w http.ResponseWriter) {
			hWriteEnvelope(w, http.StatusServiceUnavailable, 1, "존재하지 않는 결제건입니다. 잠시 후 다시 시도해주세요.", nil)
		}},
	}
	// Every kind of junk for AgainPayment; the first two (a proxy's 404 page
	// and a 5xx envelope) for the other charges.
	for _, op := range hOps {
		junk := junk
		if op.name != hOpAgain.name {
			junk = []struct {
				name  string
				write func(w http.ResponseWriter)
			}{junk[0], junk[4]}
		}
		for _, j := range junk {
			g.run(op.name+"/reply lost/"+j.name, func(t *testing.T) {
				h := newHostile(t)
				c := h.fastClient(t)
				m := "m_proxy_" + op.name
				h.on(op.route, hCommitAndHangUp(h, op, m))
				h.proxied(j.write)

				p, err := op.call(hCtx(t), c, m)
				hRequireUnknown(t, p, err, m)
				assert.Equal(t, 1, h.committed(m), "the card was charged")
				assert.Equal(t, 1, h.posts(op.path(m)), "one money POST")
				assert.GreaterOrEqual(t, h.asked(), 1, "the SDK asked")
			})
		}
		// The "already paid" refusal: Iamport refuses the charge because
		// the merchant_uid is paid (by an earlier identical call), and the
		// lookups that would prove it is ours get a proxy's junk: unknown,
		// never a bare *APIError (which reads as "not charged").
		for _, j := range junk {
			g.run(op.name+"/already paid/"+j.name, func(t *testing.T) {
				h := newHostile(t)
				c := h.fastClient(t)
				m := "m_paid_" + op.name
				op.commit(h, m) // the earlier identical call
				h.proxied(j.write)

				p, err := op.call(hCtx(t), c, m)
				hRequireUnknown(t, p, err, m)
				assert.Equal(t, 1, h.committed(m))
				assert.Equal(t, 1, h.posts(op.path(m)))
			})
		}
	}
}

// Case 2: a slow getToken. The server's clock as getToken reports it is 2 s
// ahead of the clock that stamps payments (a clock step, or the latency of
// a slow getToken folded into one sample); or getToken really takes 1.2 s.
// The SDK must not decide from that one sample that the payment it finds
// is an earlier attempt.
func TestHostileSlowGetToken(t *testing.T) {
	t.Parallel()
	g := hConcurrent(t)
	defer g.wait()
	for _, tc := range []struct {
		name          string
		skew, delay   time.Duration
		timeout, wind time.Duration
		declines      bool // also the declined charges (the real 1.2 s wait is spent once)
	}{
		{name: "clock +2s", skew: 2 * time.Second, delay: 20 * time.Millisecond, timeout: hTimeout, wind: hWindow, declines: true},
		{name: "getToken takes 1.2s", delay: 1200 * time.Millisecond, timeout: 1500 * time.Millisecond, wind: 1600 * time.Millisecond},
	} {
		g.run(tc.name+"/retry schedule, reply lost, paid", func(t *testing.T) {
			h := newHostile(t)
			h.slowToken(tc.delay, tc.skew)
			c := h.client(t, tc.timeout, tc.wind)
			m := "m_slowtok_retry"
			// The schedule's execution failed an hour ago; now it is retried.
			h.add(hPay{merchant: m, customer: hSchedCustomer, amount: hSchedAmount, status: "failed", failReason: "잔액부족", started: hNow() - 3600})
			h.on(hrRetry, hCommitAndHangUp(h, hOpRetry, m))

			p, err := c.RetrySchedule(hCtx(t), m)
			require.NotErrorIs(t, err, iamport.ErrNotCharged, "the schedule was charged")
			hRequirePaid(t, p, err, h.paidFor(m))
			assert.Equal(t, 1, h.committed(m))
			assert.Equal(t, 1, h.posts(hOpRetry.path(m)))
		})
		if !tc.declines {
			continue
		}
		for _, op := range []hOp{hOpAgain, hOpOnetime} {
			g.run(tc.name+"/"+op.name+" declined, reply lost", func(t *testing.T) {
				h := newHostile(t)
				h.slowToken(tc.delay, tc.skew)
				h.decline(hCustomer, "한도초과")
				c := h.client(t, tc.timeout, tc.wind)
				m := "m_slowtok_" + op.name
				h.on(op.route, hCommitAndHangUp(h, op, m))

				p, err := op.call(hCtx(t), c, m)
				require.Error(t, err)
				assert.Nil(t, p)
				require.NotErrorIs(t, err, iamport.ErrNotCharged,
					"the card company was reached and declined this very call: not 'not charged' (a failed payment is not absence)")
				var pf *iamport.PaymentFailedError
				if errors.As(err, &pf) {
					require.NotNil(t, pf.Payment)
					assert.Equal(t, m, pf.Payment.MerchantUID)
					assert.Equal(t, "한도초과", pf.Payment.FailReason)
				} else {
					hRequireUnknown(t, p, err, m)
				}
				assert.Equal(t, 1, h.posts(op.path(m)))
			})
		}
	}
}

// Case 3a: the HTTP stack follows redirects. No API call follows one: a 3xx
// on a charge is an exchange without Iamport's answer, reconciled by
// lookups; the charge POST reaches the API once and nothing (card data
// least of all) reaches another host.
func TestHostileRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	g := hConcurrent(t)
	defer g.wait()
	type row struct {
		op        hOp
		status    int
		other     bool // Location: another host (plain http); else the same URL
		committed bool // the API charged before it redirected
		tls       bool // the API is https (the other host stays plain http)
	}
	rows := []row{
		{op: hOpAgain, status: 307, committed: true},
		{op: hOpAgain, status: 307},
		{op: hOpAgain, status: 308, committed: true},
		{op: hOpAgain, status: 308},
		{op: hOpAgain, status: 307, other: true, committed: true},
		{op: hOpAgain, status: 307, other: true},
		{op: hOpAgain, status: 308, other: true},
		{op: hOpAgain, status: 302},
		{op: hOpAgain, status: 302, committed: true},
		{op: hOpAgain, status: 302, other: true},
		{op: hOpAgain, status: 301},
		{op: hOpAgain, status: 303},
		{op: hOpOnetime, status: 307, other: true},
		{op: hOpOnetime, status: 308, other: true, committed: true},
		{op: hOpOnetime, status: 307, other: true, tls: true},
		{op: hOpOnetime, status: 307},
		{op: hOpRetry, status: 307, committed: true},
		{op: hOpRetry, status: 308, other: true, committed: true},
	}
	for _, r := range rows {
		name := r.op.name + "/" + http.StatusText(r.status)
		if r.other {
			name += "/other host"
		} else {
			name += "/same url"
		}
		if r.tls {
			name += "/from https"
		}
		if r.committed {
			name += "/committed"
		} else {
			name += "/not committed"
		}
		g.run(name, func(t *testing.T) {
			var h *hostile
			if r.tls {
				h = newHostileH2(t)
			} else {
				h = newHostile(t)
			}
			evil := newHBystander(t)
			c := h.fastClient(t)
			m := "m_redir_" + r.op.name
			h.on(r.op.route, func(w http.ResponseWriter, req *http.Request, body []byte, n int) {
				switch {
				case req.Method != http.MethodPost:
					// A redirect turned the charge into a GET: a cache
					// answers with a "paid" payment that Iamport never made.
					hWriteEnvelope(w, http.StatusOK, 0, "", (&hPay{imp: "imp_cached", merchant: m, customer: r.op.customer,
						amount: r.op.amount, status: "paid", started: hNow(), paidAt: hNow()}).json())
				case n == 1:
					if r.committed {
						r.op.commit(h, m)
					}
					loc := h.URL() + req.URL.RequestURI()
					if r.other {
						loc = evil.srv.URL + req.URL.RequestURI()
					}
					hRedirect(w, r.status, loc)
				default: // a resend: served as Iamport would
					h.defaultHandler(r.op.route)(w, req, body, n)
				}
			})

			p, err := r.op.call(hCtx(t), c, m)
			if r.committed {
				hRequirePaid(t, p, err, h.paidFor(m))
			} else {
				hRequireNotCharged(t, p, err, m)
			}
			hits, bodies := evil.received()
			assert.Zero(t, hits, "a request reached the other host")
			assert.NotContains(t, bodies, hCardBare[:6], "card data reached the other host")
			assert.NotContains(t, bodies, hCard[:9], "card data reached the other host")
			if r.op.name == hOpOnetime.name {
				assert.True(t, h.bodiesContain(hCard[:9]), "the needle is wrong: the card as sent is not %q", hCard[:9])
			}
			assert.Equal(t, 1, h.posts(r.op.path(m)), "the charge POST reached the API once (%s)", h.describeHits())
			assert.Equal(t, 1, h.hitsTo("", r.op.path(m)), "nothing but the one POST reached the charge URL (%s)", h.describeHits())
			want := 0
			if r.committed {
				want = 1
			}
			assert.Equal(t, want, h.committed(m))
		})
	}

	// A cancel answered with a redirect after Iamport applied it: refunded
	// once, and reported as applied (the lookups show it).
	for _, r := range []struct {
		name     string
		status   int
		other    bool
		amount   int64
		checksum bool
	}{
		{name: "partial with checksum/307 same url", status: 307, amount: 3000, checksum: true},
		{name: "partial without checksum/307 same url", status: 307, amount: 3000},
		{name: "partial without checksum/308 same url", status: 308, amount: 3000},
		{name: "full/308 same url", status: 308, checksum: true},
		{name: "partial without checksum/307 other host", status: 307, other: true, amount: 3000},
		{name: "partial with checksum/302 same url", status: 302, amount: 3000, checksum: true},
	} {
		g.run("cancel/"+r.name, func(t *testing.T) {
			h := newHostile(t)
			evil := newHBystander(t)
			c := h.fastClient(t)
			pay := h.add(hPay{merchant: "m_redir_cancel", customer: hCustomer, amount: 10000, status: "paid"})
			h.on(hrCancel, func(w http.ResponseWriter, req *http.Request, body []byte, n int) {
				if n > 1 || req.Method != http.MethodPost {
					h.cancel(w, req, body, n)
					return
				}
				if _, code, msg := h.applyCancel(body); code != 0 {
					t.Errorf("hostile: the first cancel was refused: %s", msg)
				}
				loc := h.URL() + req.URL.RequestURI()
				if r.other {
					loc = evil.srv.URL + req.URL.RequestURI()
				}
				hRedirect(w, r.status, loc)
			})
			req := &iamport.CancelPaymentRequest{ImpUID: pay.imp, Amount: r.amount, Reason: "고객 요청"}
			if r.checksum {
				left := int64(10000)
				req.Checksum = &left
			}
			want := r.amount
			if want == 0 {
				want = 10000
			}

			p, err := c.CancelPayment(hCtx(t), req)
			assert.Equal(t, 1, h.applied(), "refunded once")
			assert.Equal(t, 1, h.posts("/payments/cancel"), "the cancel POST reached the API once (%s)", h.describeHits())
			assert.Equal(t, 1, h.hitsTo("", "/payments/cancel"), "nothing but the one POST reached the cancel URL")
			hits, _ := evil.received()
			assert.Zero(t, hits, "a request reached the other host")
			require.NoError(t, err, "the payment shows this cancel applied")
			require.NotNil(t, p)
			assert.Equal(t, want, p.CancelAmount)
			assert.Equal(t, pay.imp, p.ImpUID)
		})
	}
}

// Case 3b: HTTP/2. The server processes the money POST, then ends the
// connection with a GOAWAY that claims no stream was processed. Today's
// net/http replays a request whose body it can rewind (GetBody) or that has
// no body (RetrySchedule) on a new connection: a second charge, a second
// refund. The money POST must reach the server once.
func TestHostileHTTP2NoReplay(t *testing.T) {
	t.Parallel()
	g := hConcurrent(t)
	defer g.wait()
	for _, op := range hOps {
		for _, committed := range []bool{true, false} {
			name := op.name + "/committed"
			if !committed {
				name = op.name + "/not committed"
			}
			g.run(name, func(t *testing.T) {
				h := newHostileH2(t)
				c := h.fastClient(t)
				ctx := hCtx(t)
				m := "m_h2_" + op.name
				var notH2 atomic.Bool
				h.on(op.route, func(w http.ResponseWriter, req *http.Request, body []byte, n int) {
					if req.ProtoMajor != 2 {
						notH2.Store(true)
					}
					if n > 1 { // a replay: served as Iamport would
						h.defaultHandler(op.route)(w, req, body, n)
						return
					}
					if committed {
						op.commit(h, m)
					}
					hGoAway(req)
				})

				p, err := op.call(ctx, c, m)
				if notH2.Load() {
					// Sending money over HTTP/1.1 only is one way not to be
					// replayed by HTTP/2; the GOAWAY bytes then reach the
					// client as a broken reply, which the same rules cover.
					t.Logf("the charge did not go over HTTP/2")
				}
				assert.Equal(t, 1, h.posts(op.path(m)), "the charge POST reached the API once (%s)", h.describeHits())
				if committed {
					hRequirePaid(t, p, err, h.paidFor(m))
					assert.Equal(t, 1, h.committed(m))
				} else {
					// A GOAWAY then a closed connection: the exchange was
					// ended by the server, so "not charged" is earned; an
					// engine that does not count a GOAWAY as that may say
					// unknown. Never a payment.
					require.Error(t, err, "got %s", hDescribePayment(p))
					assert.Nil(t, p)
					if !errors.Is(err, iamport.ErrNotCharged) {
						hRequireUnknown(t, p, err, m)
					} else {
						hRequireNotCharged(t, p, err, m)
					}
					assert.Equal(t, 0, h.committed(m))
				}
			})
		}
	}

	for _, tc := range []struct {
		name     string
		checksum bool
	}{{"partial without checksum", false}, {"partial with checksum", true}} {
		g.run("cancel/"+tc.name, func(t *testing.T) {
			h := newHostileH2(t)
			c := h.fastClient(t)
			ctx := hCtx(t)
			pay := h.add(hPay{merchant: "m_h2_cancel", customer: hCustomer, amount: 10000, status: "paid"})
			var notH2 atomic.Bool
			h.on(hrCancel, func(w http.ResponseWriter, req *http.Request, body []byte, n int) {
				if req.ProtoMajor != 2 {
					notH2.Store(true)
				}
				if n > 1 {
					h.cancel(w, req, body, n)
					return
				}
				if _, code, msg := h.applyCancel(body); code != 0 {
					t.Errorf("hostile: the first cancel was refused: %s", msg)
				}
				hGoAway(req)
			})
			req := &iamport.CancelPaymentRequest{ImpUID: pay.imp, Amount: 3000, Reason: "부분 환불"}
			if tc.checksum {
				left := int64(10000)
				req.Checksum = &left
			}

			p, err := c.CancelPayment(ctx, req)
			if notH2.Load() {
				t.Logf("the cancel did not go over HTTP/2")
			}
			assert.Equal(t, 1, h.applied(), "refunded exactly once")
			assert.Equal(t, 1, h.posts("/payments/cancel"), "the cancel POST reached the API once (%s)", h.describeHits())
			require.NoError(t, err, "the payment shows this cancel applied")
			require.NotNil(t, p)
			assert.Equal(t, int64(3000), p.CancelAmount, "3,000 refunded, not 6,000")
		})
	}
}

// Case 4: "is this payment ours?" too lax. The charge's reply is lost and
// nothing of ours is ever committed; every lookup shows a paid payment that
// is not this call's: one without customer_uid (a payment-window order), one
// with another merchant_uid (last month's), one of another currency. It is
// never returned as this call's charge.
func TestHostileOursIsStrict(t *testing.T) {
	t.Parallel()
	g := hConcurrent(t)
	defer g.wait()
	impostors := []struct {
		name string
		pay  func(op hOp, m string) hPay
		ops  []hOp
	}{
		{"empty customer_uid", func(op hOp, m string) hPay {
			return hPay{merchant: m, amount: op.amount, status: "paid"}
		}, []hOp{hOpAgain, hOpOnetime}},
		{"another merchant_uid", func(op hOp, _ string) hPay {
			return hPay{merchant: "m_last_month", customer: op.customer, amount: op.amount, status: "paid"}
		}, hOps},
		{"another currency", func(op hOp, m string) hPay {
			return hPay{merchant: m, customer: op.customer, amount: op.amount, currency: "USD", status: "paid"}
		}, []hOp{hOpAgain, hOpOnetime}},
		{"another customer_uid", func(op hOp, m string) hPay {
			return hPay{merchant: m, customer: "cust_other", amount: op.amount, status: "paid"}
		}, []hOp{hOpAgain, hOpOnetime}},
	}
	for _, imp := range impostors {
		for _, op := range imp.ops {
			g.run(op.name+"/reply lost/"+imp.name, func(t *testing.T) {
				h := newHostile(t)
				c := h.fastClient(t)
				m := "m_ours_" + op.name
				h.on(op.route, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) { hHangUp(w) })
				fake := imp.pay(op, m)
				fake.started = hNow() + 1 // "after this call began", as far as any clock can tell
				fake.imp = "imp_not_ours"
				h.on(hrLookup, func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
					f := fake
					h.writeFound(w, r, &f)
				})

				p, err := op.call(hCtx(t), c, m)
				hRequireUnknown(t, p, err, m)
				assert.Equal(t, 1, h.posts(op.path(m)))
			})
		}
	}

	// Iamport refuses the charge as "already paid": the merchant_uid's paid
	// payment is a payment-window order without customer_uid. It is not an
	// earlier charge of this call: the refusal stands.
	for _, op := range []hOp{hOpAgain, hOpOnetime} {
		g.run(op.name+"/already paid by a payment without customer_uid", func(t *testing.T) {
			h := newHostile(t)
			c := h.fastClient(t)
			m := "m_ours_paid_" + op.name
			h.add(hPay{merchant: m, amount: op.amount, status: "paid", imp: "imp_window_order"})

			p, err := op.call(hCtx(t), c, m)
			require.Error(t, err, "got %s", hDescribePayment(p))
			assert.Nil(t, p)
			var ae *iamport.APIError
			require.ErrorAs(t, err, &ae, "refused: the paid payment is someone else's")
			assert.NotErrorIs(t, err, iamport.ErrOutcomeUnknown)
			assert.Equal(t, 1, h.posts(op.path(m)))
		})
	}
}

// Case 5: a stale checksum. Two cancels computed from the same Refundable():
// Iamport applies the first and refuses the second. The second is the
// refusal it is (*APIError), even though the newest history entry has its
// amount and reason.
func TestHostileStaleChecksumRefusal(t *testing.T) {
	t.Parallel()
	g := hConcurrent(t)
	defer g.wait()
	for _, tc := range []struct {
		name   string
		amount int64
		want   int64
	}{
		{"two partial cancels of 3000", 3000, 3000},
		{"two full cancels", 0, 10000},
	} {
		g.run(tc.name, func(t *testing.T) {
			h := newHostile(t)
			c := h.fastClient(t)
			ctx := hCtx(t)
			pay := h.add(hPay{merchant: "m_checksum", customer: hCustomer, amount: 10000, status: "paid"})
			before, err := c.GetPayment(ctx, pay.imp)
			require.NoError(t, err)
			left := before.Refundable()
			require.Equal(t, int64(10000), left)
			req := func() *iamport.CancelPaymentRequest {
				sum := left
				return &iamport.CancelPaymentRequest{ImpUID: pay.imp, Amount: tc.amount, Checksum: &sum, Reason: "부분 환불"}
			}

			p1, err := c.CancelPayment(ctx, req())
			require.NoError(t, err)
			assert.Equal(t, tc.want, p1.CancelAmount)

			p2, err := c.CancelPayment(ctx, req())
			require.Error(t, err, "Iamport refused the second cancel, yet it is reported done (%s)", hDescribePayment(p2))
			assert.Nil(t, p2)
			var ae *iamport.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 1, ae.Code)
			assert.NotErrorIs(t, err, iamport.ErrOutcomeUnknown)
			assert.Equal(t, 2, h.posts("/payments/cancel"))
			assert.Equal(t, 1, h.applied(), "only the first was refunded")
		})
	}
}

// Case 6: a lookup sees the payment "ready", a later one gets Iamport's
// 404 (a lagging replica). Once seen, a "not found" proves nothing.
func TestHostileReadyThenNotFound(t *testing.T) {
	t.Parallel()
	g := hConcurrent(t)
	defer g.wait()
	for _, op := range hOps {
		g.run(op.name, func(t *testing.T) {
			h := newHostile(t)
			c := h.fastClient(t)
			m := "m_lag_" + op.name
			var ready atomic.Pointer[hPay]
			h.on(op.route, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
				ready.Store(h.add(hPay{merchant: m, customer: op.customer, amount: op.amount, status: "ready"}))
				hHangUp(w)
			})
			h.on(hrLookup, func(w http.ResponseWriter, r *http.Request, _ []byte, n int) {
				if p := ready.Load(); n == 1 && p != nil {
					h.writeFound(w, r, p)
					return
				}
				hWriteNotFound(w)
			})

			p, err := op.call(hCtx(t), c, m)
			hRequireUnknown(t, p, err, m)
			assert.Equal(t, 1, h.posts(op.path(m)))
			assert.GreaterOrEqual(t, h.count(hrLookup), 2, "the 404 after 'ready' was seen")
		})
	}
}

// Case 7: a late commit. The server holds the charge past the client's
// attempt timeout and past the settle window, then commits it. The client
// cut the exchange itself, so it cannot know Iamport is done: never "not
// charged". And a client whose window cannot cover its attempt timeout is
// refused by NewClient.
func TestHostileLateCommit(t *testing.T) {
	t.Parallel()
	g := hConcurrent(t)
	defer g.wait()
	for _, op := range []hOp{hOpAgain, hOpRetry} {
		g.run(op.name, func(t *testing.T) {
			h := newHostile(t)
			c := h.client(t, 300*time.Millisecond, 700*time.Millisecond)
			m := "m_late_" + op.name
			ctx := hCtx(t)
			done := make(chan struct{})
			h.on(op.route, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
				defer close(done)
				// The PG is slow; Iamport keeps going after the client left,
				// and commits after the SDK stopped looking.
				time.Sleep(1500 * time.Millisecond)
				p := op.commit(h, m)
				hWriteEnvelope(w, http.StatusOK, 0, "", p.json())
			})

			p, err := op.call(ctx, c, m)
			require.Equal(t, 1, h.posts(op.path(m)), "the charge never reached the server: %v", err)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the server never committed")
			}
			require.NotErrorIs(t, err, iamport.ErrNotCharged, "the charge landed after the SDK gave up")
			if err == nil {
				hRequirePaid(t, p, err, h.paidFor(m))
			} else {
				hRequireUnknown(t, p, err, m)
			}
			assert.Equal(t, 1, h.committed(m))
			assert.Equal(t, 1, h.posts(op.path(m)))
		})
	}

	g.run("NewClient refuses a window that does not cover the timeout", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			opts []iamport.Option
			ok   bool
		}{
			{"window = timeout", []iamport.Option{iamport.WithTimeout(200 * time.Millisecond), iamport.WithSettleWindow(200 * time.Millisecond)}, false},
			{"window < timeout", []iamport.Option{iamport.WithTimeout(time.Second), iamport.WithSettleWindow(400 * time.Millisecond)}, false},
			{"window < timeout, other order", []iamport.Option{iamport.WithSettleWindow(400 * time.Millisecond), iamport.WithTimeout(time.Second)}, false},
			{"window > timeout", []iamport.Option{iamport.WithTimeout(200 * time.Millisecond), iamport.WithSettleWindow(600 * time.Millisecond)}, true},
		} {
			c, err := iamport.NewClient("k", "s", tc.opts...)
			if tc.ok {
				assert.NoError(t, err, tc.name)
				assert.NotNil(t, c, tc.name)
			} else {
				assert.Error(t, err, tc.name)
				assert.Nil(t, c, tc.name)
			}
		}
	})
}

// Case 8: IDs made of dots. A router normalises /payments/find/. to another
// path; such IDs are *ValidationError before anything is sent.
func TestHostileDotIDs(t *testing.T) {
	t.Parallel()
	h := newHostile(t)
	c := h.coldClient(t, hTimeout, hWindow)
	ctx := hCtx(t)
	future := time.Now().Add(48 * time.Hour)
	for _, id := range []string{".", ".."} {
		calls := map[string]func() error{
			"AgainPayment merchant_uid": func() error {
				_, err := c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: hCustomer, MerchantUID: id, Amount: hAmount})
				return err
			},
			"AgainPayment customer_uid": func() error {
				_, err := c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: id, MerchantUID: "m_dots", Amount: hAmount})
				return err
			},
			"OnetimePayment merchant_uid": func() error {
				_, err := c.OnetimePayment(ctx, &iamport.OnetimePaymentRequest{MerchantUID: id, Amount: hAmount, CardNumber: hCard, Expiry: "2029-12", Birth: "880101", Pwd2Digit: "12"})
				return err
			},
			"RetrySchedule": func() error { _, err := c.RetrySchedule(ctx, id); return err },
			"FindPayment":   func() error { _, err := c.FindPayment(ctx, id); return err },
			"GetPayment":    func() error { _, err := c.GetPayment(ctx, id); return err },
			"CancelPayment imp_uid": func() error {
				_, err := c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: id, Amount: 1000})
				return err
			},
			"CancelPayment merchant_uid": func() error {
				_, err := c.CancelPayment(ctx, &iamport.CancelPaymentRequest{MerchantUID: id})
				return err
			},
			"GetSchedule":   func() error { _, err := c.GetSchedule(ctx, id); return err },
			"GetBillingKey": func() error { _, err := c.GetBillingKey(ctx, id); return err },
			// Every other call that puts an ID in the URL's path.
			"UpdateSchedule":     func() error { _, err := c.UpdateSchedule(ctx, id, future); return err },
			"RescheduleSchedule": func() error { _, err := c.RescheduleSchedule(ctx, id, future); return err },
			"GetPreparedPayment": func() error { _, err := c.GetPreparedPayment(ctx, id); return err },
			"DeleteBillingKey":   func() error { _, err := c.DeleteBillingKey(ctx, id, "해지"); return err },
			"IssueBillingKey": func() error {
				_, err := c.IssueBillingKey(ctx, &iamport.IssueBillingKeyRequest{CustomerUID: id, CardNumber: hCard, Expiry: "2029-12", Birth: "880101", Pwd2Digit: "12"})
				return err
			},
			"FindPayments": func() error {
				for _, err := range c.FindPayments(ctx, id) {
					return err
				}
				return errors.New("no error yielded")
			},
			"BillingKeyPayments": func() error {
				for _, err := range c.BillingKeyPayments(ctx, id) {
					return err
				}
				return errors.New("no error yielded")
			},
		}
		for _, name := range hSorted(calls) {
			t.Run(name+"/"+strings.ReplaceAll(id, ".", "dot"), func(t *testing.T) {
				before := h.total.Load()
				err := calls[name]()
				var ve *iamport.ValidationError
				require.ErrorAs(t, err, &ve, "%q must be refused before sending", id)
				assert.ErrorIs(t, err, iamport.ErrInvalidRequest)
				assert.Equal(t, before, h.total.Load(), "a request was sent (%s)", h.describeHits())
			})
		}
	}
	assert.Zero(t, h.total.Load(), "requests received: %s", h.describeHits())
}
