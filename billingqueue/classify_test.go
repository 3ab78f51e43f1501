package billingqueue

import (
	"context"
	"errors"
	"fmt"
	"testing"

	iamport "github.com/billingkr/iamport-go"
)

// The money contract's outcomes, mapped one by one.
func TestClassify(t *testing.T) {
	t.Parallel()
	a := ChargeArgs{MerchantUID: "bill_x", CustomerUID: "c", Amount: 100}
	cases := []struct {
		name  string
		p     *iamport.Payment
		err   error
		want  Outcome
		retry bool // not charged, but asked again later (no attempt used)
	}{
		{"paid", &iamport.Payment{Status: iamport.PaymentPaid, ImpUID: "imp_1", Amount: 100}, nil, OutcomePaid, false},
		{"paid earlier, refunded since", &iamport.Payment{Status: iamport.PaymentCancelled, ImpUID: "imp_1", Amount: 100}, nil, OutcomeRefunded, false},
		{"ready without error", &iamport.Payment{Status: iamport.PaymentReady}, nil, OutcomeUnknown, false},
		{"no payment, no error", nil, nil, OutcomeUnknown, false},
		{"declined", nil, &iamport.PaymentFailedError{Payment: &iamport.Payment{Status: iamport.PaymentFailed, FailReason: "잔액부족"}}, OutcomeDeclined, false},
		{"not charged", nil, fmt.Errorf("%w: reset", iamport.ErrNotCharged), OutcomeNotCharged, false},
		{"unknown", nil, fmt.Errorf("%w: timeout", iamport.ErrOutcomeUnknown), OutcomeUnknown, false},
		{"ctx", nil, context.Canceled, OutcomeUnknown, false},
		{"refused 200", nil, &iamport.APIError{StatusCode: 200, Code: 1, Message: "등록되지 않은 구매자입니다."}, OutcomeRefused, false},
		{"refused 400", nil, &iamport.APIError{StatusCode: 400, Code: -1, Message: "bad"}, OutcomeRefused, false},
		{"5xx", nil, &iamport.APIError{StatusCode: 502, Code: -1, Message: "bad gateway"}, OutcomeUnknown, false},
		{"no status", nil, &iamport.APIError{Code: -1}, OutcomeUnknown, false},
		{"unauthorized", nil, &iamport.APIError{StatusCode: 401, Code: -1, Message: "Unauthorized"}, OutcomeNotCharged, true},
		{"unauthorized sentinel", nil, fmt.Errorf("token: %w", iamport.ErrUnauthorized), OutcomeNotCharged, true},
		{"rate limited", nil, &iamport.APIError{StatusCode: 429, Code: -1}, OutcomeNotCharged, true},
		{"validation", nil, &iamport.ValidationError{Field: "amount", Reason: "must be positive"}, OutcomeRefused, false},
	}
	for _, c := range cases {
		out := classify(a, c.p, c.err)
		if out.Outcome != c.want || out.retryLater != c.retry {
			t.Errorf("%s: %s (retry later %v), want %s (%v)", c.name, out.Outcome, out.retryLater, c.want, c.retry)
		}
	}
	out := classify(a, nil, &iamport.APIError{StatusCode: 200, Code: 1, Message: "m"})
	if out.Code != 1 || out.Message != "m" {
		t.Errorf("refusal keeps code and message: %+v", out)
	}
	out = classify(a, nil, &iamport.PaymentFailedError{Payment: &iamport.Payment{FailReason: "r"}})
	if out.FailReason != "r" {
		t.Errorf("decline keeps the reason: %+v", out)
	}
	if !errors.Is(fmt.Errorf("x: %w", iamport.ErrNotCharged), iamport.ErrNotCharged) {
		t.Fatal("sentinel")
	}
}
