package billingqueue

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/billingkr/iamport-go/iamporttest"
)

// cpuTicks reads the machine's busy and total CPU ticks from /proc/stat.
func cpuTicks() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line := strings.SplitN(string(b), "\n", 2)[0]
	f := strings.Fields(line)[1:]
	for i, x := range f {
		v, _ := strconv.ParseUint(x, 10, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

// postgresCPU sums the CPU time of the running processes named postgres
// (the server and its backends; from /proc/<pid>/stat, 100 ticks a second).
func postgresCPU() time.Duration {
	ents, _ := os.ReadDir("/proc")
	var ticks uint64
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		i := strings.LastIndexByte(st, ')')
		if i < 0 || !strings.Contains(st[:i], "(postgres") {
			continue
		}
		f := strings.Fields(st[i+1:]) // f[0] is the state (field 3); utime is field 14
		if len(f) > 12 {
			u, _ := strconv.ParseUint(f[11], 10, 64)
			k, _ := strconv.ParseUint(f[12], 10, 64)
			ticks += u + k
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// selfCPU is this process's CPU time (the fake runs here).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type scaleResult struct {
	procs, conc, n int
	elapsed        time.Duration
	cpu            float64 // share of the machine's CPUs busy (all users: the machine is shared)
	cores          float64 // CPU seconds of the workers and the fake per elapsed second
	pgCores        float64 // CPU seconds of Postgres per elapsed second
}

func (r scaleResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

// scaleRun enqueues n charges on a fresh Postgres database, starts procs
// worker processes of concurrency conc against a fake with 20 ms latency,
// and times the run from the first payment to the last.
func scaleRun(t *testing.T, n, procs, conc int) scaleResult {
	dsn := pgDSN(t)
	srv := iamporttest.NewServer(iamporttest.WithLatency(20 * time.Millisecond))
	defer srv.Close()
	charges := make([]Charge, n)
	for i := range charges {
		c := customerUID(i)
		if err := srv.RegisterBillingKey(c, iamporttest.DefaultCardNumber); err != nil {
			t.Fatal(err)
		}
		charges[i] = Charge{Run: "2026-11", CustomerUID: c, Amount: 9900, Name: "월 구독"}
	}
	q, _ := newPGQueue(t, dsn, nil, testConfig(-1))
	ctx := ctxT(t)
	if _, err := q.Enqueue(ctx, func(yield func(Charge) bool) {
		for _, c := range charges {
			if !yield(c) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	var ws []*workerProc
	for i := range procs {
		ws = append(ws, startWorker(t, "pg", dsn, srv.URL(), conc, fmt.Sprintf("scale-%d-%d", procs, i)))
	}
	waitFor(t, "the first payment", 60*time.Second, func() bool { return srv.Requests(iamporttest.RouteAgain) > 0 })
	begin := time.Now()
	b0, t0 := cpuTicks()
	self0, pg0 := selfCPU(), postgresCPU()
	waitFor(t, "every payment", 5*time.Minute, func() bool { return srv.Requests(iamporttest.RouteAgain) >= n })
	b1, t1 := cpuTicks()
	elapsed := time.Since(begin)
	own, pgUsed := selfCPU()-self0, postgresCPU()-pg0
	for _, w := range ws {
		w.stop(t)
		if ps := w.cmd.ProcessState; ps != nil {
			own += ps.UserTime() + ps.SystemTime() // whole life: includes start-up
		}
	}
	r, err := q.Report(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if r.ByStatus[StatusPaid].Count != n {
		t.Fatalf("%d procs: %s", procs, r)
	}
	cpu := 0.0
	if t1 > t0 {
		cpu = float64(b1-b0) / float64(t1-t0)
	}
	return scaleResult{procs: procs, conc: conc, n: n, elapsed: elapsed, cpu: cpu, cores: own.Seconds() / elapsed.Seconds(), pgCores: pgUsed.Seconds() / elapsed.Seconds()}
}

// Scale: 3 worker processes against 1 on one Postgres, 6,000 charges, 20 ms
// fake latency, side by side in one run; plus a sweep of one process's
// concurrency to show where it stops being bound by the latency. Run with
//
//	IAMPORT_SCALE=1 go test -run TestScale -v -timeout 30m .
//
// BQ_SCALE_N (default 6000), BQ_SCALE_PAIRS (default 2), BQ_SCALE_CONC (default 4: the concurrency
// compared) and BQ_SCALE_SWEEP (default "2,4,8,16,32"; "" to skip).
func TestScaleThreeProcessesVersusOne(t *testing.T) {
	if os.Getenv("IAMPORT_SCALE") != "1" {
		t.Skip("set IAMPORT_SCALE=1 to measure (takes minutes; figures in BENCHMARKS.md)")
	}
	n := 6000
	if v, err := strconv.Atoi(os.Getenv("BQ_SCALE_N")); err == nil && v > 0 {
		n = v
	}
	conc := 4
	if v, err := strconv.Atoi(os.Getenv("BQ_SCALE_CONC")); err == nil && v > 0 {
		conc = v
	}
	sweep := "2,4,8,16,32"
	if v, ok := os.LookupEnv("BQ_SCALE_SWEEP"); ok {
		sweep = v
	}
	pairs := 2
	if v, err := strconv.Atoi(os.Getenv("BQ_SCALE_PAIRS")); err == nil && v > 0 {
		pairs = v
	}
	// 1 and 3 processes alternate, so that the machine's other load (it is
	// shared) falls on both sides alike.
	var rows []scaleResult
	var oneRate, threeRate float64
	for range pairs {
		one := scaleRun(t, n, 1, conc)
		three := scaleRun(t, n, 3, conc)
		rows = append(rows, one, three)
		oneRate += one.rate() / float64(pairs)
		threeRate += three.rate() / float64(pairs)
	}
	for _, f := range strings.Split(sweep, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c == conc {
			continue
		}
		rows = append(rows, scaleRun(t, n, 1, c))
	}
	t.Logf("| processes | concurrency | charges | seconds | charges/s | latency bound | cores: workers+fake | cores: Postgres | machine busy (all users) |")
	t.Logf("|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		t.Logf("| %d | %d | %d | %.2f | %.0f | %.0f/s | %.2f | %.2f | %.0f%% |", r.procs, r.conc, r.n, r.elapsed.Seconds(), r.rate(),
			float64(r.procs*r.conc)/0.020, r.cores, r.pgCores, 100*r.cpu)
	}
	ratio := threeRate / oneRate
	t.Logf("3 processes / 1 process at concurrency %d, mean of %d pairs: %.0f/s vs %.0f/s = %.2fx", conc, pairs, threeRate, oneRate, ratio)
	if ratio < 2.5 {
		t.Errorf("3 processes are %.2fx one, want >= 2.5x", ratio)
	}
}
