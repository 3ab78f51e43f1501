package iamport

import (
	"context"
	"errors"
	"net/http"
)

// GetBillingKey returns the billing key registered under customerUID
// (GET /subscribe/customers/{customer_uid},
// https://api.iamport.kr/#!/subscribe.customer/customer_view). An unknown or
// deleted key is an error for which errors.Is(err, ErrNotFound) holds, both
// for the documented 404 and for the HTTP 200 with a non-zero code that the
// API has also been seen to answer.
func (c *Client) GetBillingKey(ctx context.Context, customerUID string) (*BillingKey, error) {
	if err := checkUID("customer_uid", customerUID, MaxCustomerUIDLen); err != nil {
		return nil, err
	}
	var k BillingKey
	if _, err := c.do(ctx, &request{method: http.MethodGet, path: "/subscribe/customers/" + pathEscape(customerUID), retry: true}, &k); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusOK && ae.Code != 0 {
			ae.notFound = true
		}
		return nil, err
	}
	return &k, nil
}
