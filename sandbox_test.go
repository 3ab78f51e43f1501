package iamport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sandboxPayment makes a paid sandbox payment in the fake: the payment
// window on its test channel (a key and a first charge of 1,000).
func sandboxPayment(t *testing.T, srv *iamporttest.Server, merchantUID, customerUID string) string {
	t.Helper()
	res := srv.RequestPay(iamporttest.WindowRequest{MerchantUID: merchantUID, CustomerUID: customerUID, Amount: 1000, Name: "test plan", ChannelKey: iamporttest.SandboxChannelKey})
	require.True(t, res.Success, res.ErrorMsg)
	p, ok := srv.Payment(res.ImpUID)
	require.True(t, ok)
	require.True(t, p.Sandbox, "a payment on the test channel is a sandbox payment")
	return res.ImpUID
}

func TestSandboxLookupsNeedWithSandbox(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	imp := sandboxPayment(t, srv, "m_sb_1", "cust_sb")
	ctx := context.Background()

	plain := srv.Client()
	_, err := plain.GetPayment(ctx, imp)
	assert.ErrorIs(t, err, iamport.ErrNotFound, "without include_sandbox the API answers 404")
	_, err = plain.FindPayment(ctx, "m_sb_1")
	assert.ErrorIs(t, err, iamport.ErrNotFound)
	got, err := plain.GetPayments(ctx, []string{imp})
	require.NoError(t, err)
	assert.Empty(t, got)
	for r, err := range plain.FindPayments(ctx, "m_sb_1") {
		t.Fatalf("FindPayments without WithSandbox yielded %v, %v", r, err)
	}
	for route, rec := range lastOf(srv, iamporttest.RouteGetPayment, iamporttest.RouteFind, iamporttest.RouteGetPayments, iamporttest.RouteFindAll) {
		assert.Empty(t, rec.Query.Get("include_sandbox"), route)
	}

	sb := srv.Client(iamport.WithSandbox())
	p, err := sb.GetPayment(ctx, imp)
	require.NoError(t, err)
	assert.True(t, p.Sandbox)
	assert.Equal(t, iamport.PaymentPaid, p.Status)
	p, err = sb.FindPayment(ctx, "m_sb_1")
	require.NoError(t, err)
	assert.Equal(t, imp, p.ImpUID)
	p, err = sb.FindPaymentWith(ctx, "m_sb_1", &iamport.FindPaymentOptions{Status: iamport.PaymentPaid, Sorting: "-paid"})
	require.NoError(t, err)
	assert.Equal(t, imp, p.ImpUID)
	got, err = sb.GetPayments(ctx, []string{imp})
	require.NoError(t, err)
	require.Len(t, got, 1)
	got, err = sb.GetPaymentsByMerchantUID(ctx, []string{"m_sb_1"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	n := 0
	for p, err := range sb.FindPayments(ctx, "m_sb_1") {
		require.NoError(t, err)
		assert.True(t, p.Sandbox)
		n++
	}
	assert.Equal(t, 1, n)
	for route, rec := range lastOf(srv, iamporttest.RouteGetPayment, iamporttest.RouteFind, iamporttest.RouteFindStatus, iamporttest.RouteGetPayments, iamporttest.RouteFindAll) {
		assert.Equal(t, "true", rec.Query.Get("include_sandbox"), route)
	}
}

// lastOf is the latest request the fake received on each route.
func lastOf(srv *iamporttest.Server, routes ...string) map[string]iamporttest.Received {
	out := map[string]iamporttest.Received{}
	for _, r := range routes {
		if rec, ok := srv.LastReceived(r); ok {
			out[r] = rec
		}
	}
	return out
}

func TestVerifyPaymentSandbox(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	imp := sandboxPayment(t, srv, "m_sb_v", "cust_sb_v")
	want := iamport.Expectation{MerchantUID: "m_sb_v", Amount: 1000, CustomerUID: "cust_sb_v"}
	ctx := context.Background()

	p, err := srv.Client().VerifyPayment(ctx, imp, want)
	var ve *iamport.VerificationError
	require.ErrorAs(t, err, &ve, "a test payment is never verified as paid without WithSandbox")
	assert.Equal(t, "sandbox", ve.Field)
	assert.ErrorIs(t, err, iamport.ErrVerificationFailed)
	require.NotNil(t, p)
	assert.True(t, p.Sandbox)

	p, err = srv.Client(iamport.WithSandbox()).VerifyPayment(ctx, imp, want)
	require.NoError(t, err)
	assert.True(t, p.IsPaid())

	// A live payment verifies either way.
	res := srv.RequestPay(iamporttest.WindowRequest{MerchantUID: "m_live_v", CustomerUID: "cust_live_v", Amount: 1000})
	require.True(t, res.Success)
	_, err = srv.Client().VerifyPayment(ctx, res.ImpUID, iamport.Expectation{MerchantUID: "m_live_v", Amount: 1000})
	require.NoError(t, err)
}

// TestVerifyPaymentSandboxOnWire: a server that shows the sandbox payment
// whatever the query (as an older API did) still gets it refused.
func TestVerifyPaymentSandboxOnWire(t *testing.T) {
	var queries []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/users/getToken" {
			_, _ = w.Write([]byte(`{"code":0,"message":null,"response":{"access_token":"t","now":1700000000,"expired_at":1700001800}}`))
			return
		}
		queries = append(queries, r.URL.RawQuery)
		_, _ = w.Write([]byte(`{"code":0,"message":null,"response":{"imp_uid":"imp_1","merchant_uid":"m_1","amount":500,"currency":"KRW","status":"paid","sandbox":true}}`))
	}))
	t.Cleanup(ts.Close)
	c, err := iamport.NewClient("k", "s", iamport.WithBaseURL(ts.URL))
	require.NoError(t, err)
	_, err = c.VerifyPayment(context.Background(), "imp_1", iamport.Expectation{MerchantUID: "m_1", Amount: 500})
	var ve *iamport.VerificationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "sandbox", ve.Field)
	require.Len(t, queries, 1)
	assert.Equal(t, "include_sandbox=true", queries[0], "verification asks for sandbox payments, to recognise them")
}

func TestWebhookHandlerSandbox(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	imp := sandboxPayment(t, srv, "m_sb_w", "cust_sb_w")
	body := `{"imp_uid":"` + imp + `","merchant_uid":"m_sb_w","status":"paid"}`

	for _, tc := range []struct {
		name   string
		opts   []iamport.Option
		status int
		calls  int64
	}{
		{"without WithSandbox", nil, http.StatusBadRequest, 0},
		{"WithSandbox", []iamport.Option{iamport.WithSandbox()}, http.StatusOK, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			h := srv.Client(tc.opts...).WebhookHandler(func(ctx context.Context, ev *iamport.WebhookEvent, p *iamport.Payment) error {
				calls.Add(1)
				return nil
			})
			rr := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(rr, req)
			assert.Equal(t, tc.status, rr.Code, rr.Body.String())
			assert.Equal(t, tc.calls, calls.Load())
		})
	}
}

// TestSandboxChargeSettles: with WithSandbox the money engine's settle
// lookups see a sandbox charge whose reply was lost.
func TestSandboxChargeSettles(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	sandboxPayment(t, srv, "m_sb_first", "cust_sb_c")
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: iamporttest.RouteAgain, Times: 1})
	c := srv.Client(iamport.WithSandbox())
	p, err := c.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{CustomerUID: "cust_sb_c", MerchantUID: "m_sb_2", Amount: 2000})
	require.NoError(t, err)
	assert.True(t, p.IsPaid())
	assert.True(t, p.Sandbox)
	assert.Equal(t, 1, srv.Charges("m_sb_2"))
	rec, ok := srv.LastReceived(iamporttest.RouteFind)
	require.True(t, ok, "the engine looked the charge up")
	assert.Equal(t, "true", rec.Query.Get("include_sandbox"))
}

func TestVerifyBillingKeySandbox(t *testing.T) {
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	res := srv.RequestPay(iamporttest.WindowRequest{MerchantUID: "m_sb_key", CustomerUID: "cust_sb_key", Amount: 0, ChannelKey: iamporttest.SandboxChannelKey})
	require.True(t, res.Success, res.ErrorMsg)
	ctx := context.Background()
	k, err := srv.Client().VerifyBillingKey(ctx, "cust_sb_key")
	var ve *iamport.VerificationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "sandbox", ve.Field)
	require.NotNil(t, k)
	assert.True(t, k.Sandbox)
	k, err = srv.Client(iamport.WithSandbox()).VerifyBillingKey(ctx, "cust_sb_key")
	require.NoError(t, err)
	assert.True(t, k.Sandbox)
	require.NoError(t, srv.RegisterBillingKey("cust_live_key", iamporttest.DefaultCardNumber))
	_, err = srv.Client().VerifyBillingKey(ctx, "cust_live_key")
	require.NoError(t, err)
}
