package iamporttest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/billingkr/iamport-go/internal/wire"
)

// The fake's own wire structs: they mirror the spec's annotations
// (PaymentAnnotation, CustomerAnnotation, ScheduleResultAnnotation, ...) and
// are independent of the SDK's types.

type envelope struct {
	Code     int     `json:"code"`
	Message  *string `json:"message"`
	Response any     `json:"response"`
}

type wireToken struct {
	AccessToken string `json:"access_token"`
	Now         int64  `json:"now"`
	ExpiredAt   int64  `json:"expired_at"`
}

type wireCancel struct {
	PGTID          string      `json:"pg_tid"`
	Amount         json.Number `json:"amount"`
	CancelledAt    int64       `json:"cancelled_at"`
	Reason         string      `json:"reason"`
	CancellationID string      `json:"cancellation_id"`
	ReceiptURL     *string     `json:"receipt_url"`
}

type wirePayment struct {
	ImpUID            string       `json:"imp_uid"`
	MerchantUID       string       `json:"merchant_uid"`
	PayMethod         *string      `json:"pay_method"`
	Channel           *string      `json:"channel"`
	PGProvider        *string      `json:"pg_provider"`
	EmbPGProvider     *string      `json:"emb_pg_provider"`
	PGTID             *string      `json:"pg_tid"`
	PGID              *string      `json:"pg_id"`
	Escrow            bool         `json:"escrow"`
	ApplyNum          *string      `json:"apply_num"`
	BankCode          *string      `json:"bank_code"`
	BankName          *string      `json:"bank_name"`
	CardCode          *string      `json:"card_code"`
	CardName          *string      `json:"card_name"`
	CardIssuerCode    *string      `json:"card_issuer_code"`
	CardIssuerName    *string      `json:"card_issuer_name"`
	CardPublisherCode *string      `json:"card_publisher_code"`
	CardPublisherName *string      `json:"card_publisher_name"`
	CardQuota         int          `json:"card_quota"`
	CardNumber        *string      `json:"card_number"`
	CardType          *int         `json:"card_type"`
	VbankCode         *string      `json:"vbank_code"`
	VbankName         *string      `json:"vbank_name"`
	VbankNum          *string      `json:"vbank_num"`
	VbankHolder       *string      `json:"vbank_holder"`
	VbankDate         int64        `json:"vbank_date"`
	VbankIssuedAt     int64        `json:"vbank_issued_at"`
	Name              *string      `json:"name"`
	Amount            json.Number  `json:"amount"`
	CancelAmount      json.Number  `json:"cancel_amount"`
	Currency          string       `json:"currency"`
	BuyerName         *string      `json:"buyer_name"`
	BuyerEmail        *string      `json:"buyer_email"`
	BuyerTel          *string      `json:"buyer_tel"`
	BuyerAddr         *string      `json:"buyer_addr"`
	BuyerPostcode     *string      `json:"buyer_postcode"`
	CustomData        *string      `json:"custom_data"`
	UserAgent         *string      `json:"user_agent"`
	Status            string       `json:"status"`
	StartedAt         int64        `json:"started_at"`
	PaidAt            int64        `json:"paid_at"`
	FailedAt          int64        `json:"failed_at"`
	CancelledAt       int64        `json:"cancelled_at"`
	FailReason        *string      `json:"fail_reason"`
	CancelReason      *string      `json:"cancel_reason"`
	ReceiptURL        *string      `json:"receipt_url"`
	CancelHistory     []wireCancel `json:"cancel_history"`
	CancelReceiptURLs []string     `json:"cancel_receipt_urls"`
	DepositHistory    []struct{}   `json:"deposit_history"`
	CashReceiptIssued bool         `json:"cash_receipt_issued"`
	CustomerUID       *string      `json:"customer_uid"`
	CustomerUIDUsage  *string      `json:"customer_uid_usage"`
	Promotion         *struct{}    `json:"promotion"`
	Sandbox           bool         `json:"sandbox"`
}

type wireCustomer struct {
	CustomerUID       string  `json:"customer_uid"`
	PGProvider        string  `json:"pg_provider"`
	PGID              string  `json:"pg_id"`
	Sandbox           bool    `json:"sandbox"`
	CustomerID        *string `json:"customer_id"`
	CardName          string  `json:"card_name"`
	CardCode          *string `json:"card_code"`
	CardIssuerCode    *string `json:"card_issuer_code"`
	CardIssuerName    *string `json:"card_issuer_name"`
	CardPublisherCode *string `json:"card_publisher_code"`
	CardPublisherName *string `json:"card_publisher_name"`
	CardNumber        *string `json:"card_number"`
	CardType          *int    `json:"card_type"`
	CustomerName      *string `json:"customer_name"`
	CustomerTel       *string `json:"customer_tel"`
	CustomerEmail     *string `json:"customer_email"`
	CustomerAddr      *string `json:"customer_addr"`
	CustomerPostcode  *string `json:"customer_postcode"`
	Inserted          int64   `json:"inserted"`
	Updated           int64   `json:"updated"`
}

type wireSucceededChannel struct {
	PGProvider        string  `json:"pg_provider"`
	PGID              string  `json:"pg_id"`
	CardName          *string `json:"card_name"`
	CardCode          *string `json:"card_code"`
	CardIssuerCode    *string `json:"card_issuer_code"`
	CardIssuerName    *string `json:"card_issuer_name"`
	CardPublisherCode *string `json:"card_publisher_code"`
	CardPublisherName *string `json:"card_publisher_name"`
	CardNumber        *string `json:"card_number"`
	CardType          *int    `json:"card_type"`
	Inserted          int64   `json:"inserted"`
	Updated           int64   `json:"updated"`
}

type wireFailedChannel struct {
	Type       string `json:"type"`
	Message    string `json:"message"`
	PGProvider string `json:"pg_provider"`
	PGID       string `json:"pg_id"`
}

// wireSuperBillingKey is the spec's SuperBillingKeyAnnotation: the answer
// of an issuance with channel_group_id.
type wireSuperBillingKey struct {
	CustomerUID       string                 `json:"customer_uid"`
	ChannelGroupID    string                 `json:"channelGroupId"`
	CustomerID        *string                `json:"customer_id"`
	CustomerName      *string                `json:"customer_name"`
	CustomerTel       *string                `json:"customer_tel"`
	CustomerEmail     *string                `json:"customer_email"`
	CustomerAddr      *string                `json:"customer_addr"`
	CustomerPostcode  *string                `json:"customer_postcode"`
	SucceededChannels []wireSucceededChannel `json:"succeededChannels"`
	FailedChannels    []wireFailedChannel    `json:"failedChannels"`
}

type wireSchedule struct {
	CustomerUID    string      `json:"customer_uid"`
	MerchantUID    string      `json:"merchant_uid"`
	ImpUID         *string     `json:"imp_uid"`
	PGProvider     *string     `json:"pg_provider"`
	PGID           *string     `json:"pg_id"`
	CustomerID     *string     `json:"customer_id"`
	ScheduleAt     int64       `json:"schedule_at"`
	ExecutedAt     int64       `json:"executed_at"`
	RevokedAt      int64       `json:"revoked_at"`
	Amount         json.Number `json:"amount"`
	Currency       string      `json:"currency"`
	Name           *string     `json:"name"`
	BuyerName      *string     `json:"buyer_name"`
	BuyerEmail     *string     `json:"buyer_email"`
	BuyerTel       *string     `json:"buyer_tel"`
	BuyerAddr      *string     `json:"buyer_addr"`
	BuyerPostcode  *string     `json:"buyer_postcode"`
	CustomData     *string     `json:"custom_data"`
	ScheduleStatus string      `json:"schedule_status"`
	PaymentStatus  *string     `json:"payment_status"`
	FailReason     *string     `json:"fail_reason"`
	PromotionID    *string     `json:"promotion_id"`
}

type wirePage struct {
	Total    int `json:"total"`
	Previous int `json:"previous"`
	Next     int `json:"next"`
	List     any `json:"list"`
}

type wirePrepare struct {
	MerchantUID string      `json:"merchant_uid"`
	Amount      json.Number `json:"amount"`
	Currency    *string     `json:"currency"`
}

type wireWebhook struct {
	ImpUID         string `json:"imp_uid"`
	MerchantUID    string `json:"merchant_uid"`
	Status         string `json:"status"`
	CancellationID string `json:"cancellation_id,omitempty"`
}

// nstr returns nil for "" (the API's null) and a pointer otherwise.
func nstr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func sptr(s string) *string { return &s }

// unix renders t as UNIX seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// currencyExp is the number of decimal digits of the currency's minor
// unit: the SDK's own ISO 4217 table (internal/wire), so that the fake and
// the SDK cannot disagree about an amount.
func currencyExp(currency string) int { return wire.Exponent(currency) }

func normCurrency(c string) string {
	if c == "" {
		return "KRW"
	}
	return strings.ToUpper(c)
}

// formatAmount prints an amount in minor units as the exact decimal JSON
// number of the currency's major unit (trailing zero decimals trimmed), never
// through float64.
func formatAmount(v int64, currency string) json.Number {
	exp := currencyExp(currency)
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if exp > 0 {
		for len(s) <= exp {
			s = "0" + s
		}
		ip, fp := s[:len(s)-exp], strings.TrimRight(s[len(s)-exp:], "0")
		s = ip
		if fp != "" {
			s += "." + fp
		}
	}
	if neg {
		s = "-" + s
	}
	return json.Number(s)
}

var errBadAmount = errors.New("invalid amount")

// parseAmount reads a decimal amount of the currency's major unit (a JSON
// number's text or a form value) into minor units, exactly.
func parseAmount(s, currency string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errBadAmount
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, errBadAmount
	}
	if r.Sign() < 0 {
		return 0, errBadAmount
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(currencyExp(currency))), nil)
	r.Mul(r, new(big.Rat).SetInt(scale))
	if !r.IsInt() {
		return 0, fmt.Errorf("%w: %s has more decimals than %s allows", errBadAmount, s, normCurrency(currency))
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, errBadAmount
	}
	return n.Int64(), nil
}
