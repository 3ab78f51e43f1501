package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every new field is validated before anything is sent: a *ValidationError
// naming the field, and no request at all (not even getToken).
func TestNewFieldsValidatedBeforeSending(t *testing.T) {
	at := time.Unix(2_000_000_000, 0)
	again := func(mod func(*AgainPaymentRequest)) func(c *Client) error {
		return func(c *Client) error {
			r := &AgainPaymentRequest{CustomerUID: "c", MerchantUID: "m", Amount: 1000}
			mod(r)
			_, err := c.AgainPayment(context.Background(), r)
			return err
		}
	}
	onetime := func(mod func(*OnetimePaymentRequest)) func(c *Client) error {
		return func(c *Client) error {
			r := &OnetimePaymentRequest{MerchantUID: "m", Amount: 1000, CardNumber: "4092-0230-1234-5678", Expiry: "2099-12"}
			mod(r)
			_, err := c.OnetimePayment(context.Background(), r)
			return err
		}
	}
	issue := func(mod func(*IssueBillingKeyRequest)) func(c *Client) error {
		return func(c *Client) error {
			r := &IssueBillingKeyRequest{CustomerUID: "c", CardNumber: "4092-0230-1234-5678", Expiry: "2099-12"}
			mod(r)
			_, err := c.IssueBillingKey(context.Background(), r)
			return err
		}
	}
	schedule := func(mod func(*ScheduleRequest)) func(c *Client) error {
		return func(c *Client) error {
			r := &ScheduleRequest{CustomerUID: "c", Schedules: []ScheduleItem{{MerchantUID: "m", ScheduleAt: at, Amount: 1000}}}
			mod(r)
			_, err := c.SchedulePayments(context.Background(), r)
			return err
		}
	}
	first := func(seq iter.Seq2[*Payment, error]) error {
		for _, err := range seq {
			return err
		}
		return nil
	}
	long := strings.Repeat("k", MaxChannelKeyLen+1)
	cases := []struct {
		name, field string
		call        func(c *Client) error
	}{
		{"again channel_key too long", "channel_key", again(func(r *AgainPaymentRequest) { r.ChannelKey = long })},
		{"again channel_key control char", "channel_key", again(func(r *AgainPaymentRequest) { r.ChannelKey = "ck\n1" })},
		{"again product_count negative", "product_count", again(func(r *AgainPaymentRequest) { r.ProductCount = -1 })},
		{"again cash_receipt_type", "cash_receipt_type", again(func(r *AgainPaymentRequest) { r.CashReceiptType = "everyone" })},
		{"again bypass not JSON", "bypass", again(func(r *AgainPaymentRequest) { r.Bypass = json.RawMessage(`{nope`) })},
		{"again bypass not an object", "bypass", again(func(r *AgainPaymentRequest) { r.Bypass = json.RawMessage(`[1]`) })},
		{"again naverUseCfm", "extra.naverUseCfm", again(func(r *AgainPaymentRequest) { r.NaverUseCfm = "2027-01-31" })},
		{"again naverUseCfm no date", "extra.naverUseCfm", again(func(r *AgainPaymentRequest) { r.NaverUseCfm = "20271340" })},
		{"onetime channel_key", "channel_key", onetime(func(r *OnetimePaymentRequest) { r.ChannelKey = long })},
		{"onetime bypass", "bypass", onetime(func(r *OnetimePaymentRequest) { r.Bypass = json.RawMessage(`"x"`) })},
		{"onetime secure_3d_charge_id", "secure_3d_charge_id", onetime(func(r *OnetimePaymentRequest) { r.Secure3DChargeID = "a\x00b" })},
		{"onetime secure_3d_token", "secure_3d_token", onetime(func(r *OnetimePaymentRequest) { r.Secure3DToken = "a\rb" })},
		{"issue channel_key", "channel_key", issue(func(r *IssueBillingKeyRequest) { r.ChannelKey = long })},
		{"issue channel_group_id", "channel_group_id", issue(func(r *IssueBillingKeyRequest) { r.ChannelGroupID = long })},
		{"issue customer_id", "customer_id", issue(func(r *IssueBillingKeyRequest) { r.CustomerID = "id\x7f" })},
		{"schedule customer_id", "customer_id", schedule(func(r *ScheduleRequest) { r.CustomerID = "a\tb" })},
		{"schedule channel_key", "channel_key", schedule(func(r *ScheduleRequest) { r.ChannelKey = long })},
		{"schedule checking_amount", "checking_amount", schedule(func(r *ScheduleRequest) { r.CheckingAmount = -1 })},
		{"schedule card without expiry", "expiry", schedule(func(r *ScheduleRequest) { r.CardNumber = "4092-0230-1234-5678" })},
		{"schedule bad card number", "card_number", schedule(func(r *ScheduleRequest) { r.CardNumber, r.Expiry = "4092", "2099-12" })},
		{"schedule birth alone", "card_number", schedule(func(r *ScheduleRequest) { r.Birth = "900101" })},
		{"schedule item product_count", "schedules[0].product_count", schedule(func(r *ScheduleRequest) { r.Schedules[0].ProductCount = -2 })},
		{"schedule item cash_receipt_type", "schedules[0].cash_receipt_type", schedule(func(r *ScheduleRequest) { r.Schedules[0].CashReceiptType = "x" })},
		{"schedule item bypass", "schedules[0].bypass", schedule(func(r *ScheduleRequest) { r.Schedules[0].Bypass = json.RawMessage(`1`) })},
		{"schedule item naverUseCfm", "schedules[0].extra.naverUseCfm", schedule(func(r *ScheduleRequest) { r.Schedules[0].NaverUseCfm = "tomorrow" })},
		{"schedule list sorting", "sorting", func(c *Client) error {
			for _, err := range c.Schedules(context.Background(), &ScheduleListOptions{From: at, To: at.Add(time.Hour), Sorting: "-scheduled"}) {
				return err
			}
			return nil
		}},
		{"customer schedules sorting", "sorting", func(c *Client) error {
			for _, err := range c.CustomerSchedules(context.Background(), "c", &ScheduleListOptions{From: at, To: at.Add(time.Hour), Sorting: ScheduleSortingOldest}) {
				return err
			}
			return nil
		}},
		{"find status", "payment_status", func(c *Client) error {
			_, err := c.FindPaymentWith(context.Background(), "m", &FindPaymentOptions{Status: "done"})
			return err
		}},
		{"find sorting", "sorting", func(c *Client) error {
			_, err := c.FindPaymentWith(context.Background(), "m", &FindPaymentOptions{Sorting: "newest"})
			return err
		}},
		{"findAll status", "payment_status", func(c *Client) error {
			return first(c.FindPaymentsWith(context.Background(), "m", &FindPaymentsOptions{Status: "x"}))
		}},
		{"findAll limit", "limit", func(c *Client) error {
			return first(c.FindPaymentsWith(context.Background(), "m", &FindPaymentsOptions{Limit: MaxListLimit + 1}))
		}},
		{"findAll sorting", "sorting", func(c *Client) error {
			return first(c.FindPaymentsWith(context.Background(), "m", &FindPaymentsOptions{Sorting: "paid_at"}))
		}},
		{"payments by merchant_uid", "merchant_uid", func(c *Client) error {
			_, err := c.GetPaymentsByMerchantUID(context.Background(), []string{"ok", ".."})
			return err
		}},
		{"prepare currency", "currency", func(c *Client) error {
			return c.PreparePaymentIn(context.Background(), "m", 100, "US")
		}},
		{"balance imp_uid", "imp_uid", func(c *Client) error {
			_, err := c.GetPaymentBalance(context.Background(), "")
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
			assert.ErrorIs(t, err, ErrInvalidRequest)
			assert.Zero(t, mt.GetTotalCallCount(), "nothing sent")
		})
	}
}
