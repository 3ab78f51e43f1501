package billingqueue

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A month with faults on SQLite, in process: enqueued twice (the second
// inserts nothing), worked, and the report equals the fake's ledger.
func TestSQLiteMonthWithFaults(t *testing.T) {
	t.Parallel()
	s := newScenario(t, 200, true)
	q, _ := newSQLiteQueue(t, filepath.Join(t.TempDir(), "bq.db"), s.srv.Client(sdkOptions()...), testConfig(20))
	ctx := ctxT(t)
	res, err := q.Enqueue(ctx, s.seq())
	if err != nil || res.Inserted != 200 || res.Duplicates != 0 {
		t.Fatalf("enqueue: %+v %v", res, err)
	}
	res, err = q.Enqueue(ctx, s.seq())
	if err != nil || res.Inserted != 0 || res.Duplicates != 200 {
		t.Fatalf("enqueue again: %+v %v", res, err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r := waitSettled(t, q, s.run, 60*time.Second)
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Stop(stop); err != nil {
		t.Fatal(err)
	}
	s.checkLedger(t, r)
	// Enqueueing the finished month again still inserts nothing.
	res, err = q.Enqueue(ctx, s.seq())
	if err != nil || res.Inserted != 0 {
		t.Fatalf("enqueue after the run: %+v %v", res, err)
	}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"by_status"`) {
		t.Fatalf("json: %v %.200s", err, b)
	}
	t.Log(r)
}

// The same on Postgres, in process.
func TestPostgresMonthWithFaults(t *testing.T) {
	t.Parallel()
	dsn := pgDSN(t)
	s := newScenario(t, 200, true)
	q, _ := newPGQueue(t, dsn, s.srv.Client(sdkOptions()...), testConfig(20))
	ctx := ctxT(t)
	res, err := q.Enqueue(ctx, s.seq())
	if err != nil || res.Inserted != 200 {
		t.Fatalf("enqueue: %+v %v", res, err)
	}
	res, err = q.Enqueue(ctx, s.seq())
	if err != nil || res.Inserted != 0 || res.Duplicates != 200 {
		t.Fatalf("enqueue again: %+v %v", res, err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r := waitSettled(t, q, s.run, 60*time.Second)
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Stop(stop); err != nil {
		t.Fatal(err)
	}
	s.checkLedger(t, r)
	t.Log(r)
}
