package billingqueue

import (
	"context"

	iamport "github.com/billingkr/iamport-go"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// NewPostgres returns a Queue on Postgres through pgx v5: many processes on
// many machines work the same queue. iam may be nil for an insert-only queue
// (Concurrency < 0).
func NewPostgres(pool *pgxpool.Pool, iam *iamport.Client, cfg Config) (*Queue[pgx.Tx], error) {
	return newQueue(riverpgxv5.New(pool), iam, cfg, txFuncs[pgx.Tx]{
		begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
		commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		rollback: func(ctx context.Context, tx pgx.Tx) { _ = tx.Rollback(ctx) },
		completeTx: func(ctx context.Context, tx pgx.Tx, job *river.Job[ChargeArgs]) (*river.Job[ChargeArgs], error) {
			return river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		},
	})
}
