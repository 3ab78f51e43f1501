package iamport

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"slices"
)

// GetPayment returns the payment with this imp_uid (GET /payments/{imp_uid},
// https://api.iamport.kr/#!/payments/getPaymentByImpUid). An unknown imp_uid
// is an error for which errors.Is(err, ErrNotFound) holds; so is a payment
// made on a test channel, unless the client was made WithSandbox (which
// sends include_sandbox=true). It is a read, resent under the client's
// RetryPolicy.
func (c *Client) GetPayment(ctx context.Context, impUID string) (*Payment, error) {
	if err := checkUID("imp_uid", impUID, maxImpUIDLen); err != nil {
		return nil, err
	}
	return c.getPaymentByImpUID(ctx, impUID, true)
}

// getPaymentByImpUID is GetPayment without validation; retry false makes
// one attempt.
func (c *Client) getPaymentByImpUID(ctx context.Context, impUID string, retry bool) (*Payment, error) {
	return c.getPayment(ctx, &request{method: http.MethodGet, path: "/payments/" + pathEscape(impUID), query: c.lookupQuery(nil), retry: retry})
}

// getPaymentToVerify is GetPayment for VerifyPayment and the webhook
// re-fetch: it always sends include_sandbox=true, so that a sandbox payment
// is seen as one (and refused as such unless the client is WithSandbox)
// rather than as an unknown imp_uid.
func (c *Client) getPaymentToVerify(ctx context.Context, impUID string) (*Payment, error) {
	return c.getPayment(ctx, &request{method: http.MethodGet, path: "/payments/" + pathEscape(impUID), query: url.Values{"include_sandbox": {"true"}}, retry: true})
}

// lookupQuery adds include_sandbox=true to a payment lookup's query when
// the client was made WithSandbox.
func (c *Client) lookupQuery(q url.Values) url.Values {
	if !c.cfg.sandbox {
		return q
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("include_sandbox", "true")
	return q
}

// FindPayment returns the newest payment (by started_at) with this
// merchant_uid, whatever its status (GET /payments/find/{merchant_uid},
// https://api.iamport.kr/#!/payments/getPaymentByMerchantUid). None is an
// error for which errors.Is(err, ErrNotFound) holds. It is a read, resent
// under the client's RetryPolicy. FindPaymentWith filters by status and
// orders otherwise.
func (c *Client) FindPayment(ctx context.Context, merchantUID string) (*Payment, error) {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return nil, err
	}
	return c.findPayment(ctx, merchantUID, true)
}

// FindPaymentOptions narrows FindPaymentWith. Zero values take the API's
// defaults.
type FindPaymentOptions struct {
	// Status keeps only payments in this status (PaymentReady,
	// PaymentPaid, PaymentCancelled, PaymentFailed); "" is any.
	Status PaymentStatus
	// Sorting picks which payment is "first": "-started" (the API's
	// default: the newest), "started", "-paid", "paid", "-updated" or
	// "updated".
	Sorting string
}

func (o *FindPaymentOptions) validate() error {
	if err := checkStatus(o.Status); err != nil {
		return err
	}
	return checkSorting(o.Sorting)
}

func checkStatus(s PaymentStatus) error {
	switch s {
	case "", PaymentReady, PaymentPaid, PaymentCancelled, PaymentFailed:
		return nil
	}
	return &ValidationError{Field: "payment_status", Reason: "must be ready, paid, cancelled, failed or empty for all"}
}

func checkSorting(s string) error {
	if s != "" && !slices.Contains(sortings, s) {
		return &ValidationError{Field: "sorting", Reason: "must be one of -started, started, -paid, paid, -updated, updated"}
	}
	return nil
}

// FindPaymentWith is FindPayment with a status filter and an order
// (GET /payments/find/{merchant_uid}/{payment_status}?sorting=…): the first
// payment with this merchant_uid in opts.Status by opts.Sorting. opts may
// be nil (FindPayment).
func (c *Client) FindPaymentWith(ctx context.Context, merchantUID string, opts *FindPaymentOptions) (*Payment, error) {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return nil, err
	}
	var o FindPaymentOptions
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	path := "/payments/find/" + pathEscape(merchantUID)
	if o.Status != "" {
		path += "/" + pathEscape(string(o.Status))
	}
	var q url.Values
	if o.Sorting != "" {
		q = url.Values{"sorting": {o.Sorting}}
	}
	return c.getPayment(ctx, &request{method: http.MethodGet, path: path, query: c.lookupQuery(q), retry: true})
}

// findPayment is FindPayment without validation; retry false makes one
// attempt (the money engine's settle loop has its own backoff).
func (c *Client) findPayment(ctx context.Context, merchantUID string, retry bool) (*Payment, error) {
	return c.getPayment(ctx, &request{method: http.MethodGet, path: "/payments/find/" + pathEscape(merchantUID), query: c.lookupQuery(nil), retry: retry})
}

// settleQuery is the query of the money engine's lookups: they always ask
// with include_sandbox=true, with or without WithSandbox. The question is
// whether a write happened; a write on a test channel that the lookups
// could not see would read as "not charged".
var settleQuery = url.Values{"include_sandbox": {"true"}}

// findForSettle is findPayment for the money engine.
func (c *Client) findForSettle(ctx context.Context, merchantUID string, retry bool) (*Payment, error) {
	return c.getPayment(ctx, &request{method: http.MethodGet, path: "/payments/find/" + pathEscape(merchantUID), query: settleQuery, retry: retry})
}

// getPayment does r and converts its Payment.
func (c *Client) getPayment(ctx context.Context, r *request) (*Payment, error) {
	var w paymentWire
	if err := c.do(ctx, r, &w); err != nil {
		return nil, err
	}
	p, err := w.toPayment()
	if err != nil {
		return nil, &DecodeError{Method: r.method, Path: r.path, StatusCode: http.StatusOK, Err: err}
	}
	return p, nil
}

// FindPaymentsOptions narrows FindPaymentsWith. Zero values take the API's
// defaults.
type FindPaymentsOptions struct {
	// Status keeps only payments in this status; "" is any.
	Status PaymentStatus
	// Limit is the page size, 1 to MaxListLimit (0: the API's default of
	// 20). A bigger page means fewer requests.
	Limit int
	// Sorting orders the payments: "-started" (the API's default),
	// "started", "-paid", "paid", "-updated" or "updated".
	Sorting string
}

func (o *FindPaymentsOptions) validate() error {
	if err := checkStatus(o.Status); err != nil {
		return err
	}
	if o.Limit < 0 || o.Limit > MaxListLimit {
		return &ValidationError{Field: "limit", Reason: "must be between 1 and " + itoa(MaxListLimit) + " (0 for the API's default)"}
	}
	return checkSorting(o.Sorting)
}

// findAllQuery is the query of GET /payments/findAll/{merchant_uid}.
type findAllQuery struct {
	Page           int    `url:"page"`
	Limit          int    `url:"limit,omitempty"`
	Sorting        string `url:"sorting,omitempty"`
	IncludeSandbox bool   `url:"include_sandbox,omitempty"`
}

// FindPaymentsWith is FindPayments with a status filter, a page size and
// an order (GET /payments/findAll/{merchant_uid}/{payment_status}?page&limit&sorting).
// opts may be nil (FindPayments).
func (c *Client) FindPaymentsWith(ctx context.Context, merchantUID string, opts *FindPaymentsOptions) iter.Seq2[*Payment, error] {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return errSeq[Payment](err)
	}
	var o FindPaymentsOptions
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return errSeq[Payment](err)
	}
	return c.findAll(ctx, merchantUID, o)
}

// paymentsByMerchantQuery is the query of GET /payments?merchant_uid[]=….
type paymentsByMerchantQuery struct {
	MerchantUIDs   []string `url:"merchant_uid[],omitempty"`
	IncludeSandbox bool     `url:"include_sandbox,omitempty"`
}

// GetPaymentsByMerchantUID returns, for each of these merchant_uids, the
// payment Iamport answers for it (GET /payments?merchant_uid[]=…,
// https://api.iamport.kr/#!/payments/getPaymentsByImpUid), in the order of
// merchantUIDs (a repeated one appears once). Merchant_uids with no
// payment are absent: neither a partial answer (HTTP 207) nor a request
// that found none (HTTP 404) is an error. Any number is allowed; they are
// sent in requests of at most 100. It is a read, resent under the client's
// RetryPolicy.
func (c *Client) GetPaymentsByMerchantUID(ctx context.Context, merchantUIDs []string) ([]*Payment, error) {
	ids, err := distinctIDs("merchant_uid", merchantUIDs, MaxMerchantUIDLen)
	if err != nil {
		return nil, err
	}
	found, err := c.multiPayments(ctx, ids, func(chunk []string) any {
		return paymentsByMerchantQuery{MerchantUIDs: chunk, IncludeSandbox: c.cfg.sandbox}
	}, func(p *Payment) string { return p.MerchantUID })
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
