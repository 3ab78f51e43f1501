package billingqueue

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// soak: IAMPORT_SOAK=1 runs the full proofs (10,000 charges); without it a
// small version (500 charges) runs, with the same kills and checks.
func proofSize() (n int, within time.Duration) {
	if os.Getenv("IAMPORT_SOAK") == "1" {
		return 10_000, 6 * time.Minute
	}
	return 500, 3 * time.Minute
}

// jobStates lists the state of every charge job and counts the jobs River
// rescued from a dead process.
func jobStates[TTx any](t *testing.T, q *Queue[TTx]) (states map[rivertype.JobState]int, rescued int) {
	t.Helper()
	states = map[rivertype.JobState]int{}
	params := river.NewJobListParams().Kinds(Kind).OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(10_000)
	for {
		res, err := q.River().JobList(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range res.Jobs {
			states[j.State]++
			for _, e := range j.Errors {
				if strings.Contains(e.Error, "Stuck job rescued") {
					rescued++
					break
				}
			}
		}
		if len(res.Jobs) < 10_000 {
			return states, rescued
		}
		params = params.After(res.LastCursor)
	}
}

// checkStates: every job is terminal or a dunning retry scheduled for later.
func checkStates(t *testing.T, states map[rivertype.JobState]int) {
	t.Helper()
	for st, n := range states {
		switch st {
		case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded, rivertype.JobStateScheduled:
		default:
			t.Errorf("%d jobs left %s", n, st)
		}
	}
}

// waitProgress waits until the fake has served at least n charge requests.
func waitProgress(t *testing.T, s *scenario, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for s.srv.Requests(iamporttest.RouteAgain) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d charge requests after %s", s.srv.Requests(iamporttest.RouteAgain), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The proof on Postgres: 3 worker processes, one SIGKILLed in the middle and
// started again. 0 double charges, 0 lost jobs, every job terminal or a
// scheduled dunning retry, the report equal to the fake's ledger, and jobs
// rescued from the killed process ran again with their merchant_uid.
func TestProofPostgresThreeProcessesOneKilled(t *testing.T) {
	t.Parallel() // with the SQLite proof: their waits for the rescue overlap
	dsn := pgDSN(t)
	n, within := proofSize()
	s := newScenario(t, n, true)
	cfg := testConfig(-1) // the test process only enqueues and reports
	q, _ := newPGQueue(t, dsn, nil, cfg)
	ctx := ctxT(t)
	if res, err := q.Enqueue(ctx, s.seq()); err != nil || res.Inserted != n {
		t.Fatalf("enqueue: %+v %v", res, err)
	}
	var ws []*workerProc
	for i := range 3 {
		ws = append(ws, startWorker(t, "pg", dsn, s.srv.URL(), 10, "pg-worker-"+string(rune('a'+i))))
	}
	waitProgress(t, s, n*2/5, within)
	ws[1].kill(t)
	killedAt := s.srv.Requests(iamporttest.RouteAgain)
	ws[1] = startWorker(t, "pg", dsn, s.srv.URL(), 10, "pg-worker-b-restarted")
	waitSettled(t, q, s.run, within)
	for _, w := range ws {
		w.stop(t)
	}
	r, err := q.Report(ctx, s.run)
	if err != nil {
		t.Fatal(err)
	}
	s.checkLedger(t, r)
	states, rescued := jobStates(t, q)
	checkStates(t, states)
	if rescued == 0 {
		t.Errorf("no job was rescued from the killed process (killed at %d charge requests)", killedAt)
	}
	if s.repeatPaid.Load() == 0 {
		t.Error("no charge request was repeated on a paid merchant_uid: the at-least-once re-run was not exercised")
	}
	t.Logf("killed at %d charge requests; %d jobs rescued and run again; states %v", killedAt, rescued, states)
	t.Log(r)
}

// The proof on SQLite: one worker process, SIGKILLed in the middle and
// started again on the same file.
func TestProofSQLiteOneProcessRestarted(t *testing.T) {
	t.Parallel()
	n, within := proofSize()
	s := newScenario(t, n, true)
	path := filepath.Join(t.TempDir(), "bq.db")
	q, _ := newSQLiteQueue(t, path, nil, testConfig(-1))
	ctx := ctxT(t)
	if res, err := q.Enqueue(ctx, s.seq()); err != nil || res.Inserted != n {
		t.Fatalf("enqueue: %+v %v", res, err)
	}
	w := startWorker(t, "sqlite", path, s.srv.URL(), 20, "sqlite-worker")
	waitProgress(t, s, n*2/5, within)
	w.kill(t)
	killedAt := s.srv.Requests(iamporttest.RouteAgain)
	w = startWorker(t, "sqlite", path, s.srv.URL(), 20, "sqlite-worker-restarted")
	waitSettled(t, q, s.run, within)
	w.stop(t)
	r, err := q.Report(ctx, s.run)
	if err != nil {
		t.Fatal(err)
	}
	s.checkLedger(t, r)
	states, rescued := jobStates(t, q)
	checkStates(t, states)
	if rescued == 0 {
		t.Errorf("no job was rescued from the killed process (killed at %d charge requests)", killedAt)
	}
	if s.repeatPaid.Load() == 0 {
		t.Error("no charge request was repeated on a paid merchant_uid: the at-least-once re-run was not exercised")
	}
	t.Logf("killed at %d charge requests; %d jobs rescued and run again; states %v", killedAt, rescued, states)
	t.Log(r)
}
