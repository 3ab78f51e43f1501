package main

import (
	"strings"
	"testing"
	"time"

	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChargeAndPaymentCommands(t *testing.T) {
	h := newHarness(t)
	h.key("cust_1")

	out := h.ok("charge", "--customer-uid", "cust_1", "--merchant-uid", "order_1", "--amount", "19900", "--name", "Pro 플랜")
	assert.Contains(t, out, "status        paid")
	assert.Contains(t, out, "amount        19,900 KRW")
	assert.Contains(t, out, "Pro 플랜")
	pays := h.srv.PaymentsByMerchantUID("order_1")
	require.Len(t, pays, 1)
	imp := pays[0].ImpUID

	// Repeating the same charge is safe: the same payment, nothing new.
	again := jsonObject(t, h.ok("charge", "--customer-uid", "cust_1", "--merchant-uid", "order_1", "--amount", "19,900", "-o", "json"))
	assert.Equal(t, imp, again["imp_uid"])
	assert.Equal(t, 1, h.srv.Charges("order_1"))
	assert.Equal(t, 1, h.srv.ChargeAttempts("order_1"))

	// get, as a table and as JSON (raw minor units).
	out = h.ok("payment", "get", imp)
	assert.Contains(t, out, "imp_uid       "+imp)
	assert.Contains(t, out, "19,900 KRW")
	p := jsonObject(t, h.ok("payment", "get", imp, "--output", "json"))
	assert.Equal(t, "paid", p["status"])
	assert.Equal(t, float64(19900), p["amount"])
	assert.Equal(t, "KRW", p["currency"])
	assert.Equal(t, "cust_1", p["customer_uid"])
	assert.NotEmpty(t, p["paid_at"])

	// find: the newest payment of the merchant_uid; --all lists them.
	assert.Equal(t, imp, jsonObject(t, h.ok("payment", "find", "order_1", "-o", "json"))["imp_uid"])
	require.Len(t, jsonLines(t, h.ok("payment", "find", "order_1", "--all", "-o", "json")), 1)

	// list: JSON lines, and a table.
	h.ok("charge", "--customer-uid", "cust_1", "--merchant-uid", "order_2", "--amount", "1004")
	lines := jsonLines(t, h.ok("payment", "list", "--status", "paid", "-o", "json"))
	require.Len(t, lines, 2)
	got := map[any]any{}
	for _, l := range lines {
		got[l["merchant_uid"]] = l["amount"]
	}
	assert.Equal(t, map[any]any{"order_1": float64(19900), "order_2": float64(1004)}, got)
	table := h.ok("payment", "list", "--status", "paid", "--from", "-24h", "--to", "+1h")
	assert.Contains(t, table, "IMP_UID")
	assert.Contains(t, table, "1,004 KRW")
	assert.Len(t, jsonLines(t, h.ok("payment", "list", "--limit", "1", "-o", "json")), 1)
	assert.Contains(t, h.ok("payment", "list", "--status", "failed"), "no payments")

	// cancel in part, with the balance expected.
	c := jsonObject(t, h.ok("payment", "cancel", imp, "--amount", "5000", "--checksum", "19900", "--reason", "부분 환불", "-o", "json"))
	assert.Equal(t, "cancelled", c["status"])
	assert.Equal(t, float64(5000), c["cancel_amount"])
	hist, _ := c["cancel_history"].([]any)
	require.Len(t, hist, 1)
	assert.Equal(t, "부분 환불", hist[0].(map[string]any)["reason"])
	out = h.ok("payment", "get", imp)
	assert.Regexp(t, `refundable +14,900 KRW`, out)

	// A stale checksum is refused by Iamport: an API error, exit 5.
	r := h.run("payment", "cancel", imp, "--amount", "1000", "--checksum", "19900")
	assert.Equal(t, exitAPI, r.code, r.stderr)
	oneLine(t, r.stderr)

	// Unknown imp_uid: exit 5, one line with the code and Iamport's message.
	r = h.run("payment", "get", "imps_000000000000")
	assert.Equal(t, exitAPI, r.code)
	assert.Empty(t, r.stdout)
	line := oneLine(t, r.stderr)
	assert.Contains(t, line, "HTTP 404, code -1: 존재하지 않는 결제정보입니다.")
}

func TestChargeDeclined(t *testing.T) {
	h := newHarness(t)
	h.key("cust_poor")
	h.srv.DeclineCustomer("cust_poor", "잔액부족")

	r := h.run("charge", "--customer-uid", "cust_poor", "--merchant-uid", "order_d", "--amount", "9900", "-o", "json")
	assert.Equal(t, exitDeclined, r.code)
	p := jsonObject(t, r.stdout)
	assert.Equal(t, "failed", p["status"])
	assert.Equal(t, "잔액부족", p["fail_reason"])
	assert.Contains(t, oneLine(t, r.stderr), "declined: 잔액부족 (merchant_uid order_d")
	assert.Equal(t, 0, h.srv.Charges("order_d"))

	r = h.run("charge", "--customer-uid", "cust_poor", "--merchant-uid", "order_d2", "--amount", "9900")
	assert.Equal(t, exitDeclined, r.code)
	assert.Contains(t, r.stdout, "fail_reason   잔액부족")
}

// A charge whose request the server answered 500 before committing: the
// SDK looks the merchant_uid up over the settle window, finds nothing, and
// reports not charged (exit 3).
func TestChargeNotCharged(t *testing.T) {
	h := newHarness(t)
	h.key("cust_1")
	h.srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: iamporttest.RouteAgain, MerchantUID: "order_nc"})

	r := h.run("charge", "--customer-uid", "cust_1", "--merchant-uid", "order_nc", "--amount", "9900",
		"--timeout", "500ms", "--settle-window", "600ms")
	assert.Equal(t, exitNotCharged, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	line := oneLine(t, r.stderr)
	assert.Contains(t, line, "not charged (merchant_uid order_nc)")
	assert.Contains(t, line, "safe")
	assert.Equal(t, 0, h.srv.ChargeAttempts("order_nc"))
	assert.GreaterOrEqual(t, h.srv.Requests(iamporttest.RouteFind), 1, "the SDK looked the payment up")

	// The one retry rule: the same command again charges.
	h.ok("charge", "--customer-uid", "cust_1", "--merchant-uid", "order_nc", "--amount", "9900")
	assert.Equal(t, 1, h.srv.Charges("order_nc"))
}

// A charge stuck "ready" at a slow PG past the client's budget: the
// outcome cannot be learned (exit 4).
func TestChargeOutcomeUnknown(t *testing.T) {
	h := newHarness(t)
	h.key("cust_1")
	// The slow PG answers long after the test; Close wakes it.
	h.srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultSlowPG, MerchantUID: "order_u", Delay: time.Minute})

	r := h.run("charge", "--customer-uid", "cust_1", "--merchant-uid", "order_u", "--amount", "9900",
		"--timeout", "300ms", "--settle-window", "700ms")
	assert.Equal(t, exitUnknown, r.code, r.stderr)
	line := oneLine(t, r.stderr)
	assert.Contains(t, line, "outcome unknown (merchant_uid order_u)")
	assert.Contains(t, line, "iamport payment find order_u")
	pays := h.srv.PaymentsByMerchantUID("order_u")
	require.Len(t, pays, 1)
	assert.Equal(t, "ready", pays[0].Status)
}

func TestBillingKeyCommands(t *testing.T) {
	h := newHarness(t)
	h.key("cust_k")

	out := h.ok("billing-key", "get", "cust_k")
	assert.Contains(t, out, "customer_uid  cust_k")
	assert.Contains(t, out, "4092-02**-****-5678")
	k := jsonObject(t, h.ok("billing-key", "get", "cust_k", "-o", "json"))
	assert.Equal(t, "jtnet", k["pg_provider"])
	v, present := k["card_type"]
	assert.True(t, present)
	assert.Nil(t, v, "JTNet has no card_type: null")

	h.ok("billing-key", "delete", "cust_k", "--reason", "해지")
	_, ok := h.srv.BillingKey("cust_k")
	assert.False(t, ok)
	r := h.run("billing-key", "get", "cust_k")
	assert.Equal(t, exitAPI, r.code)
	oneLine(t, r.stderr)
}

func TestScheduleCommands(t *testing.T) {
	h := newHarness(t)
	h.key("cust_s")
	at := h.srv.Clock().Now().Add(2 * time.Hour).Format(time.RFC3339)

	out := h.ok("schedule", "create", "--customer-uid", "cust_s", "--merchant-uid", "sch_1", "--amount", "9900", "--at", at, "--name", "월 구독")
	assert.Contains(t, out, "schedule_status  scheduled")
	h.ok("schedule", "create", "--customer-uid", "cust_s", "--merchant-uid", "sch_2", "--amount", "9900", "--at", at)

	from := h.srv.Clock().Now().Format(time.RFC3339)
	to := h.srv.Clock().Now().Add(24 * time.Hour).Format(time.RFC3339)
	lines := jsonLines(t, h.ok("schedule", "list", "--from", from, "--to", to, "-o", "json"))
	require.Len(t, lines, 2)
	assert.Equal(t, float64(9900), lines[0]["amount"])
	assert.Equal(t, "scheduled", lines[0]["schedule_status"])
	lines = jsonLines(t, h.ok("schedule", "list", "--customer-uid", "cust_s", "--from", from, "--to", to, "--limit", "1", "-o", "json"))
	require.Len(t, lines, 1)
	assert.Contains(t, h.ok("schedule", "list", "--from", from, "--to", to), "9,900 KRW")

	s := jsonObject(t, h.ok("schedule", "get", "sch_1", "-o", "json"))
	assert.Equal(t, "월 구독", s["name"])
	assert.Equal(t, at, s["schedule_at"])

	out = h.ok("schedule", "revoke", "sch_1")
	assert.Contains(t, out, "revoked")
	lines = jsonLines(t, h.ok("schedule", "revoke", "--customer-uid", "cust_s", "-o", "json"))
	require.Len(t, lines, 1)
	assert.Equal(t, "sch_2", lines[0]["merchant_uid"])

	// Nothing left to revoke: Iamport says so (code 1): exit 5.
	r := h.run("schedule", "revoke", "--customer-uid", "cust_s")
	assert.Equal(t, exitAPI, r.code)
	oneLine(t, r.stderr)
	assert.Equal(t, exitUsage, h.run("schedule", "revoke").code)
}

func TestTokenCheck(t *testing.T) {
	h := newHarness(t)
	out := h.ok("token", "check")
	assert.Contains(t, out, "credentials ok: token valid for 30m0s")
	j := jsonObject(t, h.ok("token", "check", "-o", "json"))
	assert.Equal(t, float64(1800), j["expires_in_seconds"])
	assert.Equal(t, 2, h.srv.TokenCalls())
	assert.NotContains(t, out, "token\":", "the token is never printed")

	h.env["IAMPORT_API_SECRET"] = "wrong"
	r := h.run("token", "check")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, oneLine(t, r.stderr), "HTTP 401")
	assert.NotContains(t, r.stderr, "wrong")
}

func TestUsageAndConfigErrors(t *testing.T) {
	h := newHarness(t)
	h.key("cust_1")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no credentials", []string{"payment", "get", "imp_1"}, map[string]string{"IAMPORT_API_KEY": ""}, "IAMPORT_API_KEY"},
		{"bad output", []string{"payment", "get", "imp_1", "-o", "yaml"}, nil, "--output"},
		{"unknown command", []string{"refund"}, nil, "unknown command"},
		{"missing args", []string{"payment", "get"}, nil, "arg"},
		{"missing flag", []string{"charge", "--amount", "1"}, nil, "required flag"},
		{"bad amount", []string{"charge", "--customer-uid", "c", "--merchant-uid", "m", "--amount", "9.9"}, nil, "--amount"},
		{"bad tier", []string{"payment", "get", "imp_1", "--tier", "toolong"}, nil, "tier"},
		{"plain http elsewhere", []string{"payment", "get", "imp_1", "--base-url", "http://example.com"}, nil, "base_url"},
		{"invalid before sending", []string{"charge", "--customer-uid", "c", "--merchant-uid", strings.Repeat("m", 41), "--amount", "1"}, nil, "merchant_uid"},
		{"bad time", []string{"payment", "list", "--from", "yesterday"}, nil, "--from"},
		{"bad status", []string{"payment", "list", "--status", "lost"}, nil, "--status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := map[string]string{}
			for k, v := range tc.env {
				saved[k] = h.env[k]
				h.env[k] = v
			}
			defer func() {
				for k, v := range saved {
					h.env[k] = v
				}
			}()
			r := h.run(tc.args...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, oneLine(t, r.stderr), tc.want)
		})
	}
	assert.Empty(t, h.srv.Payments(), "nothing was charged")
	assert.Equal(t, 0, h.srv.TokenCalls(), "nothing was sent")
}

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{0, "", "0 KRW"}, {999, "KRW", "999 KRW"}, {1000, "", "1,000 KRW"}, {1234567, "krw", "1,234,567 KRW"},
		{-9900, "KRW", "-9,900 KRW"}, {5, "USD", "0.05 USD"}, {123456, "USD", "1,234.56 USD"}, {1000, "JPY", "1,000 JPY"},
		{1500, "KWD", "1.500 KWD"},
	} {
		assert.Equal(t, tc.want, money(tc.amount, tc.currency))
	}
}

func TestParseTime(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	got, err := parseTime("--at", "2026-12-01T09:00:00+09:00", false)
	require.NoError(t, err)
	assert.True(t, got.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, kst)))

	got, err = parseTime("--from", "2026-12-01", false)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local), got)
	got, err = parseTime("--to", "2026-12-01", true)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 12, 2, 0, 0, 0, 0, time.Local), got, "a bare date as an end is the whole day")
	got, err = parseTime("--at", "2026-12-01 09:30", false)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 12, 1, 9, 30, 0, 0, time.Local), got)

	got, err = parseTime("--at", "+1h", false)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), got, time.Minute)
	got, err = parseTime("--to", "+2400h0m0s", true)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(2400*time.Hour), got, time.Minute)
	assert.False(t, isDate("+2400h0m0s"))
	assert.True(t, isDate("2026-12-01"))

	for _, bad := range []string{"", "tomorrow", "2026-13-01", "12/01/2026"} {
		_, err := parseTime("--at", bad, false)
		assert.Error(t, err, bad)
		assert.Equal(t, exitUsage, exitCode(err))
	}
}
