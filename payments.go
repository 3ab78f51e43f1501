package iamport

import (
	"context"
	"net/http"
)

// GetPayment returns the payment with this imp_uid (GET /payments/{imp_uid},
// https://api.iamport.kr/#!/payments/getPaymentByImpUid). An unknown imp_uid
// is an error for which errors.Is(err, ErrNotFound) holds.
func (c *Client) GetPayment(ctx context.Context, impUID string) (*Payment, error) {
	if err := checkUID("imp_uid", impUID, 100); err != nil {
		return nil, err
	}
	var p Payment
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/payments/" + pathEscape(impUID), retry: true}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// FindPayment returns the newest payment (by started_at) with this
// merchant_uid, whatever its status (GET /payments/find/{merchant_uid},
// https://api.iamport.kr/#!/payments/getPaymentByMerchantUid). None is an
// error for which errors.Is(err, ErrNotFound) holds.
func (c *Client) FindPayment(ctx context.Context, merchantUID string) (*Payment, error) {
	if err := checkUID("merchant_uid", merchantUID, MaxMerchantUIDLen); err != nil {
		return nil, err
	}
	var p Payment
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/payments/find/" + pathEscape(merchantUID), retry: true}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// findPayment is FindPayment for reconciliation: one attempt, no retries
// (the reconciliation loop has its own backoff).
func (c *Client) findPayment(ctx context.Context, merchantUID string) (*Payment, error) {
	var p Payment
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/payments/find/" + pathEscape(merchantUID)}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
