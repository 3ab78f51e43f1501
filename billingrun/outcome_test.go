package billingrun_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/billingrun"
	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	paid := &iamport.Payment{MerchantUID: "m", Status: iamport.PaymentPaid}
	failed := &iamport.Payment{MerchantUID: "m", Status: iamport.PaymentFailed, FailReason: "한도초과"}
	transport := &iamport.TransportError{Method: "POST", Path: "/subscribe/payments/again", Err: io.ErrUnexpectedEOF}
	for _, tc := range []struct {
		name string
		p    *iamport.Payment
		err  error
		want billingrun.Outcome
	}{
		{"paid", paid, nil, billingrun.Paid},
		{"nil error, ready payment", &iamport.Payment{Status: iamport.PaymentReady}, nil, billingrun.Unknown},
		{"nil error, cancelled payment: already paid, refunded since", &iamport.Payment{Status: iamport.PaymentCancelled}, nil, billingrun.Refunded},
		{"nil error, nil payment", nil, nil, billingrun.Unknown},
		{"declined", nil, &iamport.PaymentFailedError{Payment: failed}, billingrun.Declined},
		{"declined, wrapped", nil, fmt.Errorf("charging: %w", &iamport.PaymentFailedError{Payment: failed}), billingrun.Declined},
		{"not charged", nil, &iamport.ChargeError{Outcome: iamport.ErrNotCharged, MerchantUID: "m", Err: transport}, billingrun.NotCharged},
		{"api error 200 code 1", nil, &iamport.APIError{StatusCode: 200, Code: 1, Message: "등록되지 않은 구매자입니다."}, billingrun.NotCharged},
		{"api error 400", nil, &iamport.APIError{StatusCode: 400, Code: -1}, billingrun.NotCharged},
		{"api error 401", nil, &iamport.APIError{StatusCode: 401, Code: -1}, billingrun.NotCharged},
		{"api error 500 (never from the SDK)", nil, &iamport.APIError{StatusCode: 500, Code: -1}, billingrun.Unknown},
		{"api error without a status (not from the SDK)", nil, &iamport.APIError{Code: -1}, billingrun.Unknown},
		{"validation", nil, &iamport.ValidationError{Field: "name", Reason: "too long"}, billingrun.Invalid},
		{"outcome unknown", nil, &iamport.ChargeError{Outcome: iamport.ErrOutcomeUnknown, MerchantUID: "m", Err: transport}, billingrun.Unknown},
		{"outcome unknown wrapping an APIError", nil, &iamport.ChargeError{Outcome: iamport.ErrOutcomeUnknown, MerchantUID: "m", Err: &iamport.APIError{StatusCode: 400}}, billingrun.Unknown},
		{"outcome unknown wrapping not charged", nil, fmt.Errorf("%w: %w", iamport.ErrOutcomeUnknown, iamport.ErrNotCharged), billingrun.Unknown},
		{"ctx ended", nil, &iamport.ChargeError{Outcome: iamport.ErrOutcomeUnknown, MerchantUID: "m", Err: context.Canceled}, billingrun.Unknown},
		{"bare transport error", nil, transport, billingrun.Unknown},
		{"decode error", nil, &iamport.DecodeError{Method: "POST", StatusCode: 200, Err: errors.New("bad")}, billingrun.Unknown},
		{"bare context error", nil, context.DeadlineExceeded, billingrun.Unknown},
		{"something else", nil, errors.New("boom"), billingrun.Unknown},
		{"something else with a payment", paid, errors.New("boom"), billingrun.Unknown},
	} {
		assert.Equal(t, tc.want, billingrun.Classify(tc.p, tc.err), tc.name)
	}
}

func TestOutcomeZeroValueIsUnknown(t *testing.T) {
	t.Parallel()
	var o billingrun.Outcome
	assert.Equal(t, billingrun.Unknown, o)
	names := map[string]bool{}
	for _, o := range billingrun.Outcomes {
		names[o.String()] = true
	}
	assert.Len(t, names, 6)
	assert.Equal(t, "not_charged", billingrun.NotCharged.String())
}
