package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billingkr/iamport-go/billingrun"
	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// billFile writes a CSV of n charges (customers cust_0000…) and registers
// their keys; every declineEvery-th customer declines. It returns the path
// and the declined customers.
func (h *harness) billFile(n, declineEvery int) (string, map[string]bool) {
	h.t.Helper()
	var b strings.Builder
	b.WriteString("customer_uid,amount,name\n")
	declined := map[string]bool{}
	for i := range n {
		cu := fmt.Sprintf("cust_%04d", i)
		h.key(cu)
		if declineEvery > 0 && i%declineEvery == 0 {
			h.srv.DeclineCustomer(cu, "한도초과")
			declined[cu] = true
		}
		fmt.Fprintf(&b, "%s,%d,Pro 플랜\n", cu, 9900+i)
	}
	path := filepath.Join(h.t.TempDir(), "charges.csv")
	require.NoError(h.t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path, declined
}

// ledger is what the fake took: paid payments and their sum.
func (h *harness) ledger() (paid int, sum int64, records int) {
	for _, p := range h.srv.Payments() {
		records++
		if !p.PaidAt.IsZero() {
			paid++
			sum += p.Amount
		}
	}
	return paid, sum, records
}

func TestBillThousandLinesAndRerun(t *testing.T) {
	h := newHarness(t)
	path, declined := h.billFile(1000, 20)

	// First run, plain lines (not a terminal).
	r := h.run("bill", "--file", path, "--period", "2026-11", "--concurrency", "8")
	require.Equal(t, exitDeclined, r.code, "declines and nothing worse: exit 2; stderr %s", r.stderr)
	assert.Empty(t, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var paidLines, declinedLines int
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "paid "):
			paidLines++
		case strings.HasPrefix(l, "declined "):
			declinedLines++
			assert.Contains(t, l, "한도초과")
		}
	}
	assert.Equal(t, 950, paidLines)
	assert.Equal(t, 50, declinedLines)
	assert.Contains(t, r.stdout, "1000 charges in")
	assert.Regexp(t, `paid +950  `, r.stdout)
	assert.Regexp(t, `declined +50  `, r.stdout)

	paid, sum, records := h.ledger()
	assert.Equal(t, 950, paid)
	assert.Equal(t, 1000, records)
	var want int64
	for i := range 1000 {
		if !declined[fmt.Sprintf("cust_%04d", i)] {
			want += int64(9900 + i)
		}
	}
	assert.Equal(t, want, sum)
	assert.Contains(t, r.stdout, money(want, "KRW"), "the summary's paid amount is the ledger's")

	// Re-run, as JSON: the summary equals the ledger, and nothing new is
	// charged (declines are tried again and decline again).
	r = h.run("bill", "--file", path, "--period", "2026-11", "-o", "json")
	require.Equal(t, exitDeclined, r.code, r.stderr)
	objs := jsonLines(t, r.stdout)
	require.Len(t, objs, 1001)
	sumLine := objs[1000]
	assert.Equal(t, "summary", sumLine["type"])
	assert.Equal(t, float64(1000), sumLine["reported"])
	assert.Equal(t, map[string]any{"count": float64(950), "amounts": map[string]any{"KRW": float64(want)}}, sumLine["paid"])
	assert.Equal(t, float64(50), sumLine["declined"].(map[string]any)["count"])
	assert.Equal(t, true, sumLine["settled"])
	seen := map[any]bool{}
	for _, o := range objs[:1000] {
		assert.Equal(t, "result", o["type"])
		seen[o["merchant_uid"]] = true
	}
	assert.Len(t, seen, 1000)

	paid2, sum2, records2 := h.ledger()
	assert.Equal(t, paid, paid2, "the re-run charged nothing new")
	assert.Equal(t, sum, sum2)
	assert.Equal(t, records+50, records2, "only the declined were tried again")
	uid, err := billingrun.MerchantUID(billingrun.DefaultPrefix, "cust_0001", "2026-11")
	require.NoError(t, err)
	assert.Equal(t, 1, h.srv.Charges(uid))
}

func TestBillProgressBarOnTerminal(t *testing.T) {
	h := newHarness(t)
	path, _ := h.billFile(40, 10)
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&screen, ptmx) // ends with EIO once tty is closed
		close(done)
	}()
	a := &app{ctx: context.Background(), stdout: tty, stderr: tty, getenv: h.getenv}
	code := a.execute([]string{"bill", "--file", path, "--period", "2026-11"})
	require.NoError(t, tty.Close())
	<-done
	out := screen.String()
	assert.Equal(t, exitDeclined, code, out)
	assert.Contains(t, out, "charging")
	assert.Contains(t, out, "100%")
	assert.Contains(t, out, "40/40")
	assert.Contains(t, out, "declined    cust_0010", "what was not paid is listed")
	assert.NotContains(t, out, "paid        cust_0001", "paid lines give way to the bar")
	assert.Contains(t, out, "40 charges in")

	// The same run without a terminal: plain lines, no bar.
	r := h.run("bill", "--file", path, "--period", "2026-11")
	assert.NotContains(t, r.stdout, "charging")
	assert.NotContains(t, r.stderr, "charging")
	assert.Contains(t, r.stdout, "paid        cust_0001")
	assert.Equal(t, 40+9, strings.Count(r.stdout, "\n"), "40 lines, a blank line and the summary's 8 (one per outcome, and settled)")
}

func TestBillBadFilesChargeNothing(t *testing.T) {
	h := newHarness(t)
	h.key("cust_1")
	dir := t.TempDir()
	for name, body := range map[string]string{
		"bad amount":     "customer_uid,amount\ncust_1,9900\ncust_1,12.5\n",
		"no period":      "customer_uid,amount\ncust_1,9900\n",
		"unknown column": "customer_uid,amount,period,colour\ncust_1,9900,2026-11,red\n",
		"no amount":      "customer_uid,period\ncust_1,2026-11\n",
		"empty":          "customer_uid,amount,period\n",
		"short line":     "customer_uid,amount,period\ncust_1,9900\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".csv")
			require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
			r := h.run("bill", "--file", path)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			oneLine(t, r.stderr)
		})
	}
	assert.Equal(t, exitUsage, h.run("bill").code)
	assert.Empty(t, h.srv.Payments())

	// Columns in any order, a period column, quoted amounts with commas.
	path := filepath.Join(dir, "ok.csv")
	require.NoError(t, os.WriteFile(path, []byte("\ufeffperiod,amount,customer_uid\n2026-11,\"19,900\",cust_1\n# a comment\n"), 0o600))
	r := h.run("bill", "--file", path, "-o", "json")
	require.Equal(t, exitOK, r.code, r.stderr)
	objs := jsonLines(t, r.stdout)
	require.Len(t, objs, 2)
	assert.Equal(t, float64(19900), objs[0]["amount"])
	assert.Equal(t, "paid", objs[0]["outcome"])
}

// A run whose context has ended (SIGINT before it began) starts nothing and
// says so: exit 3, and the same file can be run again.
func TestBillInterruptedStartsNothing(t *testing.T) {
	h := newHarness(t)
	path, _ := h.billFile(5, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"bill", "--file", path, "--period", "2026-11"}, &out, &errb, h.getenv)
	assert.Equal(t, exitNotCharged, code)
	assert.Contains(t, oneLine(t, errb.String()), "charges not started: run the same file again")
	assert.Contains(t, out.String(), "not started")
	assert.Empty(t, h.srv.Payments())
}
