package billingrun_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/billingrun"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fault-proof parameters. The client gives up on an attempt after
// proofTimeout; FaultDelay holds a charge longer than that before committing
// it, FaultSlowPG leaves it "ready" for proofSlowPG; the settle window is
// long enough for the lookups to see both settle.
const (
	proofConcurrency = 32
	proofFaultPct    = 10 // % of charge calls hit by a fault
	proofDeclinePct  = 5  // % of customers whose card declines
	// proofTimeout bounds every attempt, lookups included: it is long enough
	// that a loaded 2-core machine under -race answers lookups within it.
	proofTimeout = 5 * time.Second
	// The fault delays pass on the fake's clock, which the client's settle
	// waits move: no outcome depends on how fast the machine is. Their
	// real-time fallback is far beyond proofTimeout.
	proofDelay  = 12 * time.Second // FaultDelay: > proofTimeout
	proofSlowPG = 14 * time.Second // FaultSlowPG: "ready" this long
	proofSettle = 60 * time.Second
)

// proofCharges is 1,000 in the README's `go test ./...`, and 5,000 when
// IAMPORT_SOAK=1 (set by .ci/run).
var proofCharges = func() int {
	if os.Getenv("IAMPORT_SOAK") == "1" {
		return 5000
	}
	return 1000
}()

var proofKinds = []iamporttest.FaultKind{
	iamporttest.FaultReset,
	iamporttest.Fault5xxBeforeCommit,
	iamporttest.FaultDropAfterCommit,
	iamporttest.Fault5xxAfterCommit,
	iamporttest.FaultHTML502,
	iamporttest.FaultDelay,
	iamporttest.FaultSlowPG,
	iamporttest.FaultRedirect,
	iamporttest.FaultRedirectAfterCommit,
}

// commits says whether a fault kind lets the charge reach the ledger.
func commits(k iamporttest.FaultKind) bool {
	switch k {
	case iamporttest.FaultReset, iamporttest.Fault5xxBeforeCommit, iamporttest.FaultHTML502, iamporttest.FaultRedirect:
		return false
	}
	return true
}

// hash64 is a deterministic hash of its parts: the fault plan is a pure
// function of (seed, merchant_uid), the same on every machine and run.
func hash64(parts ...string) uint64 {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return binary.BigEndian.Uint64(h[:8])
}

// faultPlan decides, per merchant_uid, which charge calls a fault hits.
type faultPlan struct {
	seed string

	mu   sync.Mutex
	hits map[iamporttest.FaultKind]int
	of   map[string]iamporttest.FaultKind // merchant_uid → the fault of its (last) charge call
}

func newFaultPlan(seed string) *faultPlan {
	return &faultPlan{seed: seed, hits: map[iamporttest.FaultKind]int{}, of: map[string]iamporttest.FaultKind{}}
}

func (fp *faultPlan) kind(merchantUID string) iamporttest.FaultKind {
	h := hash64(fp.seed, merchantUID)
	if h%100 >= proofFaultPct {
		return iamporttest.FaultNone
	}
	return proofKinds[(h/100)%uint64(len(proofKinds))]
}

// fn is the fake's fault function: only charge calls are hit, never
// getToken or the lookups, so the SDK can always learn the truth.
func (fp *faultPlan) fn(route, merchantUID string) iamporttest.Fault {
	if route != iamporttest.RouteAgain {
		return iamporttest.Fault{}
	}
	k := fp.kind(merchantUID)
	fp.mu.Lock()
	fp.hits[k]++
	fp.of[merchantUID] = k
	fp.mu.Unlock()
	switch k {
	case iamporttest.FaultDelay:
		return iamporttest.Fault{Kind: k, Delay: proofDelay}
	case iamporttest.FaultSlowPG:
		return iamporttest.Fault{Kind: k, Delay: proofSlowPG}
	}
	return iamporttest.Fault{Kind: k}
}

func (fp *faultPlan) faultOf(m string) iamporttest.FaultKind {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return fp.of[m]
}

type proofRun struct {
	sum     billingrun.Summary
	results map[string]billingrun.Result // by merchant_uid
	matrix  map[iamporttest.FaultKind]map[billingrun.Outcome]int
}

func runProof(t *testing.T, srv *iamporttest.Server, client *iamport.Client, charges []billingrun.Charge, fp *faultPlan) proofRun {
	t.Helper()
	if fp != nil {
		srv.SetFaultFunc(fp.fn)
	} else {
		srv.ClearFaults()
	}
	pr := proofRun{results: map[string]billingrun.Result{}, matrix: map[iamporttest.FaultKind]map[billingrun.Outcome]int{}}
	r := &billingrun.Runner{
		Charger:     client,
		Prefix:      "proof",
		Concurrency: proofConcurrency,
		OnResult: func(res billingrun.Result) {
			if _, dup := pr.results[res.MerchantUID]; dup {
				t.Errorf("merchant_uid %s reported twice", res.MerchantUID)
			}
			pr.results[res.MerchantUID] = res
		},
	}
	sum, err := r.RunSlice(context.Background(), charges)
	require.NoError(t, err)
	pr.sum = sum
	for m, res := range pr.results {
		k := iamporttest.FaultNone
		if fp != nil {
			k = fp.faultOf(m)
		}
		if pr.matrix[k] == nil {
			pr.matrix[k] = map[billingrun.Outcome]int{}
		}
		pr.matrix[k][res.Outcome]++
	}
	return pr
}

func (pr proofRun) log(t *testing.T, name string, fp *faultPlan) {
	t.Helper()
	t.Logf("%s: %s", name, pr.sum)
	kinds := []iamporttest.FaultKind{iamporttest.FaultNone}
	kinds = append(kinds, proofKinds...)
	for _, k := range kinds {
		row := pr.matrix[k]
		if row == nil {
			continue
		}
		hits := ""
		if fp != nil {
			fp.mu.Lock()
			hits = fmt.Sprintf(" (fault hits %d)", fp.hits[k])
			fp.mu.Unlock()
		}
		var cells []string
		for _, o := range billingrun.Outcomes {
			if row[o] > 0 {
				cells = append(cells, fmt.Sprintf("%s %d", o, row[o]))
			}
		}
		t.Logf("  %-22s%s: %s", k, hits, strings.Join(cells, ", "))
	}
}

// TestFaultProof is the money contract at batch scale: 5,000 charges at
// concurrency 32 on the fake, 10 % of the charge calls hit by every kind of
// fault the fake has (reset, 5xx before and after the commit, a reply
// dropped after the commit, an HTML 502 from a proxy, a delay beyond the
// client's timeout, a PG slow to answer), 5 % of the cards declining. The fake's own ledger is the
// judge: no merchant_uid is ever charged twice, the runner's Paid is exactly
// the ledger's paid, no outcome is Unknown while lookups are answered, and
// running the batch again charges nothing that was paid.
func TestFaultProof(t *testing.T) {
	start := time.Now()
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)

	charges := make([]billingrun.Charge, proofCharges)
	declines := map[string]bool{} // customer_uid
	uidOf := map[string]string{}  // customer_uid → merchant_uid
	for i := range charges {
		cuid := fmt.Sprintf("cust_%05d", i)
		require.NoError(t, srv.RegisterBillingKey(cuid, iamporttest.DefaultCardNumber))
		if hash64("decline", cuid)%100 < proofDeclinePct {
			srv.DeclineCustomer(cuid, "잔액부족")
			declines[cuid] = true
		}
		charges[i] = billingrun.Charge{CustomerUID: cuid, Amount: 1000 + int64(i%50)*100, Name: "월간 구독", Period: "2026-11"}
		m, err := billingrun.MerchantUID("proof", cuid, "2026-11")
		require.NoError(t, err)
		uidOf[cuid] = m
	}

	client := srv.Client(
		iamport.WithTimeout(proofTimeout),
		iamport.WithSettleWindow(proofSettle),
		iamport.WithRetryPolicy(iamport.RetryPolicy{MaxAttempts: 3, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}),
	)

	// ledger reads the fake: merchant_uid → imp_uid of its paid payment.
	ledger := func() map[string]string {
		paid := map[string]string{}
		for _, p := range srv.Payments() {
			if !p.PaidAt.IsZero() {
				if prev, dup := paid[p.MerchantUID]; dup {
					t.Errorf("merchant_uid %s charged twice: %s and %s", p.MerchantUID, prev, p.ImpUID)
				}
				paid[p.MerchantUID] = p.ImpUID
			}
		}
		return paid
	}
	attempts := func() map[string]int {
		n := map[string]int{}
		for _, p := range srv.Payments() {
			n[p.MerchantUID]++
		}
		return n
	}
	// checkRun holds for every run: the runner and the ledger agree.
	checkRun := func(name string, pr proofRun, fp *faultPlan, paid map[string]string) {
		t.Helper()
		assert.Equal(t, proofCharges, pr.sum.Reported, name)
		assert.Len(t, pr.results, proofCharges, name)
		assert.Zero(t, pr.sum.Invalid.Count, name)
		unknownPaid := 0
		for _, c := range charges {
			m := uidOf[c.CustomerUID]
			assert.LessOrEqual(t, srv.Charges(m), 1, "%s: %s charged twice", name, m)
			res, ok := pr.results[m]
			if !assert.True(t, ok, "%s: no result for %s", name, m) {
				continue
			}
			imp, isPaid := paid[m]
			switch res.Outcome {
			case billingrun.Paid:
				if assert.True(t, isPaid, "%s: %s reported Paid but the fake has no paid payment", name, m) {
					assert.Equal(t, imp, res.Payment.ImpUID, "%s: %s", name, m)
				}
				assert.Equal(t, c.Amount, res.Payment.Amount)
				assert.False(t, declines[c.CustomerUID], "%s: a declining card reported Paid", name)
			case billingrun.Declined:
				assert.False(t, isPaid, "%s: %s reported Declined but is paid", name, m)
				assert.True(t, declines[c.CustomerUID], "%s: %s declined without a declining card", name, m)
			case billingrun.NotCharged:
				assert.False(t, isPaid, "%s: %s reported NotCharged but is paid (%v)", name, m, res.Err)
				if fp != nil {
					assert.False(t, commits(fp.faultOf(m)), "%s: %s NotCharged after a %v (%v)", name, m, fp.faultOf(m), res.Err)
				} else {
					t.Errorf("%s: %s NotCharged without a fault: %v", name, m, res.Err)
				}
			case billingrun.Unknown:
				// Unknown is honest only where the client's own timeout cut a
				// request that the fake went on processing (a late commit):
				// Iamport may still be working on it. Anything else answers.
				if fp == nil || (fp.faultOf(m) != iamporttest.FaultDelay && fp.faultOf(m) != iamporttest.FaultSlowPG) {
					t.Errorf("%s: %s ended unknown while the fake answers lookups: %v", name, m, res.Err)
				}
				if isPaid {
					unknownPaid++
				}
			default:
				t.Errorf("%s: %s ended %s: %v", name, m, res.Outcome, res.Err)
			}
			if isPaid {
				assert.Contains(t, []billingrun.Outcome{billingrun.Paid, billingrun.Unknown}, res.Outcome,
					"%s: %s is paid in the fake, reported %s", name, m, res.Outcome)
			}
		}
		assert.Len(t, paid, pr.sum.Paid.Count+unknownPaid, "%s: the ledger has exactly the runner's Paid, and the late commits it reported Unknown", name)
	}

	// Run 1: the faults of seed "run1".
	fp1 := newFaultPlan("run1")
	t1 := time.Now()
	r1 := runProof(t, srv, client, charges, fp1)
	paid1 := ledger()
	r1.log(t, fmt.Sprintf("run 1 (faults, %s)", time.Since(t1).Round(time.Millisecond)), fp1)
	checkRun("run 1", r1, fp1, paid1)
	for _, k := range proofKinds {
		assert.Positive(t, r1.matrix[k][billingrun.Paid]+r1.matrix[k][billingrun.NotCharged]+r1.matrix[k][billingrun.Declined], "run 1: fault kind %v never hit", k)
	}
	faulted := 0
	for _, k := range proofKinds {
		faulted += fp1.hits[k]
	}
	assert.InDelta(t, proofCharges*proofFaultPct/100, faulted, float64(proofCharges*proofFaultPct/100/4), "about 10 %% of the charge calls are faulted")
	assert.InDelta(t, proofCharges*proofDeclinePct/100, len(declines), float64(proofCharges*proofDeclinePct/100/4))
	// Committing faults on good cards always end Paid.
	for _, k := range proofKinds {
		if commits(k) {
			assert.Zero(t, r1.matrix[k][billingrun.NotCharged], "run 1: %v ended NotCharged", k)
		}
	}
	assert.Zero(t, r1.matrix[iamporttest.FaultNone][billingrun.NotCharged], "run 1: NotCharged without a fault")

	// Run 2, a minute later: the same batch, a different fault plan. What
	// was paid is reported Paid with the same imp_uid and gets no new
	// payment record; only what run 1 did not charge can be charged now.
	srv.Clock().Advance(time.Minute)
	attempts1 := attempts()
	fp2 := newFaultPlan("run2")
	t2 := time.Now()
	r2 := runProof(t, srv, client, charges, fp2)
	paid2 := ledger()
	r2.log(t, fmt.Sprintf("run 2 (re-run, faults, %s)", time.Since(t2).Round(time.Millisecond)), fp2)
	checkRun("run 2", r2, fp2, paid2)
	attempts2 := attempts()
	newlyPaid := 0
	for m, imp := range paid1 {
		assert.Equal(t, billingrun.Paid, r2.results[m].Outcome, "run 2: %s paid in run 1 reported %s: %v", m, r2.results[m].Outcome, r2.results[m].Err)
		assert.Equal(t, imp, paid2[m], "run 2: %s paid again", m)
		assert.Equal(t, attempts1[m], attempts2[m], "run 2: %s paid in run 1 got a new payment record", m)
	}
	for m := range paid2 {
		if _, before := paid1[m]; !before {
			newlyPaid++
			assert.Contains(t, []billingrun.Outcome{billingrun.NotCharged, billingrun.Unknown}, r1.results[m].Outcome, "run 2 charged %s, which run 1 reported %s", m, r1.results[m].Outcome)
		}
	}
	t.Logf("run 2: %d newly paid (NotCharged or, after a late commit, Unknown in run 1), %d already paid reported Paid again", newlyPaid, len(paid1))

	// Run 3, no faults: the batch converges. Every good card is paid once,
	// every declining card is declined, nothing is left to retry.
	srv.Clock().Advance(time.Minute)
	t3 := time.Now()
	r3 := runProof(t, srv, client, charges, nil)
	paid3 := ledger()
	r3.log(t, fmt.Sprintf("run 3 (no faults, %s)", time.Since(t3).Round(time.Millisecond)), nil)
	checkRun("run 3", r3, nil, paid3)
	assert.Equal(t, proofCharges-len(declines), r3.sum.Paid.Count)
	assert.Equal(t, len(declines), r3.sum.Declined.Count)
	assert.True(t, r3.sum.Settled())
	assert.Len(t, paid3, proofCharges-len(declines))

	total := time.Since(start)
	t.Logf("requests: again %d, find %d, getToken %d; wall %s",
		srv.Requests(iamporttest.RouteAgain), srv.Requests("GET /payments/find/{merchant_uid}"), srv.TokenCalls(), total.Round(time.Millisecond))

	// Results stream once per charge: the outcomes add up.
	for _, pr := range []proofRun{r1, r2, r3} {
		n := 0
		for _, o := range billingrun.Outcomes {
			n += pr.sum.Of(o).Count
		}
		assert.Equal(t, proofCharges, n)
	}
}
