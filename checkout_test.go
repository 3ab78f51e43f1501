package iamport_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// ckFake is a fake Iamport with a client that never sleeps between retries.
func ckFake(t *testing.T, opts ...iamporttest.ServerOption) (*iamporttest.Server, *iamport.Client) {
	t.Helper()
	s := iamporttest.NewServer(opts...)
	t.Cleanup(s.Close)
	c := s.Client(iamport.WithRetryPolicy(iamport.RetryPolicy{MaxAttempts: 1, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}))
	return s, c
}

// ckWindow registers a billing key through the fake's payment window.
func ckWindow(t *testing.T, s *iamporttest.Server, merchantUID, customerUID string, amount int64, card string) iamporttest.WindowResult {
	t.Helper()
	return s.RequestPay(iamporttest.WindowRequest{PG: "jtnet", MerchantUID: merchantUID, Name: "월간 구독", Amount: amount, CustomerUID: customerUID, CardNumber: card, BuyerName: "홍길동"})
}

func ckVerification(t *testing.T, err error, field, want, got string) {
	t.Helper()
	require.Error(t, err)
	var ve *iamport.VerificationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, field, ve.Field)
	assert.Equal(t, want, ve.Want)
	assert.Equal(t, got, ve.Got)
	assert.ErrorIs(t, err, iamport.ErrVerificationFailed)
	assert.NotErrorIs(t, err, iamport.ErrInvalidRequest)
	assert.Contains(t, err.Error(), field)
	assert.Contains(t, err.Error(), want)
	assert.Contains(t, err.Error(), got)
}

func TestVerifyPaymentFirstCharge(t *testing.T) {
	t.Parallel()
	s, c := ckFake(t)
	res := ckWindow(t, s, "order_1", "cust_1", 1004, "")
	require.True(t, res.Success, res.ErrorMsg)
	ctx := context.Background()

	p, err := c.VerifyPayment(ctx, res.ImpUID, iamport.Expectation{MerchantUID: "order_1", Amount: 1004, CustomerUID: "cust_1"})
	require.NoError(t, err)
	assert.True(t, p.IsPaid())
	assert.Equal(t, int64(1004), p.Amount)
	assert.Equal(t, "cust_1", p.CustomerUID)

	// Currency "" means KRW; any letter case of KRW is the same.
	_, err = c.VerifyPayment(ctx, res.ImpUID, iamport.Expectation{MerchantUID: "order_1", Amount: 1004, Currency: "krw"})
	require.NoError(t, err)

	cases := []struct {
		name            string
		want            iamport.Expectation
		field, wnt, got string
	}{
		{"tampered amount", iamport.Expectation{MerchantUID: "order_1", Amount: 100, CustomerUID: "cust_1"}, "amount", "100", "1004"},
		{"other merchant_uid", iamport.Expectation{MerchantUID: "order_2", Amount: 1004, CustomerUID: "cust_1"}, "merchant_uid", "order_2", "order_1"},
		{"other customer_uid", iamport.Expectation{MerchantUID: "order_1", Amount: 1004, CustomerUID: "cust_9"}, "customer_uid", "cust_9", "cust_1"},
		{"other currency", iamport.Expectation{MerchantUID: "order_1", Amount: 1004, Currency: "USD"}, "currency", "USD", "KRW"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := c.VerifyPayment(ctx, res.ImpUID, tc.want)
			ckVerification(t, err, tc.field, tc.wnt, tc.got)
			require.NotNil(t, p, "the fetched payment accompanies the error")
			assert.Equal(t, res.ImpUID, p.ImpUID)
			assert.NotContains(t, err.Error(), p.CardNumber)
		})
	}
}

func TestVerifyPaymentDeclinedWindow(t *testing.T) {
	t.Parallel()
	s, c := ckFake(t)
	s.DeclineCard("4000-0000-0000-0002", "한도초과")
	res := ckWindow(t, s, "order_d", "cust_d", 1004, "4000-0000-0000-0002")
	require.False(t, res.Success)
	require.NotEmpty(t, res.ImpUID)

	p, err := c.VerifyPayment(context.Background(), res.ImpUID, iamport.Expectation{MerchantUID: "order_d", Amount: 1004, CustomerUID: "cust_d"})
	ckVerification(t, err, "status", "paid", "failed")
	require.NotNil(t, p)
	assert.Equal(t, "한도초과", p.FailReason)

	_, err = c.VerifyBillingKey(context.Background(), "cust_d")
	assert.ErrorIs(t, err, iamport.ErrNotFound, "a declined window stores no key")
}

func TestVerifyPaymentKeyOnly(t *testing.T) {
	t.Parallel()
	s, c := ckFake(t)
	res := ckWindow(t, s, "order_k", "cust_k", 0, "")
	require.True(t, res.Success, res.ErrorMsg)
	ctx := context.Background()

	k, err := c.VerifyBillingKey(ctx, "cust_k")
	require.NoError(t, err)
	assert.Equal(t, "cust_k", k.CustomerUID)
	assert.Equal(t, "jtnet", k.PGProvider)
	assert.Nil(t, k.CardType, "JTNet sends no card_type")
	assert.NotContains(t, k.CardNumber, "0230-1234", "masked")

	// The key-only window records a paid payment of 0.
	p, err := c.VerifyPayment(ctx, res.ImpUID, iamport.Expectation{MerchantUID: "order_k", Amount: 0, CustomerUID: "cust_k"})
	require.NoError(t, err)
	assert.Equal(t, int64(0), p.Amount)
	_, err = c.VerifyPayment(ctx, res.ImpUID, iamport.Expectation{MerchantUID: "order_k", Amount: 1004})
	ckVerification(t, err, "amount", "1004", "0")

	_, err = c.VerifyBillingKey(ctx, "cust_never")
	assert.ErrorIs(t, err, iamport.ErrNotFound)
	_, err = c.VerifyPayment(ctx, "imp_000000000000", iamport.Expectation{MerchantUID: "order_k"})
	assert.ErrorIs(t, err, iamport.ErrNotFound)
	assert.NotErrorIs(t, err, iamport.ErrVerificationFailed)
}

// ckMock is a client on an httpmock transport that answers getToken.
func ckMock(t *testing.T) (*iamport.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, "https://api.iamport.kr/users/getToken", func(*http.Request) (*http.Response, error) {
		now := time.Now().Unix()
		return ckEnvelope(http.StatusOK, map[string]any{"access_token": "tok", "now": now, "expired_at": now + 1800}), nil
	})
	c, err := iamport.NewClient("key", "secret", iamport.WithHTTPClient(&http.Client{Transport: mt}),
		iamport.WithRetryPolicy(iamport.RetryPolicy{MaxAttempts: 1, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}))
	require.NoError(t, err)
	return c, mt
}

func ckEnvelope(status int, response any) *http.Response {
	b, _ := json.Marshal(map[string]any{"code": 0, "message": nil, "response": response})
	r := httpmock.NewBytesResponse(status, b)
	r.Header.Set("Content-Type", "application/json")
	return r
}

func ckPayment(impUID, merchantUID, customerUID string, amount any, currency, status string) map[string]any {
	return map[string]any{
		"imp_uid": impUID, "merchant_uid": merchantUID, "customer_uid": customerUID, "amount": amount,
		"cancel_amount": 0, "currency": currency, "status": status, "pay_method": "card", "pg_provider": "jtnet",
		"card_number": "4092-02**-****-5678", "card_type": nil, "started_at": 1700000000, "paid_at": 0,
		"failed_at": 0, "cancelled_at": 0, "cancel_history": []any{},
	}
}

func TestVerifyPaymentAgainstOddAnswers(t *testing.T) {
	t.Parallel()
	c, mt := ckMock(t)
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/payments/imp_ready",
		httpmock.ResponderFromResponse(ckEnvelope(200, ckPayment("imp_ready", "m1", "c1", 1004, "KRW", "ready"))))
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/payments/imp_cancelled",
		httpmock.ResponderFromResponse(ckEnvelope(200, ckPayment("imp_cancelled", "m1", "c1", 1004, "KRW", "cancelled"))))
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/payments/imp_asked",
		httpmock.ResponderFromResponse(ckEnvelope(200, ckPayment("imp_other", "m1", "c1", 1004, "KRW", "paid"))))
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/payments/imp_usd",
		httpmock.ResponderFromResponse(ckEnvelope(200, ckPayment("imp_usd", "m1", "c1", json.Number("10.04"), "USD", "paid"))))
	ctx := context.Background()
	want := iamport.Expectation{MerchantUID: "m1", Amount: 1004, CustomerUID: "c1"}

	p, err := c.VerifyPayment(ctx, "imp_ready", want)
	ckVerification(t, err, "status", "paid", "ready")
	require.NotNil(t, p)
	_, err = c.VerifyPayment(ctx, "imp_cancelled", want)
	ckVerification(t, err, "status", "paid", "cancelled")
	_, err = c.VerifyPayment(ctx, "imp_asked", want)
	ckVerification(t, err, "imp_uid", "imp_asked", "imp_other")

	// USD: minor units (cents), shown in the currency's major unit.
	p, err = c.VerifyPayment(ctx, "imp_usd", iamport.Expectation{MerchantUID: "m1", Amount: 1004, Currency: "USD"})
	require.NoError(t, err)
	assert.Equal(t, int64(1004), p.Amount)
	_, err = c.VerifyPayment(ctx, "imp_usd", iamport.Expectation{MerchantUID: "m1", Amount: 1000, Currency: "USD"})
	ckVerification(t, err, "amount", "10", "10.04")
	_, err = c.VerifyPayment(ctx, "imp_usd", iamport.Expectation{MerchantUID: "m1", Amount: 1004})
	ckVerification(t, err, "currency", "KRW", "USD")
}

func TestVerifyBillingKeyOtherCustomer(t *testing.T) {
	t.Parallel()
	c, mt := ckMock(t)
	mt.RegisterResponder(http.MethodGet, "https://api.iamport.kr/subscribe/customers/cust_a",
		httpmock.ResponderFromResponse(ckEnvelope(200, map[string]any{"customer_uid": "cust_b", "pg_provider": "jtnet", "card_type": nil, "inserted": 1700000000, "updated": 0})))
	k, err := c.VerifyBillingKey(context.Background(), "cust_a")
	ckVerification(t, err, "customer_uid", "cust_a", "cust_b")
	require.NotNil(t, k)
}

func TestVerifyValidatesBeforeSending(t *testing.T) {
	t.Parallel()
	c, mt := ckMock(t)
	ctx := context.Background()
	ok := iamport.Expectation{MerchantUID: "m1", Amount: 1004}
	cases := []struct {
		name, imp string
		want      iamport.Expectation
		field     string
	}{
		{"empty imp_uid", "", ok, "imp_uid"},
		{"empty merchant_uid", "imp_1", iamport.Expectation{Amount: 1}, "merchant_uid"},
		{"long merchant_uid", "imp_1", iamport.Expectation{MerchantUID: strings.Repeat("m", 41)}, "merchant_uid"},
		{"negative amount", "imp_1", iamport.Expectation{MerchantUID: "m1", Amount: -1}, "amount"},
		{"bad currency", "imp_1", iamport.Expectation{MerchantUID: "m1", Amount: 1, Currency: "WON!"}, "currency"},
		{"long customer_uid", "imp_1", iamport.Expectation{MerchantUID: "m1", CustomerUID: strings.Repeat("c", 81)}, "customer_uid"},
	}
	for _, tc := range cases {
		_, err := c.VerifyPayment(ctx, tc.imp, tc.want)
		var ve *iamport.ValidationError
		require.ErrorAs(t, err, &ve, tc.name)
		assert.Equal(t, tc.field, ve.Field, tc.name)
		assert.ErrorIs(t, err, iamport.ErrInvalidRequest, tc.name)
	}
	_, err := c.VerifyBillingKey(ctx, "")
	assert.ErrorIs(t, err, iamport.ErrInvalidRequest)
	assert.Zero(t, mt.GetTotalCallCount(), "nothing may be sent for bad input, not even getToken")
}

func TestVerificationErrorText(t *testing.T) {
	t.Parallel()
	err := error(&iamport.VerificationError{Field: "amount", Want: "1004", Got: "100"})
	assert.Equal(t, `iamport: verification failed: amount: want "1004", got "100"`, err.Error())
	assert.True(t, errors.Is(err, iamport.ErrVerificationFailed))
}

func TestParseRedirect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		query string
		want  *iamport.RedirectResult
		field string // the *ValidationError's field when an error is expected
	}{
		{"success", "imp_uid=imp_1&merchant_uid=m1&imp_success=true",
			&iamport.RedirectResult{ImpUID: "imp_1", MerchantUID: "m1", Success: true}, ""},
		{"success flag of other PGs", "imp_uid=imp_1&merchant_uid=m1&success=true",
			&iamport.RedirectResult{ImpUID: "imp_1", MerchantUID: "m1", Success: true}, ""},
		{"flag in capitals", "imp_uid=imp_1&merchant_uid=m1&imp_success=TRUE",
			&iamport.RedirectResult{ImpUID: "imp_1", MerchantUID: "m1", Success: true}, ""},
		{"both flags agree", "imp_uid=imp_1&merchant_uid=m1&imp_success=false&success=false",
			&iamport.RedirectResult{ImpUID: "imp_1", MerchantUID: "m1"}, ""},
		{"failure with message", "imp_uid=imp_1&merchant_uid=m1&imp_success=false&error_code=F1002&error_msg=" + url.QueryEscape("사용자가 결제를 취소하셨습니다"),
			&iamport.RedirectResult{ImpUID: "imp_1", MerchantUID: "m1", ErrorCode: "F1002", ErrorMsg: "사용자가 결제를 취소하셨습니다"}, ""},
		{"failure without imp_uid", "merchant_uid=m1&imp_success=false&error_msg=x",
			&iamport.RedirectResult{MerchantUID: "m1", ErrorMsg: "x"}, ""},
		{"same value twice", "imp_uid=imp_1&imp_uid=imp_1&merchant_uid=m1&imp_success=true",
			&iamport.RedirectResult{ImpUID: "imp_1", MerchantUID: "m1", Success: true}, ""},
		{"control characters cleaned", "merchant_uid=m1&imp_success=false&error_msg=a%0Ab%00c",
			&iamport.RedirectResult{MerchantUID: "m1", ErrorMsg: "a b c"}, ""},

		{"missing merchant_uid", "imp_uid=imp_1&imp_success=true", nil, "merchant_uid"},
		{"empty merchant_uid", "imp_uid=imp_1&merchant_uid=&imp_success=true", nil, "merchant_uid"},
		{"merchant_uid too long", "imp_uid=imp_1&imp_success=true&merchant_uid=" + strings.Repeat("m", 41), nil, "merchant_uid"},
		{"success without imp_uid", "merchant_uid=m1&imp_success=true", nil, "imp_uid"},
		{"missing flag", "imp_uid=imp_1&merchant_uid=m1", nil, "imp_success"},
		{"flag yes", "imp_uid=imp_1&merchant_uid=m1&imp_success=yes", nil, "imp_success"},
		{"flag 1", "imp_uid=imp_1&merchant_uid=m1&success=1", nil, "success"},
		{"flag empty", "imp_uid=imp_1&merchant_uid=m1&imp_success=", nil, "imp_success"},
		{"flags disagree", "imp_uid=imp_1&merchant_uid=m1&imp_success=true&success=false", nil, "success"},
		{"flag twice, different", "imp_uid=imp_1&merchant_uid=m1&imp_success=true&imp_success=false", nil, "imp_success"},
		{"merchant_uid twice, different", "imp_uid=imp_1&merchant_uid=m1&merchant_uid=m2&imp_success=true", nil, "merchant_uid"},
		{"imp_uid with a newline", "imp_uid=imp%0A1&merchant_uid=m1&imp_success=true", nil, "imp_uid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			got, err := iamport.ParseRedirect(q)
			if tc.want != nil {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			require.Error(t, err)
			assert.Nil(t, got)
			var ve *iamport.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.ErrorIs(t, err, iamport.ErrInvalidRequest)
		})
	}
}

func FuzzParseRedirect(f *testing.F) {
	for _, s := range []string{
		"imp_uid=imp_1&merchant_uid=m1&imp_success=true",
		"merchant_uid=m1&success=false&error_code=F1002&error_msg=%EC%82%AC",
		"imp_uid=imp_1&merchant_uid=m1&imp_success=true&success=false",
		"merchant_uid=%FF&imp_success=false&error_msg=%FF%00",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, err := iamport.ParseRedirect(q)
		if err != nil {
			if r != nil {
				t.Fatalf("result %+v with error %v", r, err)
			}
			if !errors.Is(err, iamport.ErrInvalidRequest) {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		if r.MerchantUID == "" || q.Get("merchant_uid") != r.MerchantUID {
			t.Fatalf("merchant_uid %q from %q", r.MerchantUID, raw)
		}
		if r.Success && r.ImpUID == "" {
			t.Fatalf("success without imp_uid from %q", raw)
		}
		flag := q.Get("imp_success")
		if _, ok := q["imp_success"]; !ok {
			flag = q.Get("success")
		}
		if r.Success != strings.EqualFold(flag, "true") {
			t.Fatalf("success %v from flag %q", r.Success, flag)
		}
		for _, s := range []string{r.ImpUID, r.MerchantUID, r.ErrorCode, r.ErrorMsg} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\n\r") {
				t.Fatalf("unclean field %q", s)
			}
		}
	})
}
