package billingqueue

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	iamport "github.com/billingkr/iamport-go"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// OpenSQLite opens an SQLite database for a Queue with the pure-Go driver
// (modernc.org/sqlite, no cgo): path is a file path or ":memory:". SQLite has
// one writer, so the pool holds one connection, with WAL, a 5 s busy timeout
// and transactions that take the write lock at BEGIN (_txlock=immediate).
// ":memory:" lives as long as the returned *sql.DB.
func OpenSQLite(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	if strings.HasPrefix(path, "file:") {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		dsn = path + sep + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("billingqueue: open sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("billingqueue: open sqlite: %w", err)
	}
	return db, nil
}

// NewSQLite returns a Queue on an SQLite database opened with OpenSQLite.
// iam charges; it may be nil for an insert-only queue (Concurrency < 0).
// River calls its SQLite driver early-stage: see the README.
func NewSQLite(db *sql.DB, iam *iamport.Client, cfg Config) (*Queue[*sql.Tx], error) {
	return newQueue(riversqlite.New(db), iam, cfg, txFuncs[*sql.Tx]{
		begin:    func(ctx context.Context) (*sql.Tx, error) { return db.BeginTx(ctx, nil) },
		commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		rollback: func(_ context.Context, tx *sql.Tx) { _ = tx.Rollback() },
		completeTx: func(ctx context.Context, tx *sql.Tx, job *river.Job[ChargeArgs]) (*river.Job[ChargeArgs], error) {
			return river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
		},
	})
}
