package iamport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// Verify a payment made in the payment window against the order in your own
// database, never against what the browser sent.
func ExampleClient_VerifyPayment() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	// The browser ran IMP.request_pay for the order; the fake stands in.
	res := srv.RequestPay(iamporttest.WindowRequest{
		MerchantUID: "order_2001", CustomerUID: "cust_2001", Amount: 9900, Name: "월간 구독",
	})

	order := iamport.Expectation{MerchantUID: "order_2001", Amount: 9900, CustomerUID: "cust_2001"} // from your DB
	p, err := client.VerifyPayment(ctx, res.ImpUID, order)
	fmt.Println(p.Status, p.Amount, err)

	// A tampered browser paid 100 for a 9,900 order: caught.
	cheap := srv.RequestPay(iamporttest.WindowRequest{
		MerchantUID: "order_2002", CustomerUID: "cust_2002", Amount: 100, Name: "월간 구독",
	})
	_, err = client.VerifyPayment(ctx, cheap.ImpUID, iamport.Expectation{MerchantUID: "order_2002", Amount: 9900})
	var ve *iamport.VerificationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "want", ve.Want, "got", ve.Got)
	}
	// The amount-0 flow issues a billing key only: verify the key.
	key, err := client.VerifyBillingKey(ctx, "cust_2001")
	fmt.Println(key.CustomerUID, err)
	// Output:
	// paid 9900 <nil>
	// amount want 9900 got 100
	// cust_2001 <nil>
}

// ParseRedirect reads the query Iamport appends to m_redirect_url (mobile).
// It is only a hint: verify the payment (VerifyPayment) before trusting it.
func ExampleParseRedirect() {
	for _, raw := range []string{
		"imp_uid=imp_123456789012&merchant_uid=order_2001&imp_success=true",
		"merchant_uid=order_2002&imp_success=false&error_code=F1002&error_msg=" + url.QueryEscape("사용자가 결제를 취소하셨습니다"),
		"imp_uid=imp_123456789012&merchant_uid=order_2003&imp_success=maybe",
	} {
		q, _ := url.ParseQuery(raw)
		res, err := iamport.ParseRedirect(q)
		if err != nil {
			fmt.Println("bad redirect:", errors.Is(err, iamport.ErrInvalidRequest))
			continue
		}
		if res.Success {
			fmt.Println(res.MerchantUID, "paid in the window as", res.ImpUID)
		} else {
			fmt.Println(res.MerchantUID, "failed:", res.ErrorCode, res.ErrorMsg)
		}
	}
	// Output:
	// order_2001 paid in the window as imp_123456789012
	// order_2002 failed: F1002 사용자가 결제를 취소하셨습니다
	// bad redirect: true
}

// WebhookHandler re-fetches the payment by imp_uid and calls your func only
// with what Iamport says; a forged notification is answered 400 and never
// reaches it.
func ExampleClient_WebhookHandler() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	client := srv.Client()
	res := srv.RequestPay(iamporttest.WindowRequest{MerchantUID: "order_3001", CustomerUID: "cust_3001", Amount: 9900})

	h := client.WebhookHandler(func(ctx context.Context, ev *iamport.WebhookEvent, p *iamport.Payment) error {
		// Make this idempotent: Iamport may deliver the same event again.
		fmt.Println("fn:", ev.MerchantUID, ev.Status, p.Amount)
		return nil
	})
	deliver := func(body string) int {
		r := httptest.NewRequest(http.MethodPost, "/iamport/webhook", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println(deliver(`{"imp_uid":"` + res.ImpUID + `","merchant_uid":"order_3001","status":"paid"}`))
	fmt.Println(deliver(`{"imp_uid":"` + res.ImpUID + `","merchant_uid":"order_9999","status":"paid"}`)) // forged
	fmt.Println(deliver(`{"imp_uid":"imp_000000000000","merchant_uid":"order_3001","status":"paid"}`))   // unknown
	// Output:
	// fn: order_3001 paid 9900
	// 200
	// 400
	// 400
}
