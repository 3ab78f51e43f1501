package iamport

import (
	"slices"
	"strings"
)

// The per-PG requirements of the spec's x-portone-per-pg and
// x-portone-unsupported-pgs annotations (iamport-v1.openapi.json, 2026),
// for the calls this SDK makes. They are checked before sending whenever
// the request names its PG (OnetimePaymentRequest.PG,
// IssueBillingKeyRequest.PG, and the PG hint of AgainPaymentRequest and
// ScheduleRequest, which is not sent); a request whose PG is "" is sent as
// it is and Iamport applies its own rules. A broken rule is a
// *ValidationError whose Field is the wire field and whose Reason names the
// PG. TestPGRulesMatchSpec compares this table with the spec.
//
// PGs covered: chai, danal, danal_tpay, html5_inicis, kakaopay, kicc,
// ksnet, mobilians, naverpay, payco, paymentwall, paypal_v2, settle_acc,
// settle_firm, smartro, smartro_v2, tosspay_v2, tosspayments, uplus,
// welcome. Other PGs (jtnet, nice, kcp, daou, …) have no per-PG rule in the
// spec for these calls.

// pgRuleSet is the rules of one operation.
type pgRuleSet struct {
	// required: wire field → PGs that require it.
	required map[string][]string
	// unsupported: wire field → PGs that refuse it.
	unsupported map[string][]string
}

// Operations of the per-PG table.
const (
	pgOpAgain    = "again"    // POST /subscribe/payments/again
	pgOpOnetime  = "onetime"  // POST /subscribe/payments/onetime
	pgOpIssue    = "issue"    // POST /subscribe/customers/{customer_uid}
	pgOpSchedule = "schedule" // POST /subscribe/payments/schedule (top level)
	pgOpItem     = "item"     // a schedules[] entry (ScheduleAnnotation)
)

// noBillingKeyByAPI are the PGs that issue billing keys only through the
// payment window: the spec's x-portone-unsupported-pgs of the schedule's
// card data ("API 방식으로 빌링키 발급을 지원하지 않기 때문에"). IssueBillingKey,
// OnetimePayment and SchedulePayments with card data are refused for them.
var noBillingKeyByAPI = []string{"chai", "danal", "danal_tpay", "kakaopay", "kicc", "mobilians", "naverpay", "payco", "settle_acc", "settle_firm", "smartro", "uplus", "smartro_v2"}

var pgRules = map[string]pgRuleSet{
	pgOpAgain: {required: map[string][]string{
		"name":         {"html5_inicis", "danal_tpay"},
		"currency":     {"paypal_v2"},
		"buyer_name":   {"smartro_v2", "ksnet", "welcome"},
		"buyer_email":  {"smartro_v2", "paymentwall"},
		"buyer_tel":    {"smartro_v2"},
		"browser_ip":   {"paymentwall"},
		"product_type": {"ksnet"},
	}},
	pgOpOnetime: {
		required: map[string][]string{
			"cvc":          {"paymentwall"},
			"name":         {"html5_inicis"},
			"buyer_name":   {"html5_inicis", "ksnet", "welcome"},
			"buyer_email":  {"html5_inicis"},
			"buyer_tel":    {"html5_inicis"},
			"browser_ip":   {"paymentwall"},
			"product_type": {"ksnet"},
		},
		unsupported: map[string][]string{
			"customer_uid": {"ksnet", "tosspayments"},
			"card_number":  noBillingKeyByAPI,
		},
	},
	pgOpIssue: {
		required: map[string][]string{
			"customer_id":   {"tosspayments"},
			"birth":         {"ksnet"},
			"pwd_2digit":    {"ksnet"},
			"cvc":           {"paymentwall"},
			"customer_name": {"welcome"},
		},
		unsupported: map[string][]string{
			"card_number": noBillingKeyByAPI,
		},
	},
	pgOpSchedule: {
		required: map[string][]string{
			"customer_id": {"tosspayments"},
			"cvc":         {"paymentwall"}, // with card data
		},
		unsupported: map[string][]string{
			"card_number": noBillingKeyByAPI,
			"expiry":      noBillingKeyByAPI,
			"birth":       noBillingKeyByAPI,
		},
	},
	pgOpItem: {required: map[string][]string{
		"currency":     {"paypal_v2"},
		"buyer_name":   {"smartro_v2", "ksnet", "welcome"},
		"buyer_email":  {"smartro_v2", "paymentwall"},
		"buyer_tel":    {"smartro_v2"},
		"product_type": {"ksnet"},
	}},
}

// pgProvider is the provider part of a PG code: "html5_inicis" of
// "html5_inicis.INIBillTst".
func pgProvider(pg string) string {
	p, _, _ := strings.Cut(pg, ".")
	return strings.ToLower(strings.TrimSpace(p))
}

// checkPG applies the rules of op for pg to a request whose fields are
// given by their wire names (set: the field has a value). prefix is put
// before the field names of errors (schedules[i].). A field that is not
// in set counts as absent.
func checkPG(op, pg, prefix string, set map[string]bool) error {
	provider := pgProvider(pg)
	if provider == "" {
		return nil
	}
	rules := pgRules[op]
	for _, f := range sortedKeys(rules.required) {
		if slices.Contains(rules.required[f], provider) && !set[f] {
			if f == "cvc" && op == pgOpSchedule && !set["card_number"] {
				continue // only with card data
			}
			return &ValidationError{Field: prefix + f, Reason: "required by PG " + provider}
		}
	}
	for _, f := range sortedKeys(rules.unsupported) {
		if slices.Contains(rules.unsupported[f], provider) && set[f] {
			reason := "not supported by PG " + provider
			if slices.Contains(noBillingKeyByAPI, provider) && (f == "card_number" || f == "expiry" || f == "birth") {
				reason = "PG " + provider + " cannot issue billing keys or charge card data by API (only through the payment window)"
			}
			return &ValidationError{Field: prefix + f, Reason: reason}
		}
	}
	return nil
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
