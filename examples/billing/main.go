// Command billing runs a whole subscription-billing flow with iamport-go:
// register a billing key, verify it, charge it with AgainPayment, look the
// payment up, show a decline and a safe re-run.
//
// With no set-up it runs on the embedded fake Iamport (iamporttest), so
// `go run ./examples/billing` works on a fresh machine with no account and
// no network. With IAMPORT_API_KEY, IAMPORT_API_SECRET and
// IAMPORT_CUSTOMER_UID set (a billing key issued through the payment
// window), it runs against the real API at api.iamport.kr instead, charging
// IAMPORT_AMOUNT won (default 1004) and cancelling the charge at once.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "billing example failed:", err)
		os.Exit(1)
	}
}

// run is the example; getenv is os.Getenv (a parameter so tests can run it).
func run(ctx context.Context, out io.Writer, getenv func(string) string) error {
	key, secret := getenv("IAMPORT_API_KEY"), getenv("IAMPORT_API_SECRET")
	if key != "" && secret != "" {
		return runLive(ctx, out, key, secret, getenv)
	}
	return runFake(ctx, out)
}

func runFake(ctx context.Context, out io.Writer) error {
	srv := iamporttest.NewServer()
	defer srv.Close()
	client := srv.Client()
	step := stepper(out)
	step("Running on the embedded fake Iamport at %s (set IAMPORT_API_KEY/IAMPORT_API_SECRET for the real API)", srv.URL())

	// 1. The customer registers a card in the payment window
	//    (IMP.request_pay with pg 'jtnet' and amount 0). The fake stands in
	//    for the window.
	const customerUID = "cust_0001"
	win := srv.RequestPay(iamporttest.WindowRequest{
		PG: "jtnet", MerchantUID: "issue_cust_0001", Name: "정기결제 카드 등록", Amount: 0,
		CustomerUID: customerUID, CardNumber: "4092-0230-1234-5678", BuyerName: "홍길동",
	})
	if !win.Success {
		return fmt.Errorf("payment window failed: %s %s", win.ErrorCode, win.ErrorMsg)
	}
	step("1. Payment window issued a billing key for %s (imp_uid %s)", customerUID, win.ImpUID)

	return billingFlow(ctx, client, step, customerUID, 9900, func(declined string) error {
		// Register a second customer whose card the fake declines.
		if err := srv.RegisterBillingKey(declined, "5412-3456-7890-1234"); err != nil {
			return err
		}
		srv.DeclineCustomer(declined, "잔액부족")
		return nil
	})
}

func runLive(ctx context.Context, out io.Writer, key, secret string, getenv func(string) string) error {
	customerUID := getenv("IAMPORT_CUSTOMER_UID")
	if customerUID == "" {
		return errors.New("IAMPORT_CUSTOMER_UID must name a billing key issued through the payment window")
	}
	amount := int64(1004)
	if s := getenv("IAMPORT_AMOUNT"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			return fmt.Errorf("IAMPORT_AMOUNT %q is not a positive number of won", s)
		}
		amount = v
	}
	client, err := iamport.NewClient(key, secret)
	if err != nil {
		return err
	}
	step := stepper(out)
	step("Running against %s with billing key %s", iamport.DefaultBaseURL, customerUID)
	return billingFlow(ctx, client, step, customerUID, amount, nil)
}

// billingFlow is the server side of subscription billing, the same on the
// fake and on the real API.
func billingFlow(ctx context.Context, client *iamport.Client, step func(string, ...any), customerUID string, amount int64, setupDecline func(string) error) error {
	// 2. Never trust the browser: ask Iamport whether the key exists.
	key, err := client.VerifyBillingKey(ctx, customerUID)
	if err != nil {
		return fmt.Errorf("verifying the billing key: %w", err)
	}
	step("2. Verified billing key %s: %s %s (pg %s)", key.CustomerUID, key.CardName, key.CardNumber, key.PGProvider)

	// 3. Charge it. The merchant_uid is the idempotency key: derive it from
	//    the customer and the billing period, so a re-run never charges twice.
	period := time.Now().Format("2006-01")
	req := &iamport.AgainPaymentRequest{
		CustomerUID: customerUID,
		MerchantUID: fmt.Sprintf("sub_%s_%s", customerUID, period),
		Amount:      amount,
		Name:        "월간 구독 " + period,
	}
	p, err := client.AgainPayment(ctx, req)
	if err != nil {
		return fmt.Errorf("charging %s: %s", req.MerchantUID, describe(err))
	}
	step("3. Charged %s: %d %s, status %s, imp_uid %s", p.MerchantUID, p.Amount, currency(p.Currency), p.Status, p.ImpUID)

	// 4. Look the payment up by imp_uid.
	got, err := client.GetPayment(ctx, p.ImpUID)
	if err != nil {
		return fmt.Errorf("looking up %s: %w", p.ImpUID, err)
	}
	step("4. Looked up %s: status %s, paid at %s, card %s", got.ImpUID, got.Status, got.PaidAt.Format(time.RFC3339), got.CardNumber)

	// 5. A cron job re-run with the same request is safe: it returns the
	//    first payment instead of charging again.
	again, err := client.AgainPayment(ctx, req)
	if err != nil {
		return fmt.Errorf("re-running %s: %s", req.MerchantUID, describe(err))
	}
	if again.ImpUID != p.ImpUID {
		return fmt.Errorf("re-run charged again: %s != %s", again.ImpUID, p.ImpUID)
	}
	step("5. Re-ran the same charge: got the same payment %s, nothing charged twice", again.ImpUID)

	if setupDecline == nil {
		// On the real API, give the money back at once.
		if _, err := client.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Reason: "iamport-go example"}); err != nil {
			return fmt.Errorf("cancelling the example charge %s: %w", p.ImpUID, err)
		}
		step("6. Cancelled the example charge %s", p.ImpUID)
		return nil
	}

	// 6. A declined card is an error, never a "successful" payment.
	const declinedUID = "cust_0002"
	if err := setupDecline(declinedUID); err != nil {
		return err
	}
	_, err = client.AgainPayment(ctx, &iamport.AgainPaymentRequest{
		CustomerUID: declinedUID, MerchantUID: "sub_" + declinedUID + "_" + period, Amount: amount, Name: "월간 구독 " + period,
	})
	var declined *iamport.PaymentFailedError
	if !errors.As(err, &declined) {
		return fmt.Errorf("expected a decline for %s, got %v", declinedUID, err)
	}
	step("6. Charge of %s was declined: %s (nothing taken; retry later or ask for another card)", declinedUID, declined.Payment.FailReason)
	step("Done.")
	return nil
}

// describe names the outcome of a failed charge the way a cron job would log it.
func describe(err error) string {
	var declined *iamport.PaymentFailedError
	switch {
	case errors.As(err, &declined):
		return "declined: " + declined.Payment.FailReason
	case errors.Is(err, iamport.ErrNotCharged):
		return "not charged (safe to retry with the same merchant_uid): " + err.Error()
	case errors.Is(err, iamport.ErrOutcomeUnknown):
		return "outcome unknown (retry with the same merchant_uid to learn it): " + err.Error()
	}
	return err.Error()
}

func currency(c string) string {
	if c == "" {
		return "KRW"
	}
	return c
}

func stepper(out io.Writer) func(string, ...any) {
	return func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
}
