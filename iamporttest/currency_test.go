package iamporttest

import (
	"context"
	"encoding/json"
	"testing"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/internal/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fake and the SDK read amounts with one ISO 4217 minor-unit table:
// a charge in any currency is recorded in the minor unit the SDK sent it
// in, and answered back as the same amount.
func TestFakeCurrencyTableIsTheSDKs(t *testing.T) {
	h := newHarness(t)
	srv := h.s
	require.NoError(t, srv.RegisterBillingKey("cust_cur", DefaultCardNumber))
	c := srv.Client()
	for _, tc := range []struct {
		currency string
		amount   int64 // minor units
	}{
		{"KRW", 1234}, {"JPY", 1234}, {"XPF", 1234}, {"KWD", 1234}, {"BHD", 1001}, {"USD", 1050}, {"VND", 50000},
	} {
		m := "m_cur_" + tc.currency
		p, err := c.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{CustomerUID: "cust_cur", MerchantUID: m, Amount: tc.amount, Currency: tc.currency})
		require.NoError(t, err, tc.currency)
		assert.Equal(t, tc.amount, p.Amount, "%s answered back", tc.currency)
		rec := srv.PaymentsByMerchantUID(m)
		require.Len(t, rec, 1)
		assert.Equal(t, tc.amount, rec[0].Amount, "%s recorded in its minor unit", tc.currency)
		assert.Equal(t, wire.Exponent(tc.currency), currencyExp(tc.currency), tc.currency)
	}
	// A KWD amount with more decimals than the dinar has is refused by the fake.
	st, _ := h.call("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "cust_cur", "merchant_uid": "m_kwd_bad", "amount": json.Number("1.2345"), "currency": "KWD"})
	assert.Equal(t, 400, st)
	st, e := h.call("POST", "/subscribe/payments/again", map[string]any{"customer_uid": "cust_cur", "merchant_uid": "m_xpf_raw", "amount": 1234, "currency": "XPF"})
	require.Equal(t, 200, st)
	assert.Equal(t, float64(1234), obj(t, e.Response)["amount"], "XPF has no minor unit: 1234 is 1234")
	assert.Equal(t, int64(1234), srv.PaymentsByMerchantUID("m_xpf_raw")[0].Amount)
}
