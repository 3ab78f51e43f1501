package billingrun_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/billingrun"
	"github.com/billingkr/iamport-go/iamporttest"
)

const (
	benchBatch       = 2000
	benchLatency     = 20 * time.Millisecond
	benchConcurrency = 16
	// benchIdeal is the wall time of the batch if only the server's latency
	// counted: 2,000 charges × 20ms / 16 at once = 2.5s.
	benchIdeal = benchBatch * benchLatency / benchConcurrency
)

// sleepCharger answers paid after the latency, with no HTTP at all: the
// runner's own overhead.
type sleepCharger struct{ d time.Duration }

func (s sleepCharger) AgainPayment(ctx context.Context, req *iamport.AgainPaymentRequest) (*iamport.Payment, error) {
	t := time.NewTimer(s.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &iamport.Payment{MerchantUID: req.MerchantUID, CustomerUID: req.CustomerUID, Amount: req.Amount, Status: iamport.PaymentPaid}, nil
}

// dialCounter is a transport that counts the TCP connections it opens.
func dialCounter(maxIdlePerHost int) (*http.Transport, *atomic.Int64) {
	var n atomic.Int64
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if maxIdlePerHost > 0 {
		tr.MaxIdleConnsPerHost = maxIdlePerHost
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	return tr, &n
}

// BenchmarkBatch charges 2,000 billing keys at concurrency 16 against a
// server that takes 20ms per request, and reports the wall time as a
// multiple of the ideal 2.5s (x-ideal), plus the TCP connections dialled
// per charge. Sub-benchmarks:
//
//   - stub: a Charger that sleeps 20ms (the runner alone);
//   - fake/sdk-default: the SDK on iamporttest.WithLatency(20ms), with the
//     client's default transport (no dial count);
//   - fake/idle-2: a clone of http.DefaultTransport (2 idle connections per
//     host, what the SDK uses today when given no http.Client), counting
//     dials;
//   - fake/idle-16: the same with MaxIdleConnsPerHost = Concurrency.
func BenchmarkBatch(b *testing.B) {
	charges := batch(benchBatch, "2026-11")
	report := func(b *testing.B, wall time.Duration, dials int64) {
		per := wall / time.Duration(b.N)
		b.ReportMetric(float64(per)/float64(benchIdeal), "x-ideal")
		b.ReportMetric(per.Seconds(), "wall-s/op")
		if dials >= 0 {
			b.ReportMetric(float64(dials)/float64(b.N*benchBatch), "dials/charge")
		}
	}
	b.Run("stub", func(b *testing.B) {
		var wall time.Duration
		for range b.N {
			r := &billingrun.Runner{Charger: sleepCharger{benchLatency}, Concurrency: benchConcurrency}
			start := time.Now()
			sum, err := r.RunSlice(context.Background(), charges)
			wall += time.Since(start)
			if err != nil || sum.Paid.Count != benchBatch {
				b.Fatal(sum, err)
			}
		}
		report(b, wall, -1)
	})
	for _, tc := range []struct {
		name    string
		maxIdle int // -1: no http.Client given; 0: http.DefaultTransport's setting (2)
	}{{"fake/sdk-default", -1}, {"fake/idle-2", 0}, {"fake/idle-16", benchConcurrency}} {
		b.Run(tc.name, func(b *testing.B) {
			var wall time.Duration
			var dials int64
			for range b.N {
				b.StopTimer()
				srv := iamporttest.NewServer(iamporttest.WithLatency(benchLatency))
				for _, c := range charges {
					if err := srv.RegisterBillingKey(c.CustomerUID, iamporttest.DefaultCardNumber); err != nil {
						b.Fatal(err)
					}
				}
				var opts []iamport.Option
				tr, n := dialCounter(tc.maxIdle)
				if tc.maxIdle >= 0 {
					opts = append(opts, iamport.WithHTTPClient(&http.Client{Transport: tr}))
				}
				client := srv.Client(opts...)
				r := &billingrun.Runner{Charger: client, Concurrency: benchConcurrency}
				b.StartTimer()
				start := time.Now()
				sum, err := r.RunSlice(context.Background(), charges)
				wall += time.Since(start)
				b.StopTimer()
				dials += n.Load()
				if err != nil || sum.Paid.Count != benchBatch {
					b.Fatal(sum, err)
				}
				for _, c := range charges[:10] {
					m, _ := billingrun.MerchantUID("", c.CustomerUID, c.Period)
					if srv.Charges(m) != 1 {
						b.Fatalf("%s charged %d times", m, srv.Charges(m))
					}
				}
				tr.CloseIdleConnections()
				srv.Close()
				b.StartTimer()
			}
			if tc.maxIdle < 0 {
				dials = -1 // the client's own transport: not counted
			}
			report(b, wall, dials)
		})
	}
}

// BenchmarkMerchantUID is the cost of deriving one merchant_uid.
func BenchmarkMerchantUID(b *testing.B) {
	b.ReportAllocs()
	for i := range b.N {
		if _, err := billingrun.MerchantUID("bill", "cust_00042", "2026-11"); err != nil || i < 0 {
			b.Fatal(err)
		}
	}
}
