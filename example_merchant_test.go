package iamport_test

// A merchant's own tests of each outcome of a charge, on the fake Iamport.
// README.md ("Testing your code with iamporttest") shows these functions;
// TestReadmeGoBlocks keeps the two the same.

import (
	"context"
	"errors"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// newFakeIamport starts a fake Iamport with one billing key, cust_1.
func newFakeIamport(t *testing.T) *iamporttest.Server {
	t.Helper()
	srv := iamporttest.NewServer()
	t.Cleanup(srv.Close)
	if err := srv.RegisterBillingKey("cust_1", iamporttest.DefaultCardNumber); err != nil {
		t.Fatal(err)
	}
	return srv
}

// november is the charge under test: one merchant_uid per customer and month.
var november = iamport.AgainPaymentRequest{
	CustomerUID: "cust_1", MerchantUID: "sub_cust_1_2026-11", Amount: 9900, Name: "월간 구독",
}

func TestChargePaid(t *testing.T) {
	srv := newFakeIamport(t)
	p, err := srv.Client().AgainPayment(context.Background(), &november)
	if err != nil || p.Status != iamport.PaymentPaid {
		t.Fatalf("AgainPayment = %v, %v; want paid", p, err)
	}
	if got := srv.PaymentsByMerchantUID(november.MerchantUID); len(got) != 1 || got[0].Amount != 9900 {
		t.Fatalf("the fake's ledger: %+v", got)
	}
}

func TestChargeDeclined(t *testing.T) {
	srv := newFakeIamport(t)
	srv.DeclineCustomer("cust_1", "잔액부족")
	_, err := srv.Client().AgainPayment(context.Background(), &november)
	var declined *iamport.PaymentFailedError
	if !errors.As(err, &declined) || declined.Payment.FailReason != "잔액부족" {
		t.Fatalf("err = %v; want a decline", err)
	}
}

func TestChargeNotCharged(t *testing.T) {
	srv := newFakeIamport(t)
	// A 500 before Iamport commits anything. The SDK looks the merchant_uid
	// up for its settle window, on the fake's clock: milliseconds, not 45 s.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.Fault5xxBeforeCommit, Route: iamporttest.RouteAgain})
	_, err := srv.Client().AgainPayment(context.Background(), &november)
	if !errors.Is(err, iamport.ErrNotCharged) || srv.Charges(november.MerchantUID) != 0 {
		t.Fatalf("err = %v; want not charged", err)
	}
}

func TestChargeReplyLost(t *testing.T) {
	srv := newFakeIamport(t)
	// Charged, then the connection drops before the reply: the SDK finds
	// the payment by merchant_uid and returns it.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDropAfterCommit, Route: iamporttest.RouteAgain})
	p, err := srv.Client().AgainPayment(context.Background(), &november)
	if err != nil || !p.IsPaid() || srv.Charges(november.MerchantUID) != 1 {
		t.Fatalf("AgainPayment = %v, %v; want paid once", p, err)
	}
}

func TestChargeUnknown(t *testing.T) {
	srv := newFakeIamport(t)
	// The card company takes an hour. The attempt times out after 50 ms and
	// the payment stays "ready" for the whole settle window (1 s of the
	// fake's time): the SDK cannot tell.
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultSlowPG, Route: iamporttest.RouteAgain, Delay: time.Hour})
	client := srv.Client(iamport.WithTimeout(50*time.Millisecond), iamport.WithSettleWindow(time.Second))
	_, err := client.AgainPayment(context.Background(), &november)
	var oe *iamport.OutcomeError
	if !errors.Is(err, iamport.ErrOutcomeUnknown) || !errors.As(err, &oe) || oe.MerchantUID != november.MerchantUID {
		t.Fatalf("err = %v; want unknown for %s", err, november.MerchantUID)
	}
}

func TestChargeRefundedSince(t *testing.T) {
	srv := newFakeIamport(t)
	client, ctx := srv.Client(), context.Background()
	p, err := client.AgainPayment(ctx, &november)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: p.ImpUID, Checksum: iamport.Int64(p.Refundable())}); err != nil {
		t.Fatal(err)
	}
	// The month is billed again (a re-run): the paid merchant_uid returns
	// its payment, refunded since. Not a new charge, and not "paid".
	again, err := client.AgainPayment(ctx, &november)
	if err != nil || again.ImpUID != p.ImpUID || again.Status != iamport.PaymentCancelled {
		t.Fatalf("AgainPayment = %v, %v; want the refunded payment", again, err)
	}
}
