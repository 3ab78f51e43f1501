package billingrun_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/billingrun"
)

// What the README says about SIGTERM: Run and RunSlice both return an error
// that wraps the ctx's; RunSlice counts what it left in NotStarted, while
// Run, reading an iter.Seq, leaves NotStarted 0, so Settled alone can be
// true for a run that stopped early: the error is what says so.
func TestStopReportsRunVsRunSlice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		run            func(r *billingrun.Runner, ctx context.Context, cs []billingrun.Charge) (billingrun.Summary, error)
		wantNotStarted bool
	}{
		{"RunSlice", func(r *billingrun.Runner, ctx context.Context, cs []billingrun.Charge) (billingrun.Summary, error) {
			return r.RunSlice(ctx, cs)
		}, true},
		{"Run", func(r *billingrun.Runner, ctx context.Context, cs []billingrun.Charge) (billingrun.Summary, error) {
			return r.Run(ctx, slices.Values(cs))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sc := &stubCharger{fn: func(_ context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
				cancel() // SIGTERM arrives during the first charge
				return paidFor(req), nil
			}}
			r := &billingrun.Runner{Charger: sc, Concurrency: 1}
			sum, err := tc.run(r, ctx, batch(20, "2026-11"))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v; want one that wraps context.Canceled", err)
			}
			if sum.Paid.Count < 1 || sum.Reported >= 20 {
				t.Fatalf("summary %v: want the started charges reported and the rest left", sum)
			}
			if tc.wantNotStarted {
				if sum.NotStarted != 20-sum.Reported || sum.Settled() {
					t.Errorf("RunSlice: NotStarted %d (reported %d), Settled %t; want the rest counted and not settled", sum.NotStarted, sum.Reported, sum.Settled())
				}
			} else if sum.NotStarted != 0 || !sum.Settled() {
				t.Errorf("Run: NotStarted %d, Settled %t; want 0 and true (only the error tells)", sum.NotStarted, sum.Settled())
			}
		})
	}
}
