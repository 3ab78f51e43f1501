package iamporttest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// A card that declines: the charge is a *PaymentFailedError, never a payment.
func ExampleServer_DeclineCustomer() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_1", iamporttest.DefaultCardNumber)
	srv.DeclineCustomer("cust_1", "잔액부족")

	_, err := srv.Client().AgainPayment(context.Background(), &iamport.AgainPaymentRequest{
		CustomerUID: "cust_1", MerchantUID: "sub_cust_1_2026-11", Amount: 9900, Name: "월간 구독",
	})
	var declined *iamport.PaymentFailedError
	fmt.Println(errors.As(err, &declined), declined.Payment.FailReason, srv.Charges("sub_cust_1_2026-11"))
	// Output: true 잔액부족 0
}

// Faults at a chosen point of a charge. The client from srv.Client settles
// on the fake's clock, so the settle window passes in milliseconds.
func ExampleServer_InjectFault() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_1", iamporttest.DefaultCardNumber)
	client := srv.Client()
	ctx := context.Background()
	charge := func(merchantUID string) (*iamport.Payment, error) {
		return client.AgainPayment(ctx, &iamport.AgainPaymentRequest{
			CustomerUID: "cust_1", MerchantUID: merchantUID, Amount: 9900, Name: "월간 구독",
		})
	}

	// Charged, then the reply is lost: the SDK looks the payment up.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: iamporttest.RouteAgain})
	p, err := charge("sub_a")
	fmt.Println(p.Status, err, srv.Charges("sub_a"))

	// A 500 before anything was committed: not charged.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: iamporttest.RouteAgain})
	_, err = charge("sub_b")
	fmt.Println(errors.Is(err, iamport.ErrNotCharged), srv.Charges("sub_b"))

	// The card company takes an hour; the client's attempt gives up after
	// 50ms and its settle window (1s) passes with the payment still "ready".
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultSlowPG, Route: iamporttest.RouteAgain, Delay: time.Hour})
	impatient := srv.Client(iamport.WithTimeout(50*time.Millisecond), iamport.WithSettleWindow(time.Second))
	_, err = impatient.AgainPayment(ctx, &iamport.AgainPaymentRequest{
		CustomerUID: "cust_1", MerchantUID: "sub_c", Amount: 9900, Name: "월간 구독",
	})
	var oe *iamport.OutcomeError
	fmt.Println(errors.Is(err, iamport.ErrOutcomeUnknown), errors.As(err, &oe) && oe.MerchantUID == "sub_c")
	// Output:
	// paid <nil> 1
	// true 0
	// true true
}
