package iamport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func issueReq() *IssueBillingKeyRequest {
	return &IssueBillingKeyRequest{
		CustomerUID: "cust/1 kim", CardNumber: "4092023012345678", Expiry: "2028-12", Birth: "880101", Pwd2Digit: "12",
		PG: "jtnet.tpaytest0m", CustomerName: "홍길동", CustomerTel: "010-1234-5678", CustomerEmail: "gildong@example.com",
	}
}

func TestIssueBillingKeyRequestShape(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		return ok200(testdataResponse(t, "billing_key.json"))
	})
	k, err := c.IssueBillingKey(context.Background(), issueReq())
	require.NoError(t, err)
	assert.Equal(t, "cust/1", k.CustomerUID)
	reqs := log.all()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/subscribe/customers/cust%2F1%20kim", r.Path)
	assert.Equal(t, "Bearer "+testToken, r.Auth)
	assert.Equal(t, "application/json", r.CT)
	assert.Equal(t, map[string]any{
		"card_number": "4092-0230-1234-5678", "expiry": "2028-12", "birth": "880101", "pwd_2digit": "12",
		"pg": "jtnet.tpaytest0m", "customer_name": "홍길동", "customer_tel": "010-1234-5678", "customer_email": "gildong@example.com",
	}, r.json(t))
}

func TestIssueBillingKeyValidationNeverLeaksCardData(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response { return ok200(nil) })
	cases := map[string]func(r *IssueBillingKeyRequest){
		"customer_uid": func(r *IssueBillingKeyRequest) { r.CustomerUID = "" },
		"card_number":  func(r *IssueBillingKeyRequest) { r.CardNumber = "4092-0230-1234-567X" },
		"expiry":       func(r *IssueBillingKeyRequest) { r.Expiry = "12/28" },
		"birth":        func(r *IssueBillingKeyRequest) { r.Birth = "8801011" },
		"pwd_2digit":   func(r *IssueBillingKeyRequest) { r.Pwd2Digit = "123" },
		"cvc":          func(r *IssueBillingKeyRequest) { r.CVC = "12" },
		"customer_tel": func(r *IssueBillingKeyRequest) { r.CustomerTel = "010-1234-5678-9999-0000" },
	}
	for field, mutate := range cases {
		r := issueReq()
		mutate(r)
		_, err := c.IssueBillingKey(context.Background(), r)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, field)
		assert.Equal(t, field, ve.Field)
		for _, secret := range []string{"4092023012345678", "4092-0230-1234-567", "880101", "2028-12", "12/28"} {
			assert.NotContains(t, err.Error(), secret)
		}
	}
	_, err := c.IssueBillingKey(context.Background(), nil)
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, 0, log.count())
}

func TestIssueBillingKeyRefusedCard(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		return envelopeReply(http.StatusOK, -1, "카드정보 인증에 실패하였습니다.", nil)
	})
	_, err := c.IssueBillingKey(context.Background(), issueReq())
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, -1, ae.Code)
	assert.Equal(t, 1, log.count())

	// Not resent after a 5xx: each attempt is a card authorisation.
	c, log = routedClient(t, func(r seenRequest) *http.Response { return envelopeReply(http.StatusBadGateway, -1, "", nil) })
	_, err = c.IssueBillingKey(context.Background(), issueReq())
	require.Error(t, err)
	assert.Equal(t, 1, log.count())
}

func TestCardRequestsAreMasked(t *testing.T) {
	t.Parallel()
	// Values that cannot occur by chance in the output (no time attribute,
	// no digits elsewhere that could form them).
	const card, first6, last4 = "5409-2638-1052-7716", "540926", "7716"
	ik := IssueBillingKeyRequest{CustomerUID: "cust/1 kim", CardNumber: card, Expiry: "2089-06", Birth: "830512", Pwd2Digit: "47", CVC: "913"}
	ot := OnetimePaymentRequest{MerchantUID: "m_one", Amount: 1000, CardNumber: card, Expiry: "2089-06",
		Birth: "830512", Pwd2Digit: "47", CVC: "913", CustomerUID: "cust_one"}
	secrets := []string{"5409263810527716", "5409-2638", "2638-1052", "381052", "1052", "2089", "830512", "47", "913"}
	noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	for _, v := range []any{ik, &ik, ot, &ot} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				assert.NotContains(t, out, s, "%s of %T", verb, v)
			}
		}
		assert.Contains(t, fmt.Sprint(v), first6+"******"+last4, "masked as Iamport masks")
		var buf bytes.Buffer
		l := slog.New(slog.NewJSONHandler(&buf, noTime))
		l.Info("charging", "req", v, "reqs", []any{v})
		js, err := json.Marshal(v)
		require.NoError(t, err)
		for _, out := range []string{buf.String(), string(js)} {
			for _, s := range secrets {
				assert.NotContains(t, out, s)
			}
			assert.Contains(t, out, first6+"******"+last4)
			assert.Contains(t, out, `"expiry":"[redacted]"`)
		}
	}
	assert.Contains(t, ot.String(), `MerchantUID: "m_one"`)
	assert.Contains(t, ik.String(), `CustomerUID: "cust/1 kim"`)
}

func TestBillingKeyDecodingFromTestdata(t *testing.T) {
	t.Parallel()
	c, _ := routedClient(t, func(r seenRequest) *http.Response { return ok200(testdataResponse(t, "billing_key.json")) })
	k, err := c.GetBillingKey(context.Background(), "cust/1")
	require.NoError(t, err)
	assert.Equal(t, BillingKey{
		CustomerUID: "cust/1", PGProvider: "jtnet", PGID: "tpaytest0m", Sandbox: true, CustomerID: "user-42",
		CardName: "신한카드", CardCode: "366", CardIssuerCode: "366", CardIssuerName: "신한카드",
		CardPublisherCode: "366", CardPublisherName: "신한카드", CardNumber: "409202******5678", CardType: nil,
		CustomerName: "홍길동", CustomerTel: "010-1234-5678", CustomerEmail: "gildong@example.com",
		CustomerAddr: "서울특별시 강남구", CustomerPostcode: "06236",
		Inserted: time.Unix(1714532400, 0), Updated: time.Unix(1714618800, 0),
	}, *k)
}

func TestGetBillingKeys(t *testing.T) {
	t.Parallel()
	known := map[string]bool{"c_1": true, "c/3": true}
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		ids := r.Query["customer_uid[]"]
		var found []any
		for _, id := range ids {
			if known[id] {
				found = append(found, map[string]any{"customer_uid": id, "pg_provider": "jtnet", "card_type": nil, "inserted": 1, "updated": 0})
			}
		}
		switch {
		case len(found) == 0:
			return envelopeReply(http.StatusNotFound, -1, "요청하신 customer_uid 로 등록된 정보를 찾을 수 없습니다.", nil)
		case len(found) < len(ids):
			return envelopeReply(http.StatusMultiStatus, 0, "", found)
		}
		return ok200(found)
	})
	ks, err := c.GetBillingKeys(context.Background(), []string{"c/3", "c_2", "c_1"})
	require.NoError(t, err)
	require.Len(t, ks, 2)
	assert.Equal(t, "c/3", ks[0].CustomerUID, "input order is kept")
	assert.Equal(t, "c_1", ks[1].CustomerUID)
	reqs := log.all()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/subscribe/customers", reqs[0].Path)
	assert.Equal(t, []string{"c/3", "c_2", "c_1"}, reqs[0].Query["customer_uid[]"])
	assert.Equal(t, "Bearer "+testToken, reqs[0].Auth)

	ks, err = c.GetBillingKeys(context.Background(), []string{"gone"})
	require.NoError(t, err, "404 with none found is not an error")
	assert.NotNil(t, ks)
	assert.Empty(t, ks)

	var many []string
	for i := range 201 {
		many = append(many, "x_"+strconv.Itoa(i))
	}
	_, err = c.GetBillingKeys(context.Background(), many)
	require.NoError(t, err)
	assert.Equal(t, 2+3, log.count(), "201 ids: three requests")
}

func TestDeleteBillingKey(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Path == "/subscribe/customers/gone" {
			return envelopeReply(http.StatusNotFound, -1, "요청하신 customer_uid(gone)로 등록된 정보를 찾을 수 없습니다.", nil)
		}
		return ok200(testdataResponse(t, "billing_key.json"))
	})
	k, err := c.DeleteBillingKey(context.Background(), "cust/1", "해지 요청 & 환불")
	require.NoError(t, err)
	assert.Equal(t, "cust/1", k.CustomerUID)
	r := log.all()[0]
	assert.Equal(t, http.MethodDelete, r.Method)
	assert.Equal(t, "/subscribe/customers/cust%2F1", r.Path)
	assert.Equal(t, "해지 요청 & 환불", r.Query.Get("reason"))
	assert.Equal(t, "admin", r.Query.Get("extra[requester]"))
	assert.Empty(t, r.Body, "no body: reason and requester are query parameters")

	_, err = c.DeleteBillingKeyAs(context.Background(), "cust_2", "", RequesterCustomer)
	require.NoError(t, err)
	r = log.all()[1]
	assert.Equal(t, "customer", r.Query.Get("extra[requester]"))
	assert.False(t, r.Query.Has("reason"))

	_, err = c.DeleteBillingKey(context.Background(), "gone", "")
	require.ErrorIs(t, err, ErrNotFound)

	_, err = c.DeleteBillingKeyAs(context.Background(), "cust_2", "", "someone")
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, 3, log.count())
}

func TestDeleteBillingKeyResentAfter5xx(t *testing.T) {
	t.Parallel()
	calls := 0
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		calls++
		if calls == 1 {
			return envelopeReply(http.StatusServiceUnavailable, -1, "", nil)
		}
		return ok200(testdataResponse(t, "billing_key.json"))
	})
	_, err := c.DeleteBillingKey(context.Background(), "cust/1", "")
	require.NoError(t, err)
	assert.Equal(t, 2, log.count())
}

func TestBillingKeyPaymentsPages(t *testing.T) {
	t.Parallel()
	serve := servePayments(45, 20, "imp_")
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Path == "/subscribe/customers/nobody/payments" {
			return envelopeReply(http.StatusNotFound, -1, "요청하신 customer_uid(nobody)로 등록된 정보를 찾을 수 없습니다.", nil)
		}
		return serve(pageOf(t, r))
	})
	var ids []string
	for p, err := range c.BillingKeyPayments(context.Background(), "cust/1") {
		require.NoError(t, err)
		ids = append(ids, p.ImpUID)
	}
	assert.Len(t, ids, 45)
	assert.Equal(t, "imp_00044", ids[44])
	reqs := log.all()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		assert.Equal(t, "/subscribe/customers/cust%2F1/payments", r.Path)
		assert.Equal(t, strconv.Itoa(i+1), r.Query.Get("page"))
	}

	n := 0
	for _, err := range c.BillingKeyPayments(context.Background(), "nobody") {
		n++
		require.ErrorIs(t, err, ErrNotFound)
	}
	assert.Equal(t, 1, n)
}

func TestBillingKeyJSONRoundTrip(t *testing.T) {
	t.Parallel()
	raw := testdataResponse(t, "billing_key.json")
	var k BillingKey
	require.NoError(t, json.Unmarshal(raw, &k))
	b, err := json.Marshal(k)
	require.NoError(t, err)
	var back BillingKey
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, k, back)
}

func TestBillingKeyNotFoundIn200(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		return envelopeReply(http.StatusOK, 1, "요청하신 customer_uid(c_9)로 등록된 정보를 찾을 수 없습니다.", nil)
	})
	_, err := c.DeleteBillingKey(context.Background(), "c_9", "")
	require.ErrorIs(t, err, ErrNotFound)
	ks, err := c.GetBillingKeys(context.Background(), []string{"c_9"})
	require.NoError(t, err, "the HTTP 200 form of none found")
	assert.Empty(t, ks)
	assert.Equal(t, 2, log.count())

	c, _ = routedClient(t, func(r seenRequest) *http.Response {
		return envelopeReply(http.StatusOK, -1, "잘못된 요청입니다.", nil)
	})
	_, err = c.GetBillingKeys(context.Background(), []string{"c_9"})
	var ae *APIError
	require.ErrorAs(t, err, &ae, "another refusal is not mistaken for none found")
	assert.NotErrorIs(t, err, ErrNotFound)
}
