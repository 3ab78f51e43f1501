package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/billingkr/iamport-go/internal/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPGRulesMatchSpec holds pgRules to the spec: every x-portone-per-pg
// "required" and every x-portone-unsupported-pgs of the parameters of the
// calls the SDK makes is in the table, and the table has nothing the spec
// does not say.
func TestPGRulesMatchSpec(t *testing.T) {
	s, err := spec.Load()
	if errors.Is(err, spec.ErrNotFound) {
		t.Skip(err)
	}
	require.NoError(t, err)
	// The spec's parameters the SDK sends, by operation (fields the SDK
	// does not send, like the deprecated vat, are left out).
	sent := map[string]map[string]bool{}
	for op, fields := range map[string][]string{
		pgOpAgain:    {"customer_uid", "merchant_uid", "currency", "amount", "tax_free", "vat_amount", "name", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "card_quota", "interest_free_by_merchant", "use_card_point", "custom_data", "notice_url", "browser_ip", "product_type", "product_count", "cash_receipt_type", "bypass", "extra", "promotion_id", "channel_key"},
		pgOpOnetime:  {"merchant_uid", "currency", "amount", "tax_free", "vat_amount", "card_number", "expiry", "birth", "pwd_2digit", "cvc", "customer_uid", "pg", "name", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "card_quota", "interest_free_by_merchant", "use_card_point", "custom_data", "notice_url", "browser_ip", "secure_3d_charge_id", "secure_3d_token", "product_type", "promotion_id", "bypass"},
		pgOpIssue:    {"channel_key", "pg", "customer_id", "card_number", "expiry", "birth", "pwd_2digit", "cvc", "customer_name", "customer_tel", "customer_email", "customer_addr", "customer_postcode", "channel_group_id"},
		pgOpSchedule: {"customer_uid", "customer_id", "checking_amount", "card_number", "expiry", "birth", "pwd_2digit", "cvc", "channel_key"},
	} {
		sent[op] = map[string]bool{}
		for _, f := range fields {
			sent[op][f] = true
		}
	}
	paths := map[string][2]string{
		pgOpAgain:    {"/subscribe/payments/again", "post"},
		pgOpOnetime:  {"/subscribe/payments/onetime", "post"},
		pgOpIssue:    {"/subscribe/customers/{customer_uid}", "post"},
		pgOpSchedule: {"/subscribe/payments/schedule", "post"},
	}
	for op, pm := range paths {
		o, ok := s.Operation(pm[0], pm[1])
		require.True(t, ok, "the spec has %s %s", pm[1], pm[0])
		want := pgRuleSet{required: map[string][]string{}, unsupported: map[string][]string{}}
		for _, p := range o.Parameters {
			if !sent[op][p.Name] {
				continue
			}
			if r := p.RequiredBy(); len(r) > 0 {
				want.required[p.Name] = r
			}
			if len(p.UnsupportedPGs) > 0 {
				want.unsupported[p.Name] = p.UnsupportedPGs
			}
		}
		if op == pgOpOnetime {
			// The SDK's own addition: card data of the PGs that take none by API.
			want.unsupported["card_number"] = noBillingKeyByAPI
		}
		if op == pgOpIssue {
			want.unsupported["card_number"] = noBillingKeyByAPI
		}
		assertSameRules(t, op, want, pgRules[op])
	}
	// The schedules[] entries: the ScheduleAnnotation definition.
	def, ok := s.Definitions["ScheduleAnnotation"]
	require.True(t, ok)
	want := pgRuleSet{required: map[string][]string{}}
	for name, raw := range def.Properties {
		p := spec.Parameter{Name: name}
		require.NoError(t, jsonUnmarshal(raw, &p))
		if r := p.RequiredBy(); len(r) > 0 {
			want.required[name] = r
		}
	}
	assertSameRules(t, pgOpItem, want, pgRules[pgOpItem])
}

func assertSameRules(t *testing.T, op string, want, got pgRuleSet) {
	t.Helper()
	norm := func(m map[string][]string) map[string][]string {
		out := map[string][]string{}
		for k, v := range m {
			v = slices.Clone(v)
			slices.Sort(v)
			out[k] = v
		}
		return out
	}
	assert.Equal(t, norm(want.required), norm(got.required), "%s: required per PG", op)
	assert.Equal(t, norm(want.unsupported), norm(got.unsupported), "%s: unsupported per PG", op)
}

func TestPGRulesCheckedBeforeSending(t *testing.T) {
	at := time.Unix(2_000_000_000, 0)
	card := func(r *IssueBillingKeyRequest) { r.CardNumber, r.Expiry = "4092-0230-1234-5678", "2099-12" }
	cases := []struct {
		name, field, pg string
		call            func(c *Client) error
	}{
		{"tosspayments schedule needs customer_id", "customer_id", "tosspayments", func(c *Client) error {
			_, err := c.SchedulePayments(context.Background(), &ScheduleRequest{CustomerUID: "c", PG: "tosspayments.MID1",
				Schedules: []ScheduleItem{{MerchantUID: "m", ScheduleAt: at, Amount: 1}}})
			return err
		}},
		{"tosspayments issue needs customer_id", "customer_id", "tosspayments", func(c *Client) error {
			r := &IssueBillingKeyRequest{CustomerUID: "c", PG: "tosspayments"}
			card(r)
			_, err := c.IssueBillingKey(context.Background(), r)
			return err
		}},
		{"kakaopay cannot issue by API", "card_number", "kakaopay", func(c *Client) error {
			r := &IssueBillingKeyRequest{CustomerUID: "c", PG: "kakaopay"}
			card(r)
			_, err := c.IssueBillingKey(context.Background(), r)
			return err
		}},
		{"naverpay schedule with card data", "card_number", "naverpay", func(c *Client) error {
			_, err := c.SchedulePayments(context.Background(), &ScheduleRequest{CustomerUID: "c", PG: "naverpay",
				CardNumber: "4092-0230-1234-5678", Expiry: "2099-12", Schedules: []ScheduleItem{{MerchantUID: "m", ScheduleAt: at, Amount: 1}}})
			return err
		}},
		{"html5_inicis onetime needs a name", "name", "html5_inicis", func(c *Client) error {
			_, err := c.OnetimePayment(context.Background(), &OnetimePaymentRequest{MerchantUID: "m", Amount: 1, PG: "html5_inicis.INIBillTst",
				CardNumber: "4092-0230-1234-5678", Expiry: "2099-12", BuyerName: "k", BuyerEmail: "e", BuyerTel: "t"})
			return err
		}},
		{"ksnet onetime cannot store a key", "customer_uid", "ksnet", func(c *Client) error {
			_, err := c.OnetimePayment(context.Background(), &OnetimePaymentRequest{MerchantUID: "m", Amount: 1, PG: "ksnet", CustomerUID: "c",
				CardNumber: "4092-0230-1234-5678", Expiry: "2099-12", BuyerName: "k", ProductType: "digital"})
			return err
		}},
		{"ksnet again needs buyer_name", "buyer_name", "ksnet", func(c *Client) error {
			_, err := c.AgainPayment(context.Background(), &AgainPaymentRequest{CustomerUID: "c", MerchantUID: "m", Amount: 1, PG: "ksnet", ProductType: "real"})
			return err
		}},
		{"paypal_v2 schedule item needs currency", "schedules[0].currency", "paypal_v2", func(c *Client) error {
			_, err := c.SchedulePayments(context.Background(), &ScheduleRequest{CustomerUID: "c", PG: "paypal_v2",
				Schedules: []ScheduleItem{{MerchantUID: "m", ScheduleAt: at, Amount: 1}}})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt, _ := mockClient(t)
			err := tc.call(c)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "want a *ValidationError, got %v", err)
			assert.Equal(t, tc.field, ve.Field)
			assert.Contains(t, ve.Reason, tc.pg, "the PG is named")
			assert.Zero(t, mt.GetTotalCallCount(), "nothing sent")
		})
	}

	// The same requests with what the PG needs, or with no PG named, pass
	// validation (they reach the transport).
	for _, r := range []*AgainPaymentRequest{
		{CustomerUID: "c", MerchantUID: "m", Amount: 1, PG: "ksnet", ProductType: "real", BuyerName: "Kim"},
		{CustomerUID: "c", MerchantUID: "m", Amount: 1},
		{CustomerUID: "c", MerchantUID: "m", Amount: 1, PG: "jtnet"},
	} {
		assert.NoError(t, r.validate(), "%+v", r)
	}
	ok := &ScheduleRequest{CustomerUID: "c", PG: "tosspayments", CustomerID: "member-1", Schedules: []ScheduleItem{{MerchantUID: "m", ScheduleAt: at, Amount: 1}}}
	assert.NoError(t, ok.validate())
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
