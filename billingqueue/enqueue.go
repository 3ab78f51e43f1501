package billingqueue

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/billingkr/iamport-go/billingrun"
	"github.com/riverqueue/river"
)

// EnqueueResult counts what an enqueue did.
type EnqueueResult struct {
	// Inserted is how many new jobs were inserted.
	Inserted int `json:"inserted"`
	// Duplicates is how many charges already had a job (same merchant_uid).
	Duplicates int `json:"duplicates"`
}

// enqueueBatch is how many charges go in one InsertMany.
const enqueueBatch = 500

// Enqueue inserts one job per charge, in transactions of up to 500 charges.
// A charge whose merchant_uid already has a job inserts nothing (counted in
// Duplicates): enqueueing a run twice enqueues nothing new. It stops at the
// first invalid charge; the batches before it stay inserted (enqueue again
// once fixed: they are skipped as duplicates).
func (q *Queue[TTx]) Enqueue(ctx context.Context, charges iter.Seq[Charge]) (EnqueueResult, error) {
	var total EnqueueResult
	batch := make([]river.InsertManyParams, 0, enqueueBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		tx, err := q.tx.begin(ctx)
		if err != nil {
			return fmt.Errorf("billingqueue: begin: %w", err)
		}
		r, err := q.insert(ctx, tx, batch)
		if err != nil {
			q.tx.rollback(ctx, tx)
			return err
		}
		if err := q.tx.commit(ctx, tx); err != nil {
			return fmt.Errorf("billingqueue: commit: %w", err)
		}
		total.Inserted += r.Inserted
		total.Duplicates += r.Duplicates
		batch = batch[:0]
		return nil
	}
	for c := range charges {
		p, err := q.params(c)
		if err != nil {
			return total, err
		}
		batch = append(batch, p)
		if len(batch) == enqueueBatch {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	return total, flush()
}

// EnqueueTx inserts one job per charge in tx, the caller's transaction
// (River's InsertTx): the jobs exist if and only if tx commits, together with
// the merchant's own rows written in it. Duplicates as for Enqueue.
func (q *Queue[TTx]) EnqueueTx(ctx context.Context, tx TTx, charges iter.Seq[Charge]) (EnqueueResult, error) {
	var total EnqueueResult
	batch := make([]river.InsertManyParams, 0, enqueueBatch)
	for c := range charges {
		p, err := q.params(c)
		if err != nil {
			return total, err
		}
		batch = append(batch, p)
		if len(batch) == enqueueBatch {
			r, err := q.insert(ctx, tx, batch)
			if err != nil {
				return total, err
			}
			total.Inserted += r.Inserted
			total.Duplicates += r.Duplicates
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		r, err := q.insert(ctx, tx, batch)
		if err != nil {
			return total, err
		}
		total.Inserted += r.Inserted
		total.Duplicates += r.Duplicates
	}
	return total, nil
}

func (q *Queue[TTx]) insert(ctx context.Context, tx TTx, batch []river.InsertManyParams) (EnqueueResult, error) {
	res, err := q.client.InsertManyTx(ctx, tx, batch)
	if err != nil {
		return EnqueueResult{}, fmt.Errorf("billingqueue: insert: %w", err)
	}
	var r EnqueueResult
	for _, x := range res {
		if x.UniqueSkippedAsDuplicate {
			r.Duplicates++
		} else {
			r.Inserted++
		}
	}
	return r, nil
}

func (q *Queue[TTx]) params(c Charge) (river.InsertManyParams, error) {
	a, err := q.argsOf(c)
	if err != nil {
		return river.InsertManyParams{}, err
	}
	return river.InsertManyParams{Args: a, InsertOpts: q.insertOpts()}, nil
}

func (q *Queue[TTx]) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: q.cfg.Queue, UniqueOpts: uniqueOpts}
}

func (q *Queue[TTx]) argsOf(c Charge) (ChargeArgs, error) {
	if strings.TrimSpace(c.Run) == "" {
		return ChargeArgs{}, errors.New("billingqueue: charge without a run")
	}
	if c.Amount <= 0 {
		return ChargeArgs{}, fmt.Errorf("billingqueue: customer %q: amount %d is not positive", c.CustomerUID, c.Amount)
	}
	m := c.MerchantUID
	if m == "" {
		var err error
		if m, err = billingrun.MerchantUID(q.cfg.Prefix, c.CustomerUID, c.Run); err != nil {
			return ChargeArgs{}, fmt.Errorf("billingqueue: %w", err)
		}
	} else if strings.TrimSpace(c.CustomerUID) == "" {
		return ChargeArgs{}, errors.New("billingqueue: charge without a customer_uid")
	}
	if last := AttemptMerchantUID(m, len(q.cfg.Dunning)); len(last) > maxMerchantUIDLen {
		return ChargeArgs{}, fmt.Errorf("billingqueue: merchant_uid %q leaves no room for dunning suffixes (%q is over %d characters)", m, last, maxMerchantUIDLen)
	}
	return ChargeArgs{
		MerchantUID:     m,
		BaseMerchantUID: m,
		Run:             c.Run,
		CustomerUID:     c.CustomerUID,
		Amount:          c.Amount,
		Currency:        c.Currency,
		Name:            c.Name,
	}, nil
}

// ReadCSV reads charges from CSV with a header row naming the columns
// customer_uid and amount (required) and name, currency, merchant_uid
// (optional), in any order; run is given (every row belongs to it). It
// yields the first error, with its line, and stops.
func ReadCSV(r io.Reader, run string) iter.Seq2[Charge, error] {
	return func(yield func(Charge, error) bool) {
		cr := csv.NewReader(r)
		cr.TrimLeadingSpace = true
		head, err := cr.Read()
		if err != nil {
			yield(Charge{}, fmt.Errorf("billingqueue: csv header: %w", err))
			return
		}
		col := map[string]int{}
		for i, h := range head {
			col[strings.ToLower(strings.TrimSpace(h))] = i
		}
		for _, need := range []string{"customer_uid", "amount"} {
			if _, ok := col[need]; !ok {
				yield(Charge{}, fmt.Errorf("billingqueue: csv header has no %q column", need))
				return
			}
		}
		get := func(rec []string, k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return
			}
			line, _ := cr.FieldPos(0)
			if err != nil {
				yield(Charge{}, fmt.Errorf("billingqueue: csv: %w", err))
				return
			}
			amt, err := strconv.ParseInt(get(rec, "amount"), 10, 64)
			if err != nil {
				yield(Charge{}, fmt.Errorf("billingqueue: csv line %d: amount: %w", line, err))
				return
			}
			c := Charge{Run: run, CustomerUID: get(rec, "customer_uid"), Amount: amt,
				Name: get(rec, "name"), Currency: get(rec, "currency"), MerchantUID: get(rec, "merchant_uid")}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// EnqueueCSV enqueues the charges of a CSV (see ReadCSV) for run. Nothing is
// enqueued if the CSV has an error: it is read whole first.
func (q *Queue[TTx]) EnqueueCSV(ctx context.Context, r io.Reader, run string) (EnqueueResult, error) {
	var charges []Charge
	for c, err := range ReadCSV(r, run) {
		if err != nil {
			return EnqueueResult{}, err
		}
		if _, err := q.argsOf(c); err != nil {
			return EnqueueResult{}, err
		}
		charges = append(charges, c)
	}
	return q.Enqueue(ctx, func(yield func(Charge) bool) {
		for _, c := range charges {
			if !yield(c) {
				return
			}
		}
	})
}
