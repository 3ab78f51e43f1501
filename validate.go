package iamport

import (
	"strings"
	"unicode/utf8"
)

// The spec's limits of the text fields every charge sends.
const (
	MaxBuyerNameLen     = 16  // buyer_name, in characters
	MaxBuyerEmailLen    = 64  // buyer_email
	MaxBuyerTelLen      = 16  // buyer_tel
	MaxBuyerAddrLen     = 128 // buyer_addr
	MaxBuyerPostcodeLen = 8   // buyer_postcode
	MaxPGLen            = 80  // pg
	MaxChannelKeyLen    = 55  // channel_key
	MaxCardQuota        = 36  // card_quota, in months
)

// textField is one text field of a request and its rules: at most max
// characters (0: no limit), valid UTF-8, no control characters (free text
// may hold tabs and line breaks).
type textField struct {
	name, v string
	max     int
	free    bool
}

// checkTexts validates text fields; the first bad one is the error.
func checkTexts(fields ...textField) error {
	for _, f := range fields {
		if f.v == "" {
			continue
		}
		if !utf8.ValidString(f.v) {
			return &ValidationError{Field: f.name, Reason: "must be valid UTF-8"}
		}
		if strings.ContainsFunc(f.v, func(r rune) bool {
			if f.free && (r == '\n' || r == '\r' || r == '\t') {
				return false
			}
			return r < 0x20 || r == 0x7f
		}) {
			return &ValidationError{Field: f.name, Reason: "must not contain control characters"}
		}
		if n := utf8.RuneCountInString(f.v); f.max > 0 && n > f.max {
			return &ValidationError{Field: f.name, Reason: "must be at most " + itoa(f.max) + " characters, is " + itoa(n)}
		}
	}
	return nil
}

// check validates what every charge sends beyond its amounts.
func (b chargeBody) check() error {
	if b.CardQuota < 0 || b.CardQuota > MaxCardQuota {
		return &ValidationError{Field: "card_quota", Reason: "must be between 0 (lump sum) and " + itoa(MaxCardQuota)}
	}
	switch b.ProductType {
	case "", "digital", "real":
	default:
		return &ValidationError{Field: "product_type", Reason: `must be "digital", "real" or empty`}
	}
	return checkTexts(
		textField{name: "name", v: b.Name, max: MaxNameLen},
		textField{name: "buyer_name", v: b.BuyerName, max: MaxBuyerNameLen},
		textField{name: "buyer_email", v: b.BuyerEmail, max: MaxBuyerEmailLen},
		textField{name: "buyer_tel", v: b.BuyerTel, max: MaxBuyerTelLen},
		textField{name: "buyer_addr", v: b.BuyerAddr, max: MaxBuyerAddrLen},
		textField{name: "buyer_postcode", v: b.BuyerPostcode, max: MaxBuyerPostcodeLen},
		textField{name: "custom_data", v: b.CustomData, free: true},
		textField{name: "notice_url", v: b.NoticeURL},
		textField{name: "browser_ip", v: b.BrowserIP},
		textField{name: "promotion_id", v: b.PromotionID},
	)
}
