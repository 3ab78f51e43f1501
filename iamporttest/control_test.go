package iamporttest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctl is a client of the control API.
type ctl struct {
	t   *testing.T
	s   *Server
	hc  *http.Client
	url string
}

func newCtl(t *testing.T, opts ...ServerOption) *ctl {
	t.Helper()
	s := NewServer(append([]ServerOption{WithControlAPI()}, opts...)...)
	t.Cleanup(s.Close)
	return &ctl{t: t, s: s, hc: &http.Client{Timeout: 10 * time.Second}, url: s.URL()}
}

// do sends a JSON body (a string) and decodes the JSON answer into out.
func (c *ctl) do(method, path, body string, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(raw, out), string(raw))
	}
	return resp.StatusCode
}

func (c *ctl) ok(method, path, body string) {
	c.t.Helper()
	var res map[string]any
	require.Equal(c.t, http.StatusOK, c.do(method, path, body, &res), res)
}

func testClient(s *Server) *iamport.Client {
	return s.Client(iamport.WithTimeout(2*time.Second), iamport.WithSettleWindow(3*time.Second))
}

func TestControlDeclinesKeysAndLedger(t *testing.T) {
	c := newCtl(t)
	var key ctlKey
	require.Equal(t, 200, c.do("POST", "/__fake/billing-keys", `{"customer_uid":"cu_ok"}`, &key))
	assert.Equal(t, "cu_ok", key.CustomerUID)
	assert.Equal(t, "4092-02**-****-5678", key.CardNumber)
	c.ok("POST", "/__fake/billing-keys", `{"customer_uid":"cu_bad","card_number":"5500-0000-0000-0004"}`)
	c.ok("POST", "/__fake/declines", `{"customer_uid":"cu_bad","reason":"잔액부족"}`)

	cl := testClient(c.s)
	ctx := context.Background()
	p, err := cl.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cu_ok", MerchantUID: "m_ok", Amount: 9900, Name: "Pro"})
	require.NoError(t, err)
	assert.True(t, p.IsPaid())
	_, err = cl.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cu_bad", MerchantUID: "m_bad", Amount: 1000})
	var pf *iamport.PaymentFailedError
	require.ErrorAs(t, err, &pf)
	assert.Equal(t, "잔액부족", pf.Payment.FailReason)

	var keys []ctlKey
	require.Equal(t, 200, c.do("GET", "/__fake/billing-keys", "", &keys))
	require.Len(t, keys, 2)
	assert.Equal(t, "cu_bad", keys[0].CustomerUID)

	var ledger struct {
		Payments []ctlPayment        `json:"payments"`
		Charged  ctlTally            `json:"charged"`
		ByStatus map[string]ctlTally `json:"by_status"`
	}
	require.Equal(t, 200, c.do("GET", "/__fake/ledger", "", &ledger))
	require.Len(t, ledger.Payments, 2)
	assert.Equal(t, "m_ok", ledger.Payments[0].MerchantUID)
	assert.Equal(t, int64(9900), ledger.Payments[0].Amount)
	assert.Equal(t, "paid", ledger.Payments[0].Status)
	assert.NotZero(t, ledger.Payments[0].PaidAt)
	assert.Equal(t, "잔액부족", ledger.Payments[1].FailReason)
	assert.Equal(t, ctlTally{Count: 1, Amounts: map[string]int64{"KRW": 9900}}, ledger.Charged)
	assert.Equal(t, 1, ledger.ByStatus["failed"].Count)

	require.Equal(t, 200, c.do("GET", "/__fake/ledger?status=failed", "", &ledger))
	require.Len(t, ledger.Payments, 1)
	assert.Equal(t, "m_bad", ledger.Payments[0].MerchantUID)

	// Undo the decline: the same key now charges.
	c.ok("POST", "/__fake/declines", `{"customer_uid":"cu_bad","reason":""}`)
	_, err = cl.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cu_bad", MerchantUID: "m_bad", Amount: 1000})
	require.NoError(t, err)

	// Bad input is a 400 with a message.
	var e ctlErr
	assert.Equal(t, 400, c.do("POST", "/__fake/declines", `{"reason":"x"}`, &e))
	assert.NotEmpty(t, e.Error)
	assert.Equal(t, 400, c.do("POST", "/__fake/billing-keys", `{"customer_uid":"x","card_number":"12"}`, &e))
	assert.Equal(t, 400, c.do("POST", "/__fake/billing-keys", `{"customer_uid":"x","bogus":1}`, &e))
	assert.Equal(t, 404, c.do("GET", "/__fake/nothing", "", &e))
}

func TestControlFaultsAndCounters(t *testing.T) {
	c := newCtl(t)
	require.NoError(t, c.s.RegisterBillingKey("cu", DefaultCardNumber))
	// The reply of the charge of m1 is lost after the commit, once.
	c.ok("POST", "/__fake/faults", `{"kind":"drop_after_commit","merchant_uid":"m1"}`)
	c.ok("POST", "/__fake/faults", `{"kind":"5xx_before_commit","route":"GET /payments/{imp_uid}","times":2}`)
	var faults []ctlFault
	require.Equal(t, 200, c.do("GET", "/__fake/faults", "", &faults))
	require.Len(t, faults, 2)
	assert.Equal(t, ctlFault{Kind: "drop_after_commit", MerchantUID: "m1", Left: 1}, faults[0])
	assert.Equal(t, 2, faults[1].Left)

	cl := testClient(c.s)
	p, err := cl.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{CustomerUID: "cu", MerchantUID: "m1", Amount: 5000})
	require.NoError(t, err, "the SDK reconciles the lost reply")
	assert.True(t, p.IsPaid())

	var counters struct {
		TokenCalls     int            `json:"token_calls"`
		Requests       map[string]int `json:"requests"`
		Charges        map[string]int `json:"charges"`
		ChargeAttempts map[string]int `json:"charge_attempts"`
	}
	require.Equal(t, 200, c.do("GET", "/__fake/counters", "", &counters))
	assert.Equal(t, 1, counters.TokenCalls)
	assert.Equal(t, 1, counters.Requests[RouteAgain])
	assert.GreaterOrEqual(t, counters.Requests[RouteFind], 1)
	assert.Equal(t, map[string]int{"m1": 1}, counters.Charges)
	var one struct {
		Charges map[string]int `json:"charges"`
	}
	require.Equal(t, 200, c.do("GET", "/__fake/counters?merchant_uid=none", "", &one))
	assert.Equal(t, map[string]int{"none": 0}, one.Charges)

	// The lookup fault is still there (2 left); DELETE clears it.
	require.Equal(t, 200, c.do("GET", "/__fake/faults", "", &faults))
	require.Len(t, faults, 1)
	c.ok("DELETE", "/__fake/faults", "")
	require.Equal(t, 200, c.do("GET", "/__fake/faults", "", &faults))
	assert.Empty(t, faults)

	var e ctlErr
	assert.Equal(t, 400, c.do("POST", "/__fake/faults", `{"kind":"meteor"}`, &e))
	assert.Contains(t, e.Error, "meteor")
	assert.Equal(t, 400, c.do("POST", "/__fake/faults", `{"kind":"slow_pg"}`, &e), "slow_pg needs a delay")
	c.ok("POST", "/__fake/faults", `{"kind":"FaultReset","times":-1}`)
	require.Equal(t, 200, c.do("GET", "/__fake/faults", "", &faults))
	assert.Equal(t, "reset", faults[0].Kind)
	assert.Equal(t, -1, faults[0].Left)
}

func TestControlFaultNotCharged(t *testing.T) {
	c := newCtl(t)
	require.NoError(t, c.s.RegisterBillingKey("cu", DefaultCardNumber))
	c.ok("POST", "/__fake/faults", `{"kind":"5xx_before_commit","route":"POST /subscribe/payments/again"}`)
	cl := c.s.Client(iamport.WithTimeout(500*time.Millisecond), iamport.WithSettleWindow(600*time.Millisecond))
	_, err := cl.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{CustomerUID: "cu", MerchantUID: "m", Amount: 1})
	require.ErrorIs(t, err, iamport.ErrNotCharged)
	assert.Equal(t, 0, c.s.ChargeAttempts("m"))
}

func TestControlLatency(t *testing.T) {
	c := newCtl(t)
	c.ok("POST", "/__fake/latency", `{"delay":"150ms"}`)
	cl := testClient(c.s)
	start := time.Now()
	_, err := cl.GetPayment(context.Background(), "imp_none")
	require.ErrorIs(t, err, iamport.ErrNotFound)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	c.ok("POST", "/__fake/latency", `{"delay":"0s"}`)
	var e ctlErr
	assert.Equal(t, 400, c.do("POST", "/__fake/latency", `{"delay":"soon"}`, &e))
}

func TestControlClockAndTokens(t *testing.T) {
	c := newCtl(t, WithClock(NewClock(t0)))
	var cv clockView
	require.Equal(t, 200, c.do("GET", "/__fake/clock", "", &cv))
	assert.Equal(t, clockView{Now: "2025-03-01T12:00:00Z", Unix: t0.Unix(), Mode: "manual"}, cv)
	require.Equal(t, 200, c.do("POST", "/__fake/clock", `{"advance":"24h"}`, &cv))
	assert.Equal(t, "2025-03-02T12:00:00Z", cv.Now)
	require.Equal(t, 200, c.do("POST", "/__fake/clock", `{"set":"2026-12-01T09:00:00+09:00"}`, &cv))
	assert.Equal(t, "2026-12-01T00:00:00Z", cv.Now)
	var e ctlErr
	assert.Equal(t, 400, c.do("POST", "/__fake/clock", `{"mode":"sundial"}`, &e))
	assert.Equal(t, 400, c.do("POST", "/__fake/clock", `{"set":"tomorrow"}`, &e))

	// A due schedule runs when the clock is moved through the control API.
	require.NoError(t, c.s.RegisterBillingKey("cu", DefaultCardNumber))
	cl := testClient(c.s)
	ctx := context.Background()
	_, err := cl.SchedulePayments(ctx, &iamport.ScheduleRequest{CustomerUID: "cu", Schedules: []iamport.ScheduleItem{
		{MerchantUID: "sch_1", ScheduleAt: c.s.Clock().Now().Add(time.Hour), Amount: 1000, Name: "월 구독"},
	}})
	require.NoError(t, err)
	c.ok("POST", "/__fake/clock", `{"advance":"2h"}`)
	assert.Equal(t, 1, c.s.Charges("sch_1"))

	// Expired tokens: the next call gets 401, refreshes and goes on.
	cl = testClient(c.s)
	_, err = cl.GetSchedule(ctx, "sch_1")
	require.NoError(t, err)
	calls := c.s.TokenCalls()
	c.ok("POST", "/__fake/tokens/expire", "")
	_, err = cl.GetSchedule(ctx, "sch_1")
	require.NoError(t, err)
	assert.Equal(t, calls+1, c.s.TokenCalls())
	assert.Equal(t, 1, c.s.ExpiredTokenRequests())
}

func TestWallClock(t *testing.T) {
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	c := newCtl(t, WithWallClock(), WithClock(NewClock(past)))
	assert.Equal(t, "wall", c.s.ClockMode())
	// The clock follows wall time from its start reading on: it started an
	// hour behind, and runs.
	first := c.s.Clock().Now()
	require.Eventually(t, func() bool { return c.s.Clock().Now().After(first) }, 5*time.Second, 20*time.Millisecond)

	// Advancing in wall mode shifts it and keeps running.
	var cv clockView
	require.Equal(t, 200, c.do("POST", "/__fake/clock", `{"advance":"48h"}`, &cv))
	shifted := c.s.Clock().Now()
	assert.WithinDuration(t, past.Add(48*time.Hour), shifted, 10*time.Second)
	require.Eventually(t, func() bool { return c.s.Clock().Now().After(shifted) }, 5*time.Second, 20*time.Millisecond)

	// Manual mode stops it; wall mode resumes from where it stands.
	require.Equal(t, 200, c.do("POST", "/__fake/clock", `{"mode":"manual"}`, &cv))
	assert.Equal(t, "manual", cv.Mode)
	stopped := c.s.Clock().Now()
	time.Sleep(3 * wallTick)
	assert.Equal(t, stopped, c.s.Clock().Now())
	require.NoError(t, c.s.SetClockMode("wall"))
	require.Eventually(t, func() bool { return c.s.Clock().Now().After(stopped) }, 5*time.Second, 20*time.Millisecond)
	assert.WithinDuration(t, stopped, c.s.Clock().Now(), 5*time.Second, "no jump when resuming")

	// A server without the option starts manual and can be switched.
	m := NewServer(WithClock(NewClock(t0)))
	defer m.Close()
	assert.Equal(t, "manual", m.ClockMode())
	require.NoError(t, m.SetClockMode("wall"))
	require.Eventually(t, func() bool { return m.Clock().Now().After(t0) }, 5*time.Second, 20*time.Millisecond)
}

func TestControlResetAndSeed(t *testing.T) {
	c := newCtl(t)
	c.s.SetResetSeed(Seed{
		BillingKeys:      []SeedBillingKey{{CustomerUID: "demo"}, {CustomerUID: "demo_declined"}},
		DeclineCustomers: []SeedDecline{{CustomerUID: "demo_declined", Reason: "한도초과"}},
	})
	require.NoError(t, c.s.Reset())
	_, ok := c.s.BillingKey("demo")
	require.True(t, ok)

	c.ok("POST", "/__fake/seed", `{"billing_keys":[{"customer_uid":"mine","card_number":"5500-0000-0000-0004"}],
		"decline_cards":[{"card_number":"5500-0000-0000-0004","reason":"도난카드"}],
		"reject_cards":[{"card_number":"4000-0000-0000-0010","reason":"유효하지 않은 카드"}]}`)
	cl := testClient(c.s)
	ctx := context.Background()
	_, err := cl.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "mine", MerchantUID: "m1", Amount: 100})
	var pf *iamport.PaymentFailedError
	require.ErrorAs(t, err, &pf)
	assert.Equal(t, "도난카드", pf.Payment.FailReason)
	_, err = cl.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "demo", MerchantUID: "m2", Amount: 100})
	require.NoError(t, err)
	var e ctlErr
	assert.Equal(t, 400, c.do("POST", "/__fake/seed", `{"billing_keys":[{"customer_uid":"x","card_number":"4000-0000-0000-0010"}]}`, &e))
	assert.Contains(t, e.Error, "유효하지 않은 카드")
	c.ok("POST", "/__fake/faults", `{"kind":"reset","times":-1}`)

	calls := c.s.TokenCalls()
	c.ok("POST", "/__fake/reset", "")
	assert.Empty(t, c.s.Payments())
	_, ok = c.s.BillingKey("mine")
	assert.False(t, ok)
	_, ok = c.s.BillingKey("demo")
	assert.True(t, ok, "the reset seed is applied again")
	assert.Equal(t, 0, c.s.TokenCalls())
	// The faults are gone and the client's token still works.
	_, err = cl.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "demo", MerchantUID: "m2", Amount: 100})
	require.NoError(t, err)
	assert.Equal(t, 0, c.s.TokenCalls(), "token kept across the reset (was %d before)", calls)
	_, err = cl.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "demo_declined", MerchantUID: "m3", Amount: 100})
	require.ErrorAs(t, err, &pf)
}

func TestControlIndexAndWindow(t *testing.T) {
	c := newCtl(t)
	var idx map[string]any
	require.Equal(t, 200, c.do("GET", "/__fake/", "", &idx))
	assert.Equal(t, DefaultAPIKey, idx["api_key"])
	assert.Equal(t, c.url+"/iamport.js", idx["window_js"])

	for _, path := range []string{"/iamport.js", "/v1/iamport.js"} {
		resp, err := c.hc.Get(c.url + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("Content-Type"), "javascript")
		assert.Contains(t, string(body), "request_pay")
		assert.Contains(t, string(body), "/__fake/window/request_pay")
	}

	// The CORS preflight a browser sends from the merchant's origin.
	req, _ := http.NewRequest("OPTIONS", c.url+"/__fake/window/request_pay", nil)
	req.Header.Set("Origin", "http://127.0.0.1:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := c.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))

	var res map[string]any
	require.Equal(t, 200, c.do("POST", "/__fake/window/request_pay",
		`{"pg":"jtnet","merchant_uid":"first_1","name":"정기결제","amount":1004,"customer_uid":"cu_web","card_number":"4092-0230-1234-5678"}`, &res))
	assert.Equal(t, true, res["success"])
	imp, _ := res["imp_uid"].(string)
	p, ok := c.s.Payment(imp)
	require.True(t, ok)
	assert.Equal(t, "paid", p.Status)
	assert.Equal(t, "cu_web", p.CustomerUID)
	_, ok = c.s.BillingKey("cu_web")
	assert.True(t, ok)

	require.Equal(t, 200, c.do("POST", "/__fake/window/request_pay", `{"merchant_uid":"first_2","customer_uid":"cu_web2","closed":true}`, &res))
	assert.Equal(t, false, res["success"])
	assert.Equal(t, "F1002", res["error_code"])
}

func TestControlNotMountedByDefault(t *testing.T) {
	s := NewServer()
	defer s.Close()
	resp, err := http.Get(s.URL() + "/__fake/ledger")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestWithAddrAndListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()

	s := NewServer(WithAddr(addr))
	assert.Equal(t, "http://"+addr, s.URL())
	_, err = testClient(s).GetPayment(context.Background(), "imp_none")
	assert.ErrorIs(t, err, iamport.ErrNotFound)
	// The address is taken now: WithAddr panics like httptest.
	assert.Panics(t, func() { NewServer(WithAddr(addr)) })
	s.Close()

	// Every interface: the URL names loopback, which the SDK accepts.
	ln, err = net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	s = NewServer(WithListener(ln))
	defer s.Close()
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))
	assert.True(t, strings.HasSuffix(s.URL(), ":"+strconv.Itoa(port)))
	_, err = testClient(s).GetPayment(context.Background(), "imp_none")
	assert.True(t, errors.Is(err, iamport.ErrNotFound), err)
}
