package iamport

import (
	"errors"
	"net/http"
	"testing"

	"github.com/billingkr/iamport-go/internal/apitext"
	"github.com/stretchr/testify/assert"
)

// The fake's not-found texts are the SDK's: each one, as Iamport's answer
// with HTTP 200 and a non-zero code, is ErrNotFound; not as a proxy's page
// or a 5xx; and a text that is not in the table is not.
func TestNotFoundTextsShared(t *testing.T) {
	for _, msg := range []string{
		apitext.NoPayment, apitext.NothingToCancel, apitext.NoCustomer, apitext.UnknownBuyer,
		apitext.NoSchedule, apitext.NothingToRevoke, apitext.NoPrepared,
		"요청하신 customer_uid(c_9)로 등록된 정보를 찾을 수 없습니다.",
		"[결제취소 실패] 취소할 결제건이 존재하지 않습니다. (imp_1)",
	} {
		assert.True(t, errors.Is(&APIError{StatusCode: http.StatusOK, Code: 1, Message: msg}, ErrNotFound), msg)
		assert.True(t, errors.Is(&APIError{StatusCode: http.StatusOK, Code: -1, Message: msg}, ErrNotFound), msg)
		assert.False(t, errors.Is(&APIError{StatusCode: http.StatusBadGateway, Code: 1, Message: msg}, ErrNotFound), "a 5xx proves nothing: %s", msg)
		assert.False(t, errors.Is(&APIError{StatusCode: http.StatusOK, Code: 1, Message: msg, notEnvelope: true}, ErrNotFound), "not the envelope: %s", msg)
	}
	for _, msg := range []string{"카드정보 인증에 실패하였습니다.", "이미 주문이 이루어진 건입니다", ""} {
		assert.False(t, errors.Is(&APIError{StatusCode: http.StatusOK, Code: 1, Message: msg}, ErrNotFound), msg)
	}
}
