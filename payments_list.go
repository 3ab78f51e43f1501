package iamport

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"slices"
	"time"
)

// maxIDsPerRequest is how many ids one GET /payments or
// GET /subscribe/customers carries (the API's limit for /payments).
const maxIDsPerRequest = 100

// maxImpUIDLen bounds an imp_uid given to a lookup (the API's are 32
// characters or fewer).
const maxImpUIDLen = 100

// MaxListLimit is the largest page size the list endpoints accept.
const MaxListLimit = 1000

// defaultPaymentRange is the range PaymentsByStatus covers when
// PaymentListOptions.From is zero: the API's own default.
const defaultPaymentRange = 90 * 24 * time.Hour

// PaymentListOptions narrows PaymentsByStatus. Zero values take the API's
// defaults.
type PaymentListOptions struct {
	// From and To bound the time the API compares, which depends on the
	// status: started_at for ready, paid_at for paid, cancelled_at for
	// cancelled, failed_at for failed. Both are inclusive. Zero To is now;
	// zero From is To − 90 days. Any range is allowed: it is split into
	// windows the API accepts.
	From, To time.Time
	// Limit is the page size, 1 to MaxListLimit (the API's default is 20).
	// A bigger page means fewer requests.
	Limit int
	// Sorting orders the payments inside each window: "-started" (the
	// API's default), "started", "-paid", "paid", "-updated" or "updated".
	Sorting string
}

var sortings = []string{"-started", "started", "-paid", "paid", "-updated", "updated"}

func (o *PaymentListOptions) validate() error {
	if o.Limit < 0 || o.Limit > MaxListLimit {
		return &ValidationError{Field: "limit", Reason: "must be between 1 and " + itoa(MaxListLimit) + " (0 for the API's default)"}
	}
	if o.Sorting != "" && !slices.Contains(sortings, o.Sorting) {
		return &ValidationError{Field: "sorting", Reason: "must be one of -started, started, -paid, paid, -updated, updated"}
	}
	if !o.From.IsZero() && !o.To.IsZero() && o.From.After(o.To) {
		return &ValidationError{Field: "from", Reason: "must not be after to"}
	}
	return nil
}

// paymentsQuery is the query of GET /payments.
type paymentsQuery struct {
	ImpUIDs        []string `url:"imp_uid[],omitempty"`
	IncludeSandbox bool     `url:"include_sandbox,omitempty"`
}

// pageQuery is the query of the lists paged by page alone.
type pageQuery struct {
	Page int `url:"page"`
}

// paymentListQuery is the query of GET /payments/status/{status}.
type paymentListQuery struct {
	Page    int    `url:"page"`
	Limit   int    `url:"limit,omitempty"`
	From    int64  `url:"from"`
	To      int64  `url:"to"`
	Sorting string `url:"sorting,omitempty"`
}

// GetPayments returns the payments with these imp_uids
// (GET /payments?imp_uid[]=…,
// https://api.iamport.kr/#!/payments/getPaymentsByImpUid), in the order of
// impUIDs (a repeated id appears once). Ids Iamport does not know are
// absent from the result: neither a partial answer (HTTP 207) nor a
// request that found none (HTTP 404) is an error. Any number of ids is
// allowed; they are sent in requests of at most 100, one after another.
// It is a read: a request that fails in transport or with a 5xx is resent
// under the client's RetryPolicy.
func (c *Client) GetPayments(ctx context.Context, impUIDs []string) ([]*Payment, error) {
	ids, err := distinctIDs("imp_uid", impUIDs, maxImpUIDLen)
	if err != nil {
		return nil, err
	}
	found, err := c.multiPayments(ctx, ids, func(chunk []string) any {
		return paymentsQuery{ImpUIDs: chunk, IncludeSandbox: c.cfg.sandbox}
	}, paymentKey)
	if err != nil {
		return nil, err
	}
	out := make([]*Payment, 0, len(found))
	for _, id := range ids {
		if p, ok := found[id]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// multiPayments fetches GET /payments for ids in chunks of
// maxIDsPerRequest, the query of each chunk built by q, and returns the
// payments found by key (the newest by started_at when several share one).
func (c *Client) multiPayments(ctx context.Context, ids []string, q func([]string) any, key func(*Payment) string) (map[string]*Payment, error) {
	found := make(map[string]*Payment, len(ids))
	for chunk := range slices.Chunk(ids, maxIDsPerRequest) {
		vals, err := values(q(chunk))
		if err != nil {
			return nil, err
		}
		var list []*Payment
		if err := c.do(ctx, &request{method: http.MethodGet, path: "/payments", query: vals, retry: true}, &list); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue // none of this chunk exists
			}
			return nil, err
		}
		for _, p := range list {
			if p == nil {
				continue
			}
			k := key(p)
			if old, ok := found[k]; !ok || p.StartedAt.After(old.StartedAt) {
				found[k] = p
			}
		}
	}
	return found, nil
}

// distinctIDs validates ids and drops repeats, keeping the first order.
func distinctIDs(field string, ids []string, maxLen int) ([]string, error) {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if err := checkUID(field, id, maxLen); err != nil {
			return nil, err
		}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out, nil
}

// FindPayments yields every payment with this merchant_uid, whatever its
// status (GET /payments/findAll/{merchant_uid},
// https://api.iamport.kr/#!/payments/getAllPaymentsByMerchantUid): several
// can share one merchant_uid when earlier attempts failed. None yields
// nothing. Pages are fetched as the loop asks for them; the first error is
// yielded once and ends the loop. Each page is a read, resent under the
// client's RetryPolicy.
func (c *Client) FindPayments(ctx context.Context, merchantUID string) iter.Seq2[*Payment, error] {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return errSeq[Payment](err)
	}
	return c.findAll(ctx, merchantUID, FindPaymentsOptions{})
}

// findAll walks GET /payments/findAll/{merchant_uid}[/{payment_status}].
func (c *Client) findAll(ctx context.Context, merchantUID string, o FindPaymentsOptions) iter.Seq2[*Payment, error] {
	path := "/payments/findAll/" + pathEscape(merchantUID)
	if o.Status != "" {
		path += "/" + pathEscape(string(o.Status))
	}
	return unique(paginate(ctx, func(ctx context.Context, page int) ([]*Payment, int, error) {
		items, next, err := listPage[Payment](ctx, c, path, findAllQuery{Page: page, Limit: o.Limit, Sorting: o.Sorting, IncludeSandbox: c.cfg.sandbox})
		if err != nil && errors.Is(err, ErrNotFound) {
			return nil, 0, nil // no payment has this merchant_uid
		}
		return items, next, err
	}), paymentKey)
}

func paymentKey(p *Payment) string { return p.ImpUID }

// PaymentsByStatus yields the payments in a status (GET
// /payments/status/{status},
// https://api.iamport.kr/#!/payments/getPaymentsByStatus): status is
// PaymentReady, PaymentPaid, PaymentCancelled, PaymentFailed, or "" for all.
//
// opts may be nil. Zero To is now (the client's clock), zero From is To − 90
// days. The range is split into windows of at most 89 days, newest window
// first; inside a window the API's Sorting applies. The API's from and to are
// both inclusive, so the windows do not overlap, and no payment is yielded
// twice. Pages are fetched as the loop asks for them; the first error is
// yielded once and ends the loop. Each page is a read, resent under the
// client's RetryPolicy.
func (c *Client) PaymentsByStatus(ctx context.Context, status PaymentStatus, opts *PaymentListOptions) iter.Seq2[*Payment, error] {
	switch status {
	case "", PaymentReady, PaymentPaid, PaymentCancelled, PaymentFailed:
	default:
		return errSeq[Payment](&ValidationError{Field: "payment_status", Reason: "must be ready, paid, cancelled, failed or empty for all"})
	}
	var o PaymentListOptions
	if opts != nil {
		o = *opts // the caller's options are never modified
	}
	if err := o.validate(); err != nil {
		return errSeq[Payment](err)
	}
	path := "/payments/status/all"
	if status != "" {
		path = "/payments/status/" + pathEscape(string(status))
	}
	return func(yield func(*Payment, error) bool) {
		to := o.To
		if to.IsZero() {
			to = c.cfg.clock.now()
		}
		from := o.From
		if from.IsZero() {
			from = to.Add(-defaultPaymentRange)
		}
		if from.After(to) {
			yield(nil, &ValidationError{Field: "from", Reason: "must not be after to (now, when to is zero)"})
			return
		}
		windows := descendingClosed(ceilUnix(from), floorUnix(to))
		seq := unique(chain(windows, func(w window) iter.Seq2[*Payment, error] {
			return paginate(ctx, func(ctx context.Context, page int) ([]*Payment, int, error) {
				return listPage[Payment](ctx, c, path, paymentListQuery{Page: page, Limit: o.Limit, From: w.from, To: w.to, Sorting: o.Sorting})
			})
		}), paymentKey)
		for p, err := range seq {
			if !yield(p, err) {
				return
			}
		}
	}
}
