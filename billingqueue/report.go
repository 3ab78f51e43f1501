package billingqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Status is where one charge (its first attempt and any dunning attempts)
// stands in a report.
type Status string

const (
	StatusPaid     Status = "paid"     // money taken, once
	StatusRefunded Status = "refunded" // paid by an earlier run, refunded since
	StatusDeclined Status = "declined" // declined on the last dunning attempt: gave up
	StatusRefused  Status = "refused"  // refused by Iamport or the SDK: cancelled
	// StatusNotCharged: River gave up after MaxAttempts failures that were
	// all "not charged" (nothing was taken).
	StatusNotCharged Status = "not_charged"
	// StatusPending: not finished: waiting to run, running, retrying after
	// an unknown or not-charged outcome, or waiting for a dunning attempt.
	StatusPending Status = "pending"
)

// Statuses lists every Status in report order.
var Statuses = []Status{StatusPaid, StatusRefunded, StatusDeclined, StatusRefused, StatusNotCharged, StatusPending}

// Tally counts charges and sums their amounts (paid amount for paid, the
// charge's amount otherwise).
type Tally struct {
	Count  int   `json:"count"`
	Amount int64 `json:"amount"`
}

// Report is the state of one run, read from the queue's jobs.
type Report struct {
	Run string `json:"run"`
	// Charges is how many charges (first attempts) the run has; Jobs how
	// many jobs, dunning attempts included.
	Charges int `json:"charges"`
	Jobs    int `json:"jobs"`
	// ByStatus tallies charges by where they stand.
	ByStatus map[Status]Tally `json:"by_status"`
	// Paid lists the paid (and refunded) charges.
	Paid []PaidCharge `json:"paid"`
	// Declined lists charges with at least one decline that are not paid:
	// given up, or waiting for their next dunning attempt.
	Declined []DeclinedCharge `json:"declined"`
	// Refused lists charges refused by the API.
	Refused []RefusedCharge `json:"refused"`
	// Pending lists unfinished charges and why.
	Pending []PendingCharge `json:"pending"`
}

// PaidCharge is one paid charge.
type PaidCharge struct {
	BaseMerchantUID string    `json:"base_merchant_uid"`
	MerchantUID     string    `json:"merchant_uid"` // the attempt that paid
	CustomerUID     string    `json:"customer_uid"`
	ImpUID          string    `json:"imp_uid"`
	Amount          int64     `json:"amount"`
	Attempt         int       `json:"attempt"`
	Refunded        bool      `json:"refunded,omitempty"`
	PaidAt          time.Time `json:"paid_at,omitzero"`
}

// DeclinedCharge is a charge declined at least once and not paid.
type DeclinedCharge struct {
	BaseMerchantUID string   `json:"base_merchant_uid"`
	CustomerUID     string   `json:"customer_uid"`
	Amount          int64    `json:"amount"`
	Reasons         []string `json:"reasons"` // every decline's fail_reason, oldest first
	GaveUp          bool     `json:"gave_up"`
	// NextMerchantUID and NextAt: the dunning attempt waiting, unless GaveUp.
	NextMerchantUID string    `json:"next_merchant_uid,omitempty"`
	NextAt          time.Time `json:"next_at,omitzero"`
}

// RefusedCharge is a charge the API refused.
type RefusedCharge struct {
	BaseMerchantUID string `json:"base_merchant_uid"`
	MerchantUID     string `json:"merchant_uid"`
	CustomerUID     string `json:"customer_uid"`
	Amount          int64  `json:"amount"`
	Code            int    `json:"code"`
	Message         string `json:"message"`
}

// PendingCharge is an unfinished charge and why.
type PendingCharge struct {
	BaseMerchantUID string    `json:"base_merchant_uid"`
	MerchantUID     string    `json:"merchant_uid"`
	CustomerUID     string    `json:"customer_uid"`
	Amount          int64     `json:"amount"`
	Attempt         int       `json:"attempt"`
	State           string    `json:"state"` // River's job state
	ScheduledAt     time.Time `json:"scheduled_at"`
	Why             string    `json:"why"`
}

type jobView struct {
	row  *rivertype.JobRow
	args ChargeArgs
	out  *Output
}

// Report reads the jobs of run and reports where every charge stands.
func (q *Queue[TTx]) Report(ctx context.Context, run string) (*Report, error) {
	chains := map[string][]jobView{}
	params := river.NewJobListParams().Kinds(Kind).OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(10_000)
	jobs := 0
	for {
		res, err := q.client.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("billingqueue: report: %w", err)
		}
		for _, row := range res.Jobs {
			var a ChargeArgs
			if err := json.Unmarshal(row.EncodedArgs, &a); err != nil {
				return nil, fmt.Errorf("billingqueue: report: job %d: %w", row.ID, err)
			}
			if a.Run != run {
				continue
			}
			jobs++
			v := jobView{row: row, args: a}
			var md struct {
				Output *Output `json:"output"`
			}
			if len(row.Metadata) > 0 && json.Unmarshal(row.Metadata, &md) == nil {
				v.out = md.Output
			}
			chains[a.BaseMerchantUID] = append(chains[a.BaseMerchantUID], v)
		}
		if len(res.Jobs) < 10_000 || res.LastCursor == nil {
			break
		}
		params = params.After(res.LastCursor)
	}
	r := &Report{Run: run, Charges: len(chains), Jobs: jobs, ByStatus: map[Status]Tally{}}
	for _, s := range Statuses {
		r.ByStatus[s] = Tally{}
	}
	bases := make([]string, 0, len(chains))
	for b := range chains {
		bases = append(bases, b)
	}
	sort.Strings(bases)
	for _, b := range bases {
		chain := chains[b]
		sort.Slice(chain, func(i, j int) bool { return chain[i].args.Attempt < chain[j].args.Attempt })
		st, amount := r.add(chain)
		t := r.ByStatus[st]
		t.Count++
		t.Amount += amount
		r.ByStatus[st] = t
	}
	return r, nil
}

// add files one charge's chain of attempts and returns its status and amount.
func (r *Report) add(chain []jobView) (Status, int64) {
	last := chain[len(chain)-1]
	a, row, out := last.args, last.row, last.out
	reasons := append([]string(nil), a.Declines...)
	if out != nil && out.Outcome == OutcomeDeclined && row.State == rivertype.JobStateCompleted {
		reasons = append(reasons, out.FailReason)
	}
	pending := func(why string) (Status, int64) {
		r.Pending = append(r.Pending, PendingCharge{
			BaseMerchantUID: a.BaseMerchantUID, MerchantUID: a.MerchantUID, CustomerUID: a.CustomerUID,
			Amount: a.Amount, Attempt: a.Attempt, State: string(row.State), ScheduledAt: row.ScheduledAt, Why: why,
		})
		if len(reasons) > 0 {
			r.Declined = append(r.Declined, DeclinedCharge{
				BaseMerchantUID: a.BaseMerchantUID, CustomerUID: a.CustomerUID, Amount: a.Amount,
				Reasons: reasons, NextMerchantUID: a.MerchantUID, NextAt: row.ScheduledAt,
			})
		}
		return StatusPending, a.Amount
	}
	switch row.State {
	case rivertype.JobStateCompleted:
		switch {
		case out == nil:
			return pending("completed without an output (completed outside billingqueue?)")
		case out.Outcome == OutcomePaid || out.Outcome == OutcomeRefunded:
			refunded := out.Outcome == OutcomeRefunded
			r.Paid = append(r.Paid, PaidCharge{
				BaseMerchantUID: a.BaseMerchantUID, MerchantUID: a.MerchantUID, CustomerUID: a.CustomerUID,
				ImpUID: out.ImpUID, Amount: out.Amount, Attempt: a.Attempt, Refunded: refunded, PaidAt: out.PaidAt,
			})
			if refunded {
				return StatusRefunded, out.Amount
			}
			return StatusPaid, out.Amount
		case out.Outcome == OutcomeDeclined && out.GaveUp:
			r.Declined = append(r.Declined, DeclinedCharge{
				BaseMerchantUID: a.BaseMerchantUID, CustomerUID: a.CustomerUID, Amount: a.Amount,
				Reasons: reasons, GaveUp: true,
			})
			return StatusDeclined, a.Amount
		case out.Outcome == OutcomeDeclined:
			return pending(fmt.Sprintf("declined (%s); next attempt %s missing", out.FailReason, out.NextMerchantUID))
		default:
			return pending(fmt.Sprintf("completed with outcome %q", out.Outcome))
		}
	case rivertype.JobStateCancelled:
		rc := RefusedCharge{BaseMerchantUID: a.BaseMerchantUID, MerchantUID: a.MerchantUID, CustomerUID: a.CustomerUID, Amount: a.Amount}
		if out != nil {
			rc.Code, rc.Message = out.Code, out.Message
		}
		r.Refused = append(r.Refused, rc)
		return StatusRefused, a.Amount
	case rivertype.JobStateDiscarded:
		return StatusNotCharged, a.Amount
	}
	// available, pending, retryable, running, scheduled
	switch {
	case out == nil && a.Attempt > 0 && len(chain) > 1:
		return pending(fmt.Sprintf("dunning attempt %d of %s, due %s", a.Attempt, a.BaseMerchantUID, row.ScheduledAt.UTC().Format(time.RFC3339)))
	case out == nil:
		return pending("not tried yet")
	case out.Outcome == OutcomeUnknown:
		return pending("outcome unknown, asking again with the same merchant_uid: " + out.Error)
	case out.Outcome == OutcomeNotCharged:
		return pending("not charged, retrying with the same merchant_uid: " + out.Error)
	default:
		return pending(fmt.Sprintf("last attempt: %s %s", out.Outcome, out.Error))
	}
}

// Total is the count and amount of every status together.
func (r *Report) Total() Tally {
	var t Tally
	for _, s := range Statuses {
		t.Count += r.ByStatus[s].Count
		t.Amount += r.ByStatus[s].Amount
	}
	return t
}

// String is a short human summary.
func (r *Report) String() string {
	s := fmt.Sprintf("run %s: %d charges (%d jobs)", r.Run, r.Charges, r.Jobs)
	for _, st := range Statuses {
		t := r.ByStatus[st]
		s += fmt.Sprintf("; %s %d (%d)", st, t.Count, t.Amount)
	}
	return s
}
