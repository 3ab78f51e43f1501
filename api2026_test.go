package iamport_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Wire-level tests of the fields of the 2026 API: each call goes to the
// fake, and the fake's record of what it received is checked.

func lastBody(t *testing.T, srv *iamporttest.Server, route string) map[string]any {
	t.Helper()
	rec, ok := srv.LastReceived(route)
	require.True(t, ok, "nothing received on %s", route)
	require.NotNil(t, rec.Body, "a JSON body on %s", route)
	return rec.Body
}

func TestAgainPaymentNewFieldsOnWire(t *testing.T) {
	srv, c := moneyFake(t)
	_, err := c.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{
		CustomerUID: "cust_1", MerchantUID: "m_again_2026", Amount: 1000, Name: "plan",
		ChannelKey: iamporttest.DefaultChannelKey, ProductCount: 3, CashReceiptType: iamport.CashReceiptAnonymous,
		Bypass: json.RawMessage(`{"tosspay_v2": {"x": 1}}`), NaverUseCfm: "20270131",
	})
	require.NoError(t, err)
	b := lastBody(t, srv, iamporttest.RouteAgain)
	assert.Equal(t, iamporttest.DefaultChannelKey, b["channel_key"])
	assert.Equal(t, json.Number("3"), b["product_count"])
	assert.Equal(t, "anonymous", b["cash_receipt_type"])
	assert.Equal(t, `{"tosspay_v2":{"x":1}}`, b["bypass"], "bypass goes as the JSON string the API documents")
	assert.Equal(t, map[string]any{"naverUseCfm": "20270131"}, b["extra"])

	// Without them, none of them is sent.
	_, err = c.AgainPayment(context.Background(), chargeReq("m_again_plain"))
	require.NoError(t, err)
	b = lastBody(t, srv, iamporttest.RouteAgain)
	for _, k := range []string{"channel_key", "product_count", "cash_receipt_type", "bypass", "extra"} {
		assert.NotContains(t, b, k)
	}
}

func TestChannelKeyPicksTheChannel(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	require.NoError(t, srv.AddChannel(iamporttest.Channel{Key: "ck-toss", PGProvider: "tosspayments", PGID: "tosstest"}))
	c := srv.Client()
	ctx := context.Background()
	k, err := c.IssueBillingKey(ctx, &iamport.IssueBillingKeyRequest{
		CustomerUID: "cust_toss", CardNumber: "4092-0230-1234-5678", Expiry: "2099-12", Birth: "900101",
		ChannelKey: "ck-toss", CustomerID: "member-42", PG: "tosspayments",
	})
	require.NoError(t, err)
	assert.Equal(t, "tosspayments", k.PGProvider)
	assert.Equal(t, "member-42", k.CustomerID)
	b := lastBody(t, srv, iamporttest.RouteIssueBillingKey)
	assert.Equal(t, "ck-toss", b["channel_key"])
	assert.Equal(t, "member-42", b["customer_id"])

	p, err := c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cust_toss", MerchantUID: "m_toss_1", Amount: 5000, ChannelKey: "ck-toss"})
	require.NoError(t, err)
	assert.Equal(t, "tosspayments", p.PGProvider)
	fp, _ := srv.Payment(p.ImpUID)
	assert.Equal(t, "ck-toss", fp.ChannelKey)

	// A channel the key was not issued on is refused by Iamport (nothing charged).
	_, err = c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cust_toss", MerchantUID: "m_toss_2", Amount: 5000, ChannelKey: iamporttest.DefaultChannelKey})
	var ae *iamport.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 0, srv.ChargeAttempts("m_toss_2"))
}

func TestOnetimeNewFieldsOnWire(t *testing.T) {
	srv, c := moneyFake(t)
	p, err := c.OnetimePayment(context.Background(), &iamport.OnetimePaymentRequest{
		MerchantUID: "m_one_2026", Amount: 1500, CardNumber: "4092-0230-1234-5678", Expiry: "2099-12",
		ChannelKey: iamporttest.SandboxChannelKey, Secure3DChargeID: "chg_3ds_1", Secure3DToken: "tok_3ds_1",
		Bypass: json.RawMessage(`{"paymentwall":{"a":"b"}}`),
	})
	require.NoError(t, err)
	assert.True(t, p.Sandbox, "charged on the test channel")
	b := lastBody(t, srv, iamporttest.RouteOnetime)
	assert.Equal(t, iamporttest.SandboxChannelKey, b["channel_key"])
	assert.Equal(t, "chg_3ds_1", b["secure_3d_charge_id"])
	assert.Equal(t, "tok_3ds_1", b["secure_3d_token"])
	assert.Equal(t, `{"paymentwall":{"a":"b"}}`, b["bypass"])
}

func TestSuperBillingKey(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	require.NoError(t, srv.AddChannel(iamporttest.Channel{Key: "ck-nice", PGProvider: "nice_v2", PGID: "nicetest"}))
	require.NoError(t, srv.AddChannelGroup("group-1", iamporttest.DefaultChannelKey, "ck-nice", "ck-gone"))
	c := srv.Client()
	ctx := context.Background()
	k, err := c.IssueBillingKey(ctx, &iamport.IssueBillingKeyRequest{CustomerUID: "cust_super", CardNumber: "4092-0230-1234-5678", Expiry: "2099-12", ChannelGroupID: "group-1"})
	require.NoError(t, err)
	assert.Equal(t, "group-1", lastBody(t, srv, iamporttest.RouteIssueBillingKey)["channel_group_id"])
	assert.Equal(t, "cust_super", k.CustomerUID)
	assert.Equal(t, "group-1", k.ChannelGroupID)
	require.Len(t, k.SucceededChannels, 2)
	assert.Equal(t, "jtnet", k.SucceededChannels[0].PGProvider)
	assert.Equal(t, "nice_v2", k.SucceededChannels[1].PGProvider)
	assert.False(t, k.SucceededChannels[1].Inserted.IsZero())
	require.Len(t, k.FailedChannels, 1)
	assert.Equal(t, "INVALID_REQUEST", k.FailedChannels[0].Type)

	// Charge it on either channel.
	p, err := c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cust_super", MerchantUID: "m_super_1", Amount: 700, ChannelKey: "ck-nice"})
	require.NoError(t, err)
	assert.Equal(t, "nice_v2", p.PGProvider)
}

func TestScheduleNewFieldsOnWire(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client()
	at := srv.Clock().Now().Add(48 * time.Hour)
	got, err := c.SchedulePayments(context.Background(), &iamport.ScheduleRequest{
		CustomerUID: "cust_sched_card", CustomerID: "member-7", ChannelKey: iamporttest.DefaultChannelKey,
		CardNumber: "4092-0230-1234-5678", Expiry: "2099-12", Birth: "900101", Pwd2Digit: "12", CheckingAmount: 100,
		Schedules: []iamport.ScheduleItem{{
			MerchantUID: "m_sched_2026", ScheduleAt: at, Amount: 9900, Name: "plan",
			ProductCount: 2, CashReceiptType: iamport.CashReceiptPerson, Bypass: json.RawMessage(`{"k":true}`), NaverUseCfm: "20270228",
		}},
	})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "member-7", got[0].CustomerID)
	b := lastBody(t, srv, iamporttest.RouteSchedule)
	assert.Equal(t, "member-7", b["customer_id"])
	assert.Equal(t, iamporttest.DefaultChannelKey, b["channel_key"])
	assert.Equal(t, json.Number("100"), b["checking_amount"])
	assert.Equal(t, "4092-0230-1234-5678", b["card_number"], "the wire gets the real card")
	assert.Equal(t, "2099-12", b["expiry"])
	assert.Equal(t, "900101", b["birth"])
	assert.Equal(t, "12", b["pwd_2digit"])
	items := b["schedules"].([]any)
	require.Len(t, items, 1)
	it := items[0].(map[string]any)
	assert.Equal(t, json.Number("2"), it["product_count"])
	assert.Equal(t, "person", it["cash_receipt_type"])
	assert.Equal(t, `{"k":true}`, it["bypass"])
	assert.Equal(t, map[string]any{"naverUseCfm": "20270228"}, it["extra"])

	key, ok := srv.BillingKey("cust_sched_card")
	require.True(t, ok, "the card data issued the key in the same call")
	assert.Equal(t, "member-7", key.CustomerID)
	assert.Equal(t, 1, srv.Requests(iamporttest.RouteSchedule), "a request with card data is sent once")
}

func TestCancelRetainPromotionOnWire(t *testing.T) {
	srv, c := moneyFake(t)
	ctx := context.Background()
	p, err := c.AgainPayment(ctx, chargeReq("m_retain"))
	require.NoError(t, err)
	yes := true
	_, err = c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Amount: 100, RetainPromotion: &yes})
	require.NoError(t, err)
	assert.Equal(t, true, lastBody(t, srv, iamporttest.RouteCancel)["retain_promotion"])
	_, err = c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Amount: 100})
	require.NoError(t, err)
	assert.NotContains(t, lastBody(t, srv, iamporttest.RouteCancel), "retain_promotion")
}

func TestPreparePaymentInCurrency(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client()
	ctx := context.Background()
	require.NoError(t, c.PreparePaymentIn(ctx, "m_prep_usd", 1050, "usd"))
	b := lastBody(t, srv, iamporttest.RoutePrepare)
	assert.Equal(t, "USD", b["currency"])
	assert.Equal(t, json.Number("10.5"), b["amount"], "minor units sent as the major unit, exactly")
	got, err := c.GetPreparedPayment(ctx, "m_prep_usd")
	require.NoError(t, err)
	assert.Equal(t, int64(1050), got)
	require.NoError(t, c.PreparePayment(ctx, "m_prep_krw", 5000))
	assert.NotContains(t, lastBody(t, srv, iamporttest.RoutePrepare), "currency")
}

func TestFindFiltersOnWire(t *testing.T) {
	srv, c := moneyFake(t)
	ctx := context.Background()
	srv.DeclineCustomer("cust_1", "잔액부족")
	_, err := c.AgainPayment(ctx, chargeReq("m_find_f"))
	require.Error(t, err)
	srv.DeclineCustomer("cust_1", "")
	paid, err := c.AgainPayment(ctx, chargeReq("m_find_f"))
	require.NoError(t, err)

	failed, err := c.FindPaymentWith(ctx, "m_find_f", &iamport.FindPaymentOptions{Status: iamport.PaymentFailed})
	require.NoError(t, err)
	assert.Equal(t, iamport.PaymentFailed, failed.Status)
	rec, _ := srv.LastReceived(iamporttest.RouteFindStatus)
	assert.Equal(t, "/payments/find/m_find_f/failed", rec.Path)
	oldest, err := c.FindPaymentWith(ctx, "m_find_f", &iamport.FindPaymentOptions{Sorting: "started"})
	require.NoError(t, err)
	assert.Equal(t, failed.ImpUID, oldest.ImpUID)
	rec, _ = srv.LastReceived(iamporttest.RouteFind)
	assert.Equal(t, "started", rec.Query.Get("sorting"))

	var ids []string
	for p, err := range c.FindPaymentsWith(ctx, "m_find_f", &iamport.FindPaymentsOptions{Status: iamport.PaymentPaid, Limit: 5, Sorting: "-paid"}) {
		require.NoError(t, err)
		ids = append(ids, p.ImpUID)
	}
	assert.Equal(t, []string{paid.ImpUID}, ids)
	rec, _ = srv.LastReceived(iamporttest.RouteFindAllStatus)
	assert.Equal(t, "/payments/findAll/m_find_f/paid", rec.Path)
	assert.Equal(t, "5", rec.Query.Get("limit"))
	assert.Equal(t, "-paid", rec.Query.Get("sorting"))

	byM, err := c.GetPaymentsByMerchantUID(ctx, []string{"m_find_f", "m_nobody"})
	require.NoError(t, err, "207: the missing one is absent")
	require.Len(t, byM, 1)
	assert.Equal(t, paid.ImpUID, byM[0].ImpUID)
	rec, _ = srv.LastReceived(iamporttest.RouteGetPayments)
	assert.Equal(t, []string{"m_find_f", "m_nobody"}, rec.Query["merchant_uid[]"])
}

func TestBalanceAndPGSettings(t *testing.T) {
	_, c := moneyFake(t)
	ctx := context.Background()
	p, err := c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cust_1", MerchantUID: "m_bal", Amount: 11000, TaxFree: 1000})
	require.NoError(t, err)
	_, err = c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Amount: 5500})
	require.NoError(t, err)
	b, err := c.GetPaymentBalance(ctx, p.ImpUID)
	require.NoError(t, err)
	assert.Equal(t, int64(5500), b.Amount)
	assert.Equal(t, int64(1000), b.Primary.TaxFree)
	assert.Equal(t, b.Amount, b.Primary.TaxFree+b.Primary.Supply+b.Primary.Vat+b.Primary.Service)
	require.Len(t, b.Histories, 2)
	assert.False(t, b.Histories[0].Created.IsZero())
	_, err = c.GetPaymentBalance(ctx, "imp_none")
	assert.ErrorIs(t, err, iamport.ErrNotFound)

	pgs, err := c.GetPGSettings(ctx)
	require.NoError(t, err)
	byKey := map[string]iamport.PGSetting{}
	for _, s := range pgs {
		byKey[s.ChannelKey] = s
	}
	require.Contains(t, byKey, iamporttest.SandboxChannelKey)
	assert.True(t, byKey[iamporttest.SandboxChannelKey].Sandbox)
	assert.False(t, byKey[iamporttest.DefaultChannelKey].Sandbox)
	assert.Equal(t, "jtnet", byKey[iamporttest.DefaultChannelKey].PGProvider)
}

func TestSchedulesSortingAndBareLists(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	require.NoError(t, srv.RegisterBillingKey("cust_sl", "4092-0230-1234-5678"))
	c := srv.Client()
	ctx := context.Background()
	now := srv.Clock().Now()
	var items []iamport.ScheduleItem
	for i, m := range []string{"m_sl_1", "m_sl_2", "m_sl_3"} {
		items = append(items, iamport.ScheduleItem{MerchantUID: m, ScheduleAt: now.Add(time.Duration(i+1) * 24 * time.Hour), Amount: 100})
	}
	_, err := c.SchedulePayments(ctx, &iamport.ScheduleRequest{CustomerUID: "cust_sl", Schedules: items})
	require.NoError(t, err)
	list := func(opts iamport.ScheduleListOptions) []string {
		var out []string
		for s, err := range c.Schedules(ctx, &opts) {
			require.NoError(t, err)
			out = append(out, s.MerchantUID)
		}
		return out
	}
	from, to := now, now.Add(200*24*time.Hour)
	for _, bare := range []bool{false, true} {
		srv.SetBareScheduleLists(bare)
		assert.Equal(t, []string{"m_sl_3", "m_sl_2", "m_sl_1"}, list(iamport.ScheduleListOptions{From: from, To: to, Limit: 2}), "bare=%v", bare)
		assert.Equal(t, []string{"m_sl_1", "m_sl_2", "m_sl_3"}, list(iamport.ScheduleListOptions{From: from, To: to, Limit: 2, Sorting: iamport.ScheduleSortingOldest}), "bare=%v", bare)
		rec, _ := srv.LastReceived(iamporttest.RouteListSchedules)
		assert.Equal(t, "scheduled", rec.Query.Get("sorting"))
		var cs []string
		for s, err := range c.CustomerSchedules(ctx, "cust_sl", &iamport.ScheduleListOptions{From: from, To: to}) {
			require.NoError(t, err)
			cs = append(cs, s.MerchantUID)
		}
		assert.Len(t, cs, 3, "bare=%v", bare)
	}
}

func TestUnknownCustomerLiveTexts(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client()
	ctx := context.Background()
	_, err := c.GetBillingKey(ctx, "cust_nobody")
	var ae *iamport.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "등록된 고객정보가 없습니다.", ae.Message)
	assert.ErrorIs(t, err, iamport.ErrNotFound)
	now := srv.Clock().Now()
	for _, err := range c.CustomerSchedules(ctx, "cust_nobody", &iamport.ScheduleListOptions{From: now, To: now.Add(time.Hour)}) {
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 200, ae.StatusCode, "an HTTP 200 with code 1")
		assert.Equal(t, "등록된 고객정보가 없습니다.", ae.Message)
		assert.ErrorIs(t, err, iamport.ErrNotFound, "recognised by its text")
	}
}
