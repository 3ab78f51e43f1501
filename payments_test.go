package iamport_test

import (
	"context"
	"net/http"
	"testing"

	iamport "github.com/billingkr/iamport-go"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookupsOnFake(t *testing.T) {
	srv, c := moneyFake(t)
	ctx := context.Background()
	paid, err := c.AgainPayment(ctx, chargeReq("m_lookup"))
	require.NoError(t, err)

	byImp, err := c.GetPayment(ctx, paid.ImpUID)
	require.NoError(t, err)
	byMerchant, err := c.FindPayment(ctx, "m_lookup")
	require.NoError(t, err)
	for _, p := range []*iamport.Payment{byImp, byMerchant} {
		assert.Equal(t, paid.ImpUID, p.ImpUID)
		assert.Equal(t, "cust_1", p.CustomerUID)
		assert.Equal(t, int64(9900), p.Amount)
		assert.Equal(t, iamport.PaymentPaid, p.Status)
		assert.False(t, p.PaidAt.IsZero())
		assert.True(t, p.FailedAt.IsZero(), "0 on the wire is the zero time")
		assert.True(t, p.CancelledAt.IsZero())
		assert.Nil(t, p.CardType, "JTNet sends card_type null")
	}

	key, err := c.GetBillingKey(ctx, "cust_1")
	require.NoError(t, err)
	assert.Equal(t, "cust_1", key.CustomerUID)
	assert.NotContains(t, key.CardNumber, "0230-1234", "the card number comes masked")
	assert.False(t, key.Inserted.IsZero())

	_, err = c.GetPayment(ctx, "imp_nope")
	assert.ErrorIs(t, err, iamport.ErrNotFound)
	_, err = c.FindPayment(ctx, "m_nope")
	assert.ErrorIs(t, err, iamport.ErrNotFound)
	_, err = c.GetBillingKey(ctx, "cust_nope")
	assert.ErrorIs(t, err, iamport.ErrNotFound)
	assert.Equal(t, 2, srv.Requests("GET /payments/{imp_uid}"), "one found, one 404 that is not retried")
}

func TestGetBillingKeyNotFoundIn200(t *testing.T) {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, "https://api.iamport.kr/users/getToken",
		httpmock.NewStringResponder(200, `{"code":0,"message":null,"response":{"access_token":"t","now":1700000000,"expired_at":1700001800}}`))
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/subscribe/customers/c1",
		httpmock.NewStringResponder(200, `{"code":1,"message":"요청하신 customer_uid(c1)로 등록된 정보를 찾을 수 없습니다.","response":null}`))
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/subscribe/customers/c2",
		httpmock.NewStringResponder(200, `{"code":1,"message":"요청하신 customer_uid(c2)로 등록된 정보를 찾을 수 없습니다.","response":null}`))
	c, err := iamport.NewClient("k", "s", iamport.WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	for _, cuid := range []string{"c1", "c2"} {
		_, err = c.GetBillingKey(context.Background(), cuid)
		assert.ErrorIs(t, err, iamport.ErrNotFound, cuid)
		var ae *iamport.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusOK, ae.StatusCode)
	}
}
