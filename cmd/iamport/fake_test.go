package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startFake runs `iamport fake args...` in-process and returns its URL and
// what it printed; the fake stops when the test ends.
func startFake(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	urls := make(chan string, 1)
	exited := make(chan int, 1)
	a := &app{ctx: ctx, stdout: out, stderr: errb, getenv: func(string) string { return "" }, afterStart: func(u string) { urls <- u }}
	go func() { exited <- a.execute(append([]string{"fake", "--addr", "127.0.0.1:0"}, args...)) }()
	select {
	case u := <-urls:
		t.Cleanup(func() {
			cancel()
			assert.Equal(t, exitOK, <-exited, errb.String())
		})
		return u, out
	case code := <-exited:
		cancel()
		t.Fatalf("fake exited with %d: %s", code, errb.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("fake did not start")
	}
	return "", nil
}

func TestFakeCommand(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	require.NoError(t, os.WriteFile(seed, []byte(`{"billing_keys":[{"customer_uid":"acme_1"}],
		"decline_customers":[{"customer_uid":"acme_1","reason":"분실카드"}]}`), 0o600))
	url, banner := startFake(t, "--seed", seed, "--key", "suite_key", "--secret", "suite_secret", "-o", "json")
	info := jsonObject(t, banner.String())
	assert.Equal(t, url, info["url"])
	assert.Equal(t, "suite_key", info["api_key"])
	assert.Equal(t, "wall", info["clock"])
	assert.Equal(t, []any{"demo_customer", "demo_declined", "acme_1"}, info["billing_keys"])

	h := &harness{t: t, env: map[string]string{"IAMPORT_BASE_URL": url, "IAMPORT_API_KEY": "suite_key", "IAMPORT_API_SECRET": "suite_secret"}}
	h.ok("token", "check")
	p := jsonObject(t, h.ok("charge", "--customer-uid", "demo_customer", "--merchant-uid", "f_1", "--amount", "1000", "-o", "json"))
	assert.Equal(t, "paid", p["status"])
	paidAt, err := time.Parse(time.RFC3339, p["paid_at"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), paidAt, time.Minute, "wall-clock time")
	assert.Equal(t, exitDeclined, h.run("charge", "--customer-uid", "demo_declined", "--merchant-uid", "f_2", "--amount", "1000").code)
	r := h.run("charge", "--customer-uid", "acme_1", "--merchant-uid", "f_3", "--amount", "1000")
	assert.Equal(t, exitDeclined, r.code)
	assert.Contains(t, r.stderr, "분실카드")

	// The control API: a lost reply is reconciled; the ledger shows one charge.
	post(t, url+"/__fake/faults", `{"kind":"drop_after_commit","merchant_uid":"f_4"}`)
	h.ok("charge", "--customer-uid", "demo_customer", "--merchant-uid", "f_4", "--amount", "2000")
	var ledger struct {
		Charged struct {
			Count   int              `json:"count"`
			Amounts map[string]int64 `json:"amounts"`
		} `json:"charged"`
	}
	get(t, url+"/__fake/ledger", &ledger)
	assert.Equal(t, 2, ledger.Charged.Count)
	assert.Equal(t, int64(3000), ledger.Charged.Amounts["KRW"])

	// Reset forgets the payments, keeps the seed.
	post(t, url+"/__fake/reset", "")
	get(t, url+"/__fake/ledger", &ledger)
	assert.Equal(t, 0, ledger.Charged.Count)
	h.ok("charge", "--customer-uid", "demo_customer", "--merchant-uid", "f_1", "--amount", "1000")
}

func TestFakeManualClockAndBanner(t *testing.T) {
	url, banner := startFake(t, "--manual-clock")
	out := banner.String()
	assert.Contains(t, out, "listening on "+url+" (manual clock)")
	assert.Contains(t, out, "IAMPORT_API_KEY=test_api_key")
	assert.Contains(t, out, "demo_customer")
	assert.Contains(t, out, url+"/iamport.js")
	var c struct {
		Unix int64  `json:"unix"`
		Mode string `json:"mode"`
	}
	get(t, url+"/__fake/clock", &c)
	assert.Equal(t, "manual", c.Mode)
	before := c.Unix
	post(t, url+"/__fake/clock", `{"advance":"720h"}`)
	get(t, url+"/__fake/clock", &c)
	assert.Equal(t, before+720*3600, c.Unix)
}

func TestFakeBadFlags(t *testing.T) {
	h := &harness{t: t, env: map[string]string{}}
	for _, args := range [][]string{
		{"fake", "--addr", "256.0.0.1:1"},
		{"fake", "--seed", filepath.Join(t.TempDir(), "missing.json")},
		{"fake", "--key", ""},
	} {
		r := h.run(args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
		oneLine(t, r.stderr)
	}
}

func post(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, b.String())
}

func get(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
}
