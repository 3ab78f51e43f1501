package billingqueue

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// Worker processes: the test binary re-executed with BQ_WORKER set runs a
// queue until SIGTERM (or dies by SIGKILL).
const (
	envWorker     = "BQ_WORKER"      // "pg" or "sqlite"
	envWorkerDSN  = "BQ_WORKER_DSN"  // Postgres DSN or SQLite path
	envWorkerFake = "BQ_WORKER_FAKE" // the fake's URL
	envWorkerConc = "BQ_WORKER_CONC" // concurrency
	envWorkerName = "BQ_WORKER_NAME"
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(envWorker); kind != "" {
		os.Exit(workerMain(kind))
	}
	code := m.Run()
	stopPostgres()
	os.Exit(code)
}

// sdkOptions: attempt timeout < settle window < JobTimeout. Short, so that
// the faults that make the SDK ask over its whole window (a 5xx or reset
// before the commit: "not charged" is only known at the window's end) do not
// hold the workers' slots for long.
func sdkOptions() []iamport.Option {
	return []iamport.Option{iamport.WithTimeout(time.Second), iamport.WithSettleWindow(1500 * time.Millisecond)}
}

// testConfig is the queue config of the tests and worker processes: short
// backoffs, rescue soon after JobTimeout, fast fetches.
func testConfig(conc int) Config {
	return Config{
		Concurrency:          conc,
		Dunning:              []time.Duration{0, 24 * time.Hour},
		NotChargedBackoff:    100 * time.Millisecond,
		UnknownSnooze:        200 * time.Millisecond,
		JobTimeout:           8 * time.Second,
		RescueStuckJobsAfter: 10 * time.Second,
		FetchCooldown:        2 * time.Millisecond,
		FetchPollInterval:    100 * time.Millisecond,
		StopTimeout:          10 * time.Second,
		RiverConfig:          func(c *river.Config) { c.TestOnly = true },
	}
}

func workerMain(kind string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	conc, _ := strconv.Atoi(os.Getenv(envWorkerConc))
	iam, err := iamport.NewClient(iamporttest.DefaultAPIKey, iamporttest.DefaultAPISecret,
		append([]iamport.Option{iamport.WithBaseURL(os.Getenv(envWorkerFake))}, sdkOptions()...)...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	cfg := testConfig(conc)
	dsn := os.Getenv(envWorkerDSN)
	switch kind {
	case "pg":
		pcfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 2
		}
		pcfg.MaxConns = int32(conc + 5)
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 2
		}
		defer pool.Close()
		q, err := NewPostgres(pool, iam, cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 2
		}
		err = q.Run(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 1
		}
	case "sqlite":
		db, err := OpenSQLite(dsn)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 2
		}
		defer db.Close()
		q, err := NewSQLite(db, iam, cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 2
		}
		if err := q.Run(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 1
		}
	}
	return 0
}

// workerProc is a running worker process.
type workerProc struct {
	cmd  *exec.Cmd
	done chan error
	name string
	log  *os.File
}

func startWorker(t *testing.T, kind, dsn, fakeURL string, conc int, name string) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"="+kind, envWorkerDSN+"="+dsn, envWorkerFake+"="+fakeURL,
		envWorkerConc+"="+strconv.Itoa(conc), envWorkerName+"="+name)
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, done: make(chan error, 1), name: name, log: logf}
	go func() { w.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-w.done
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s log tail:\n%s", name, b)
		}
		logf.Close()
	})
	return w
}

// stop sends SIGTERM and waits for a clean exit.
func (w *workerProc) stop(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		w.done <- err
		if err != nil {
			t.Errorf("%s exited: %v", w.name, err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s", w.name)
	}
}

// kill SIGKILLs the process.
func (w *workerProc) kill(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-w.done
	w.done <- err
}

// ---- Postgres ----

var pg struct {
	once    sync.Once
	dsn     string // of the "postgres" database; "" when none
	why     string // why there is none
	dataDir string
	stopCmd []string
}

// pgDSN returns a DSN of a fresh database on a reachable Postgres: $BQ_PG_DSN,
// else a local server on the default socket or port, else a throwaway
// cluster started here (initdb and pg_ctl as the postgres user when root).
// Without Postgres the test is skipped, unless CI=true: then it fails.
func pgDSN(t *testing.T) string {
	t.Helper()
	pg.once.Do(findPostgres)
	if pg.dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Postgres is required under CI=true and could not be had: %s", pg.why)
		}
		t.Skipf("no Postgres (set BQ_PG_DSN, or install Debian's postgresql): %s", pg.why)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("bq_%s_%d", strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name())), time.Now().UnixNano()%1e9)
	if len(name) > 60 {
		name = name[len(name)-60:]
		name = "bq" + name[2:]
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pg.dsn)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	cfg, err := pgx.ParseConfig(pg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", cfg.Host, cfg.Port, cfg.User, name)
}

func canConnect(dsn string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false
	}
	c.Close(ctx)
	return true
}

func findPostgres() {
	if d := os.Getenv("BQ_PG_DSN"); d != "" {
		if canConnect(d) {
			pg.dsn = d
			return
		}
		pg.why = "BQ_PG_DSN is set but does not connect"
		return
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		if _, err2 := os.Stat("/usr/lib/postgresql/15/bin/initdb"); err2 == nil {
			initdb = "/usr/lib/postgresql/15/bin/initdb"
		} else {
			pg.why = "initdb not found"
			return
		}
	}
	pgCtl := filepath.Join(filepath.Dir(initdb), "pg_ctl")
	dir, err := os.MkdirTemp("", "bq-pg-")
	if err != nil {
		pg.why = err.Error()
		return
	}
	asUser := func(args ...string) *exec.Cmd { return exec.Command(args[0], args[1:]...) }
	user := os.Getenv("USER")
	if os.Geteuid() == 0 {
		user = "postgres"
		if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
			pg.why = "chown: " + string(out)
			return
		}
		asUser = func(args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asUser(initdb, "-D", data, "-U", user, "-A", "trust", "--no-sync").CombinedOutput(); err != nil {
		pg.why = "initdb: " + lastLine(out)
		return
	}
	port := freePort()
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories=%s -p %d -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", dir, port)
	if out, err := asUser(pgCtl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		pg.why = "pg_ctl start: " + lastLine(out)
		return
	}
	pg.dataDir = dir
	pg.stopCmd = asUser(pgCtl, "-D", data, "-m", "immediate", "stop").Args
	dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable", dir, port, user)
	if !canConnect(dsn) {
		pg.why = "started a cluster but cannot connect"
		return
	}
	pg.dsn = dsn
}

func stopPostgres() {
	if pg.stopCmd != nil {
		_ = exec.Command(pg.stopCmd[0], pg.stopCmd[1:]...).Run()
		os.RemoveAll(pg.dataDir)
	}
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 54329
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newPGQueue(t *testing.T, dsn string, iam *iamport.Client, cfg Config) (*Queue[pgx.Tx], *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	q, err := NewPostgres(pool, iam, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q, pool
}

func newSQLiteQueue(t *testing.T, path string, iam *iamport.Client, cfg Config) (*Queue[*sql.Tx], *sql.DB) {
	t.Helper()
	db, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	q, err := NewSQLite(db, iam, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q, db
}
