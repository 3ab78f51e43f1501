package billingqueue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/billingrun"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/time/rate"
)

// Kind is the River job kind of a charge.
const Kind = "iamport_charge"

// DefaultQueue is the River queue charges go to unless Config.Queue is set.
const DefaultQueue = "iamport_billing"

// DefaultDunning is the dunning policy unless Config.Dunning is set: after a
// decline, try again 1, 3 and 7 days later, then give up.
var DefaultDunning = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour}

// maxDunning keeps attempt merchant_uids within Iamport's 40 characters
// (base + "_d" + one digit).
const maxDunning = 9

const maxMerchantUIDLen = 40

// Charge is one charge to enqueue.
type Charge struct {
	// Run names the billing run, e.g. "2026-11": it is the period of the
	// derived merchant_uid and what [Queue.Report] selects.
	Run string
	// CustomerUID is the billing key's customer_uid.
	CustomerUID string
	// Amount in the currency's minor unit (won for KRW).
	Amount int64
	// Currency; "" means KRW.
	Currency string
	// Name is the order name shown to the buyer.
	Name string
	// MerchantUID of the first attempt; "" derives it with
	// billingrun.MerchantUID(Config.Prefix, CustomerUID, Run), so that the
	// same customer and run give the same merchant_uid on every machine.
	MerchantUID string
}

// ChargeArgs are the River job args of one charge attempt.
type ChargeArgs struct {
	// MerchantUID of this attempt: the job's unique key.
	MerchantUID string `json:"merchant_uid" river:"unique"`
	// BaseMerchantUID is the first attempt's merchant_uid; dunning attempt n
	// is BaseMerchantUID + "_d" + n.
	BaseMerchantUID string `json:"base_merchant_uid"`
	// Attempt is 0 for the first charge, n for the n-th dunning retry.
	Attempt     int    `json:"attempt"`
	Run         string `json:"run"`
	CustomerUID string `json:"customer_uid"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency,omitempty"`
	Name        string `json:"name,omitempty"`
	// Declines are the fail reasons of the earlier attempts, oldest first.
	Declines []string `json:"declines,omitempty"`
}

// Kind implements river.JobArgs.
func (ChargeArgs) Kind() string { return Kind }

// InsertOpts implements river.JobArgsWithInsertOpts: unique by merchant_uid
// in every state, so that enqueueing a run twice inserts nothing new, even
// for charges that already finished (as long as their rows are kept, see
// Config.Retention).
func (ChargeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: uniqueOpts}
}

var uniqueOpts = river.UniqueOpts{ByArgs: true, ByState: rivertype.JobStates()}

// AttemptMerchantUID returns the merchant_uid of dunning attempt n of base:
// base itself for 0, base + "_d" + n after.
func AttemptMerchantUID(base string, n int) string {
	if n == 0 {
		return base
	}
	return base + "_d" + strconv.Itoa(n)
}

// Config configures a [Queue]. The zero value works (the defaults below).
type Config struct {
	// Queue is the River queue name (default DefaultQueue).
	Queue string
	// Prefix is the merchant_uid prefix for derived merchant_uids (default
	// billingrun.DefaultPrefix).
	Prefix string
	// Concurrency is how many charges one process works at once (River's
	// MaxWorkers; default 10). Negative makes an insert-only queue (no
	// workers: enqueue and report only).
	Concurrency int
	// RateLimit caps charges per second started by this process (0: none);
	// RateBurst is the limiter's burst (default 1).
	RateLimit float64
	RateBurst int
	// Dunning is the delay before each retry of a declined charge; nil means
	// DefaultDunning, an empty non-nil slice means no dunning. At most 9.
	Dunning []time.Duration
	// NotChargedBackoff is how soon a charge that was not charged is retried
	// with the same merchant_uid (default 30 s). After MaxAttempts such
	// failures River discards the job (nothing was charged).
	NotChargedBackoff time.Duration
	// MaxAttempts is River's max attempts per job (default 25). Snoozes for an
	// unknown outcome do not count.
	MaxAttempts int
	// UnknownSnooze is how long a charge whose outcome is unknown waits before
	// it is asked again with the same merchant_uid (default 1 min).
	UnknownSnooze time.Duration
	// JobTimeout bounds one attempt (default 2 min); it must exceed the SDK
	// client's attempt timeout plus its settle window.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is when a job still running (its process died) is
	// run again (default JobTimeout + 5 min; must exceed JobTimeout).
	RescueStuckJobsAfter time.Duration
	// FetchCooldown and FetchPollInterval are River's (defaults 20 ms and
	// 1 s). FetchCooldown caps a process's throughput before anything else.
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// Retention is how long finished jobs are kept (default 400 days). While a
	// job is kept, enqueueing its merchant_uid again inserts nothing.
	Retention time.Duration
	// StopTimeout is how long Run waits for running charges when its ctx ends
	// before cancelling them (default 30 s). A cancelled charge is not lost: it
	// is retried with the same merchant_uid.
	StopTimeout time.Duration
	// Now is the clock dunning delays count from (default time.Now). Tests
	// set it to the fake's clock, with River's Test.Time through RiverConfig.
	Now func() time.Time
	// Logger for River (default: discard).
	Logger *slog.Logger
	// RiverConfig, when set, may adjust River's config last (tests, tuning).
	RiverConfig func(*river.Config)
}

func (c Config) withDefaults() Config {
	c.Queue = cmp.Or(c.Queue, DefaultQueue)
	c.Prefix = cmp.Or(c.Prefix, billingrun.DefaultPrefix)
	if c.Concurrency == 0 {
		c.Concurrency = 10
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 1
	}
	if c.Dunning == nil {
		c.Dunning = DefaultDunning
	}
	c.NotChargedBackoff = cmp.Or(c.NotChargedBackoff, 30*time.Second)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, 25)
	c.UnknownSnooze = cmp.Or(c.UnknownSnooze, time.Minute)
	c.JobTimeout = cmp.Or(c.JobTimeout, 2*time.Minute)
	c.RescueStuckJobsAfter = cmp.Or(c.RescueStuckJobsAfter, c.JobTimeout+5*time.Minute)
	c.FetchCooldown = cmp.Or(c.FetchCooldown, 20*time.Millisecond)
	c.FetchPollInterval = cmp.Or(c.FetchPollInterval, time.Second)
	c.Retention = cmp.Or(c.Retention, 400*24*time.Hour)
	c.StopTimeout = cmp.Or(c.StopTimeout, 30*time.Second)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) check() error {
	if len(c.Dunning) > maxDunning {
		return fmt.Errorf("billingqueue: %d dunning delays, at most %d", len(c.Dunning), maxDunning)
	}
	for _, d := range c.Dunning {
		if d < 0 {
			return errors.New("billingqueue: negative dunning delay")
		}
	}
	if c.RescueStuckJobsAfter <= c.JobTimeout {
		return fmt.Errorf("billingqueue: RescueStuckJobsAfter (%s) must exceed JobTimeout (%s)", c.RescueStuckJobsAfter, c.JobTimeout)
	}
	if c.RateLimit < 0 {
		return errors.New("billingqueue: negative RateLimit")
	}
	return nil
}

// txFuncs are the database-specific pieces: begin, commit, roll back, and
// River's JobCompleteTx, which needs the driver's type.
type txFuncs[TTx any] struct {
	begin      func(ctx context.Context) (TTx, error)
	commit     func(ctx context.Context, tx TTx) error
	rollback   func(ctx context.Context, tx TTx)
	completeTx func(ctx context.Context, tx TTx, job *river.Job[ChargeArgs]) (*river.Job[ChargeArgs], error)
}

// Queue is billing on River over a database whose transactions are TTx
// (*sql.Tx for SQLite, pgx.Tx for Postgres).
type Queue[TTx any] struct {
	cfg    Config
	client *river.Client[TTx]
	driver riverdriver.Driver[TTx]
	tx     txFuncs[TTx]
}

func newQueue[TTx any](driver riverdriver.Driver[TTx], iam *iamport.Client, cfg Config, tx txFuncs[TTx]) (*Queue[TTx], error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	q := &Queue[TTx]{cfg: cfg, driver: driver, tx: tx}
	workers := river.NewWorkers()
	w := &chargeWorker[TTx]{q: q, iam: iam}
	if cfg.RateLimit > 0 {
		w.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), cfg.RateBurst)
	}
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, err
	}
	rc := &river.Config{
		Workers:                     workers,
		Logger:                      cfg.Logger,
		MaxAttempts:                 cfg.MaxAttempts,
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueStuckJobsAfter,
		FetchCooldown:               cfg.FetchCooldown,
		FetchPollInterval:           cfg.FetchPollInterval,
		CompletedJobRetentionPeriod: cfg.Retention,
		CancelledJobRetentionPeriod: cfg.Retention,
		DiscardedJobRetentionPeriod: cfg.Retention,
	}
	if cfg.Concurrency > 0 {
		if iam == nil {
			return nil, errors.New("billingqueue: a working queue needs an *iamport.Client")
		}
		rc.Queues = map[string]river.QueueConfig{cfg.Queue: {MaxWorkers: cfg.Concurrency}}
	}
	if cfg.RiverConfig != nil {
		cfg.RiverConfig(rc)
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("billingqueue: %w", err)
	}
	q.client = client
	return q, nil
}

// Migrate creates or upgrades River's tables.
func (q *Queue[TTx]) Migrate(ctx context.Context) error {
	m, err := rivermigrate.New(q.driver, nil)
	if err != nil {
		return fmt.Errorf("billingqueue: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("billingqueue: migrate: %w", err)
	}
	return nil
}

// River returns the underlying River client (for its own API: JobList,
// QueuePause, Subscribe, …).
func (q *Queue[TTx]) River() *river.Client[TTx] { return q.client }

// Start starts working charges in the background; Stop stops.
func (q *Queue[TTx]) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop waits for running charges to finish, up to ctx.
func (q *Queue[TTx]) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// Run works charges until ctx ends, then stops: it waits up to
// Config.StopTimeout for running charges, then cancels the rest. No job is
// lost: a cancelled charge is retried later with the same merchant_uid, and a
// charge whose process dies is rescued after RescueStuckJobsAfter.
func (q *Queue[TTx]) Run(ctx context.Context) error {
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), q.cfg.StopTimeout)
	defer cancel()
	if err := q.client.Stop(stopCtx); err != nil {
		hard, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel2()
		return errors.Join(err, q.client.StopAndCancel(hard))
	}
	return nil
}
