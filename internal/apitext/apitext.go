// Package apitext holds the texts of Iamport's answers that the SDK
// recognises and the fake (iamporttest) answers with: one table, so that
// the two cannot disagree. Each text names where it was seen.
package apitext

// Texts the fake answers with. Where the live text is known it is the live
// text; where it is not, the comment says so.
const (
	// NoPayment: GET /payments/{imp_uid} and /payments/find of an unknown
	// payment: HTTP 404, code -1 (live API).
	NoPayment = "존재하지 않는 결제정보입니다."
	// NothingToCancel: POST /payments/cancel of a missing or fully
	// cancelled payment: HTTP 200, code 1 (live API).
	NothingToCancel = "취소할 결제건이 존재하지 않습니다."
	// NoCustomer: a billing-key or schedule lookup of an unknown customer
	// (GET /subscribe/customers/{customer_uid}, the customer's schedule
	// list) (live API).
	NoCustomer = "등록된 고객정보가 없습니다."
	// CustomerNotRegistered: "요청하신 customer_uid(...)로 등록된 정보를 찾을
	// 수 없습니다.", HTTP 200, code 1 (an older live test of
	// GET /subscribe/customers/{customer_uid}); this is its fixed part.
	CustomerNotRegistered = "로 등록된 정보를 찾을 수 없습니다"
	// UnknownBuyer: POST /subscribe/payments/again (and schedule) with an
	// unknown customer_uid: HTTP 200, code 1 (live API).
	UnknownBuyer = "등록되지 않은 구매자입니다."
	// NoSchedule: GET /subscribe/payments/schedule/{merchant_uid} of an
	// unknown one (iamporttest; the live text is unconfirmed).
	NoSchedule = "결제예약건이 존재하지 않습니다."
	// NothingToRevoke: POST /subscribe/payments/unschedule with nothing to
	// revoke: HTTP 200, code 1 (iamporttest; the live text is unconfirmed).
	NothingToRevoke = "취소할 예약결제 기록이 존재하지 않습니다."
	// NoPrepared: GET /payments/prepare/{merchant_uid} of an unknown one
	// (iamporttest; the live text is unconfirmed).
	NoPrepared = "사전등록된 결제정보가 존재하지 않습니다."
)

// NotFound are the "not found" texts: an Iamport answer (its envelope,
// status below 500) with a non-zero code whose message contains one of
// them says that the thing asked about does not exist. The trailing period
// is left off so that a text with a suffix still matches.
var NotFound = []string{
	trim(NoPayment),
	trim(NothingToCancel),
	trim(NoCustomer),
	CustomerNotRegistered,
	trim(UnknownBuyer),
	trim(NoSchedule),
	trim(NothingToRevoke),
	trim(NoPrepared),
}

func trim(s string) string {
	if n := len(s); n > 0 && s[n-1] == '.' {
		return s[:n-1]
	}
	return s
}
