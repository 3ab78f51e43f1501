package iamport

import (
	"context"
	"net/http"
)

// GetPayment returns the payment with this imp_uid (GET /payments/{imp_uid},
// https://api.iamport.kr/#!/payments/getPaymentByImpUid). An unknown imp_uid
// is an error for which errors.Is(err, ErrNotFound) holds. It is a read,
// resent under the client's RetryPolicy.
func (c *Client) GetPayment(ctx context.Context, impUID string) (*Payment, error) {
	if err := checkUID("imp_uid", impUID, maxImpUIDLen); err != nil {
		return nil, err
	}
	return c.getPayment(ctx, &request{method: http.MethodGet, path: "/payments/" + pathEscape(impUID), retry: true})
}

// FindPayment returns the newest payment (by started_at) with this
// merchant_uid, whatever its status (GET /payments/find/{merchant_uid},
// https://api.iamport.kr/#!/payments/getPaymentByMerchantUid). None is an
// error for which errors.Is(err, ErrNotFound) holds. It is a read, resent
// under the client's RetryPolicy.
func (c *Client) FindPayment(ctx context.Context, merchantUID string) (*Payment, error) {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return nil, err
	}
	return c.findPayment(ctx, merchantUID, true)
}

// findPayment is FindPayment without validation; retry false makes one
// attempt (the money engine's settle loop has its own backoff).
func (c *Client) findPayment(ctx context.Context, merchantUID string, retry bool) (*Payment, error) {
	return c.getPayment(ctx, &request{method: http.MethodGet, path: "/payments/find/" + pathEscape(merchantUID), retry: retry})
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
