package billingrun

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultPrefix is the merchant_uid prefix used when Runner.Prefix is empty.
const DefaultPrefix = "bill"

// MaxPrefixLen is the longest merchant_uid prefix, in characters.
const MaxPrefixLen = 8

// hashChars is how many base32 characters of the SHA-256 the merchant_uid
// keeps (130 bits).
const hashChars = 26

// hashDomain separates this rule's hashes from any other use of SHA-256; a
// new rule would get a new domain.
const hashDomain = "billingrun/v1"

// maxCustomerUIDLen is Iamport's limit on customer_uid (iamport.MaxCustomerUIDLen).
const maxCustomerUIDLen = 80

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// MerchantUID derives the merchant_uid of the charge of customerUID for
// period: prefix + "_" + base32(SHA-256("billingrun/v1" 0x00 prefix 0x00
// customerUID 0x00 period))[:26], lower case (see the package doc for the
// rule and its collision analysis). An empty prefix means DefaultPrefix. The
// same arguments give the same merchant_uid on every run and every machine.
//
// It fails when prefix is longer than 8 characters or has characters
// outside [A-Za-z0-9-], or when customerUID or period is empty, is not valid
// UTF-8 or has control characters, or customerUID is longer than 80
// characters.
func MerchantUID(prefix, customerUID, period string) (string, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := checkPrefix(prefix); err != nil {
		return "", err
	}
	sum, err := hashOf(prefix, customerUID, period)
	if err != nil {
		return "", err
	}
	return prefix + "_" + encodeHash(sum), nil
}

func encodeHash(sum [sha256.Size]byte) string {
	var dst [56]byte // base32 of 32 bytes is 52 characters
	b32.Encode(dst[:], sum[:])
	return string(dst[:hashChars])
}

func hashOf(prefix, customerUID, period string) ([sha256.Size]byte, error) {
	if err := checkField("customer_uid", customerUID); err != nil {
		return [sha256.Size]byte{}, err
	}
	if n := utf8.RuneCountInString(customerUID); n > maxCustomerUIDLen {
		return [sha256.Size]byte{}, fmt.Errorf("billingrun: customer_uid is %d characters, more than %d", n, maxCustomerUIDLen)
	}
	if err := checkField("period", period); err != nil {
		return [sha256.Size]byte{}, err
	}
	var stack [256]byte
	b := append(stack[:0], hashDomain...)
	b = append(append(b, 0), prefix...)
	b = append(append(b, 0), customerUID...)
	b = append(append(b, 0), period...)
	return sha256.Sum256(b), nil
}

func checkPrefix(p string) error {
	if len(p) > MaxPrefixLen {
		return fmt.Errorf("billingrun: prefix %q is longer than %d characters", p, MaxPrefixLen)
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("billingrun: prefix %q may only hold A-Z, a-z, 0-9 and '-'", p)
		}
	}
	return nil
}

func checkField(name, v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("billingrun: " + name + " must not be empty")
	}
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("billingrun: " + name + " must be valid UTF-8 without control characters")
	}
	return nil
}
