package billingqueue

import (
	"context"
	"testing"
	"time"
)

// RateLimit caps the charges a process starts per second: 30 charges at
// 20/s (burst 1) take at least 1.45 s however many workers there are.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := newScenario(t, 30, false)
	cfg := testConfig(10)
	cfg.RateLimit, cfg.RateBurst = 20, 1
	q, _ := newSQLiteQueue(t, ":memory:", s.srv.Client(sdkOptions()...), cfg)
	ctx := ctxT(t)
	if _, err := q.Enqueue(ctx, s.seq()); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r := waitSettled(t, q, s.run, 60*time.Second)
	elapsed := time.Since(begin)
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = q.Stop(stop)
	s.checkLedger(t, r)
	// 30 base charges + 2 dunning attempts of the declined one = 32 starts.
	if elapsed < 1450*time.Millisecond {
		t.Errorf("30+ charges at 20/s took %s", elapsed)
	}
	t.Logf("%s at 20/s", elapsed)
}
