package iamport_test

import (
	"context"
	"errors"
	"fmt"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// Charge a billing key, and tell the four outcomes apart.
func ExampleClient_AgainPayment() {
	srv := iamporttest.NewServer() // a fake Iamport on loopback
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_0001", "4092-0230-1234-5678")
	client := srv.Client() // in production: iamport.NewClient(key, secret)

	p, err := client.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{
		CustomerUID: "cust_0001",
		MerchantUID: "sub_cust_0001_2026-11", // one per customer and period
		Amount:      9900,
		Name:        "월간 구독",
	})
	var declined *iamport.PaymentFailedError
	switch {
	case err == nil:
		fmt.Println("paid", p.Amount, p.Status)
	case errors.As(err, &declined):
		fmt.Println("declined:", declined.Payment.FailReason)
	case errors.Is(err, iamport.ErrNotCharged):
		fmt.Println("not charged; retry with the same merchant_uid")
	case errors.Is(err, iamport.ErrOutcomeUnknown):
		fmt.Println("unknown; retry with the same merchant_uid to learn it")
	default:
		fmt.Println("refused:", err)
	}
	// Output: paid 9900 paid
}

// A declined card is an error, never a payment.
func ExampleClient_AgainPayment_declined() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_0002", "5412-3456-7890-1234")
	srv.DeclineCustomer("cust_0002", "잔액부족")
	client := srv.Client()

	_, err := client.AgainPayment(context.Background(), &iamport.AgainPaymentRequest{
		CustomerUID: "cust_0002", MerchantUID: "sub_cust_0002_2026-11", Amount: 9900, Name: "월간 구독",
	})
	var declined *iamport.PaymentFailedError
	if errors.As(err, &declined) {
		fmt.Println(declined.Payment.Status, declined.Payment.FailReason)
	}
	// Output: failed 잔액부족
}

// Re-running a charge that is already paid returns the first payment: a
// cron job can be re-run safely.
func ExampleClient_AgainPayment_rerun() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_0003", "4092-0230-1234-5678")
	client := srv.Client()
	req := &iamport.AgainPaymentRequest{CustomerUID: "cust_0003", MerchantUID: "sub_cust_0003_2026-11", Amount: 4900, Name: "월간 구독"}

	first, _ := client.AgainPayment(context.Background(), req)
	second, _ := client.AgainPayment(context.Background(), req)
	fmt.Println(first.ImpUID == second.ImpUID, srv.Charges(req.MerchantUID))
	// Output: true 1
}

// Look a billing key up; an unknown one is ErrNotFound.
func ExampleClient_GetBillingKey() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_0004", "4092-0230-1234-5678")
	client := srv.Client()

	key, err := client.GetBillingKey(context.Background(), "cust_0004")
	fmt.Println(key.CustomerUID, key.PGProvider, err)
	_, err = client.GetBillingKey(context.Background(), "cust_9999")
	fmt.Println(errors.Is(err, iamport.ErrNotFound))
	// Output:
	// cust_0004 jtnet <nil>
	// true
}
