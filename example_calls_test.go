package iamport_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// One Client per key pair, shared by every goroutine. NewClient sends
// nothing; it refuses a settle window that is not longer than the attempt
// timeout, and a Client never prints its secret.
func ExampleNewClient() {
	client, err := iamport.NewClient("imp_key", "imp_secret_do_not_print",
		iamport.WithTimeout(10*time.Second),      // each HTTP attempt (default 30 s)
		iamport.WithSettleWindow(20*time.Second), // how long a lost reply is looked up (default 45 s)
	)
	fmt.Println(err)
	fmt.Println(strings.Contains(fmt.Sprintf("%+v %#v", client, client), "imp_secret_do_not_print"))

	_, err = iamport.NewClient("imp_key", "imp_secret",
		iamport.WithTimeout(time.Minute), iamport.WithSettleWindow(30*time.Second))
	var ve *iamport.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field)
	// Output:
	// <nil>
	// false
	// true settle_window
}

// A key-in charge (POST /subscribe/payments/onetime) that also stores the
// card as a billing key. The request masks its card data in fmt, slog and
// JSON.
func ExampleClient_OnetimePayment() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	client := srv.Client() // in production: iamport.NewClient(key, secret)
	ctx := context.Background()

	req := &iamport.OnetimePaymentRequest{
		MerchantUID: "first_cust_0005_2026-11", // the idempotency key, as for AgainPayment
		Amount:      15000,
		Name:        "첫 달 구독",
		CardNumber:  "4092-0230-1234-5678",
		Expiry:      "2030-12",
		Birth:       "900101",
		Pwd2Digit:   "12",
		CustomerUID: "cust_0005", // store the card as this billing key
	}
	p, err := client.OnetimePayment(ctx, req)
	if err != nil {
		fmt.Println("not paid:", err) // the same four outcomes as AgainPayment
		return
	}
	fmt.Println(p.Status, p.Amount, p.CustomerUID)
	fmt.Println(strings.Contains(fmt.Sprint(req), "1234-5678"), strings.Contains(fmt.Sprint(req), "900101"))

	key, err := client.GetBillingKey(ctx, "cust_0005")
	fmt.Println(key.CardNumber, err)
	// Output:
	// paid 15000 cust_0005
	// false false
	// 4092-02**-****-5678 <nil>
}

// A partial refund with a checksum: the resend of the same request (after a
// lost reply, say) is refused by Iamport instead of refunding twice.
func ExampleClient_CancelPayment() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_0007", iamporttest.DefaultCardNumber)
	client := srv.Client()
	ctx := context.Background()
	p, _ := client.AgainPayment(ctx, &iamport.AgainPaymentRequest{
		CustomerUID: "cust_0007", MerchantUID: "sub_cust_0007_2026-11", Amount: 10000, Name: "월간 구독",
	})

	req := &iamport.CancelPaymentRequest{
		ImpUID:   p.ImpUID,
		Amount:   3000,                          // 0 cancels all that is left
		Checksum: iamport.Int64(p.Refundable()), // the balance we saw: 10000
		Reason:   "부분 환불",
	}
	after, err := client.CancelPayment(ctx, req)
	fmt.Println(after.Status, after.CancelAmount, after.Refundable(), err)

	_, err = client.CancelPayment(ctx, req) // the same request again
	var refused *iamport.APIError
	fmt.Println(errors.As(err, &refused))
	now, _ := client.GetPayment(ctx, p.ImpUID)
	fmt.Println(now.CancelAmount, len(now.CancelHistory))
	// Output:
	// cancelled 3000 7000 <nil>
	// true
	// 3000 1
}

// PaymentsByStatus is an iterator: a page is fetched only when the loop
// needs it, break stops fetching, and an error is yielded once, last.
func ExampleClient_PaymentsByStatus() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_0008", iamporttest.DefaultCardNumber)
	client := srv.Client()
	ctx := context.Background()
	for i, amount := range []int64{9900, 19900, 29900} {
		_, _ = client.AgainPayment(ctx, &iamport.AgainPaymentRequest{
			CustomerUID: "cust_0008", MerchantUID: fmt.Sprintf("sub_cust_0008_2026-%02d", i+9), Amount: amount, Name: "월간 구독",
		})
	}

	var total int64
	for p, err := range client.PaymentsByStatus(ctx, iamport.PaymentPaid, &iamport.PaymentListOptions{
		From: srv.Clock().Now().Add(-24 * time.Hour), // zero From: 90 days before To
		To:   srv.Clock().Now(),                      // zero To: now
	}) {
		if err != nil {
			fmt.Println("list:", err)
			return
		}
		total += p.Amount
	}
	fmt.Println("paid in the last day:", total)
	// Output: paid in the last day: 59700
}

// Schedule a charge for Iamport to run at schedule_at. The fake runs it
// when its clock passes that time.
func ExampleClient_SchedulePayments() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	_ = srv.RegisterBillingKey("cust_0009", iamporttest.DefaultCardNumber)
	client := srv.Client()
	ctx := context.Background()

	scheds, err := client.SchedulePayments(ctx, &iamport.ScheduleRequest{
		CustomerUID: "cust_0009",
		Schedules: []iamport.ScheduleItem{{
			MerchantUID: "sched_cust_0009_2026-12", // the charge's idempotency key
			ScheduleAt:  srv.Clock().Now().Add(24 * time.Hour),
			Amount:      9900,
			Name:        "월간 구독 2026-12",
		}},
	})
	fmt.Println(len(scheds), scheds[0].ScheduleStatus, err)

	srv.Clock().Advance(25 * time.Hour) // a day later, Iamport charges it
	s, err := client.GetSchedule(ctx, "sched_cust_0009_2026-12")
	fmt.Println(s.ScheduleStatus, s.PaymentStatus, err)
	// Output:
	// 1 scheduled <nil>
	// executed paid <nil>
}

// Int64 fills an optional amount without a temporary variable.
func ExampleInt64() {
	p := &iamport.Payment{ImpUID: "imp_123456789012", Amount: 10000, CancelAmount: 2000}
	req := &iamport.CancelPaymentRequest{
		ImpUID:   p.ImpUID,
		Amount:   3000,
		Checksum: iamport.Int64(p.Refundable()), // Iamport refuses the cancel if the balance is no longer 8000
	}
	fmt.Println(*req.Checksum)
	// Output: 8000
}
