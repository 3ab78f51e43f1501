package main

import (
	"context"
	"testing"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSandboxFlag: a payment made on a test channel is found only with
// --sandbox (include_sandbox=true), as the API does since 2026-01-26.
func TestSandboxFlag(t *testing.T) {
	h := newHarness(t)
	c := h.srv.Client(iamport.WithSandbox())
	_, err := c.IssueBillingKey(context.Background(), &iamport.IssueBillingKeyRequest{CustomerUID: "cust_sb",
		CardNumber: iamporttest.DefaultCardNumber, Expiry: "2031-12", Birth: "900101", Pwd2Digit: "12", ChannelKey: iamporttest.SandboxChannelKey})
	require.NoError(t, err)
	p, err := c.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{
		CustomerUID: "cust_sb", MerchantUID: "order_sb", Amount: 1000, Name: "test", ChannelKey: iamporttest.SandboxChannelKey})
	require.NoError(t, err)
	require.True(t, p.Sandbox)

	res := h.run("payment", "get", p.ImpUID)
	assert.NotEqual(t, 0, res.code, "without --sandbox a test payment is not found")
	out := h.ok("payment", "get", p.ImpUID, "--sandbox", "-o", "json")
	got := jsonObject(t, out)
	assert.Equal(t, p.ImpUID, got["imp_uid"])
	assert.Equal(t, true, got["sandbox"])
}
