// Package wire converts the API's JSON numbers and UNIX seconds exactly:
// money as int64 in the currency's minor unit (never through float64), and
// timestamps with 0 and null as the zero time.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var errNotNumber = errors.New("not a JSON number")

// Number is a JSON value kept as its text ("" for null), to be read as a
// number by ToMinor or ToTime. A JSON string that holds a decimal number
// ("1004", " 10.50 ") is read like that number; anything else (another
// string, an object, true) is kept as it came, and ToMinor and ToTime refuse
// it. Its UnmarshalJSON never fails, so that one odd field does not stop
// the decoding of the others.
type Number string

// UnmarshalJSON keeps the value; ToMinor and ToTime check it.
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*n = ""
	case len(b) >= 2 && b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			if t := strings.TrimSpace(s); validNumber([]byte(t)) {
				*n = Number(t)
				return nil
			}
		}
		*n = Number(b)
	default:
		*n = Number(b)
	}
	return nil
}

// Text is a JSON value read as text: a string's own text, the JSON text of
// any other value, "" for null. The API sends custom_data as a string or as
// the object the merchant gave.
type Text string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*t = ""
	case len(b) >= 2 && b[0] == '"':
		if inner := b[1 : len(b)-1]; b[len(b)-1] == '"' && !bytes.ContainsAny(inner, "\\\"") && utf8.Valid(inner) {
			*t = Text(inner) // no escapes, valid UTF-8: the text is the bytes
			return nil
		}
		var s string
		if json.Unmarshal(b, &s) != nil {
			*t = Text(b)
			return nil
		}
		*t = Text(s)
	default:
		*t = Text(b)
	}
	return nil
}

// MarshalJSON writes the text as a JSON string.
func (t Text) MarshalJSON() ([]byte, error) { return json.Marshal(string(t)) }

// Valid reports whether n is empty (null) or a JSON number.
func (n Number) Valid() bool { return n == "" || validNumber([]byte(n)) }

func (n Number) check() error {
	if !n.Valid() {
		s := string(n)
		if len(s) > 24 {
			s = s[:24] + "…"
		}
		return fmt.Errorf("%w: %s", errNotNumber, s)
	}
	return nil
}

// ToTime reads UNIX seconds (a fraction is cut off); 0 and null are the
// zero time.
func ToTime(n Number) (time.Time, error) {
	var u Unix
	if n == "" {
		return time.Time{}, nil
	}
	if err := u.UnmarshalJSON([]byte(n)); err != nil {
		return time.Time{}, err
	}
	return time.Time(u), nil
}

// validNumber checks the JSON number grammar.
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return false
		}
	}
	return i == len(b)
}

// Exponent is the number of minor-unit digits of an ISO 4217 currency:
// 0 for KRW, JPY and the other zero-decimal currencies, 3 for the dinars,
// 2 otherwise. The empty currency is KRW.
func Exponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "", "KRW", "JPY", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "XPF", "KMF", "GNF", "PYG", "RWF", "VUV", "DJF", "BIF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// ToMinor converts a wire amount to the currency's minor unit exactly. An
// amount with more decimals than the currency has (KRW 10.5) is an error.
func ToMinor(n Number, currency string) (int64, error) {
	if n == "" {
		return 0, nil
	}
	if err := n.check(); err != nil {
		return 0, err
	}
	s := string(n)
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 30 || e < -30 {
			return 0, fmt.Errorf("amount %s: exponent out of range", n)
		}
		exp = e
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	shift := Exponent(currency) + exp - len(frac) // value = digits × 10^shift
	if shift < 0 {
		cut := -shift
		if cut > len(digits) {
			if strings.Trim(digits, "0") != "" {
				return 0, fmt.Errorf("amount %s has more decimals than %s allows", n, currencyName(currency))
			}
			digits = ""
		} else {
			if strings.Trim(digits[len(digits)-cut:], "0") != "" {
				return 0, fmt.Errorf("amount %s has more decimals than %s allows", n, currencyName(currency))
			}
			digits = digits[:len(digits)-cut]
		}
		shift = 0
	}
	if digits == "" {
		return 0, nil
	}
	if len(digits)+shift > 18 {
		return 0, fmt.Errorf("amount %s is out of range", n)
	}
	v, err := strconv.ParseInt(digits+strings.Repeat("0", shift), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %s is out of range", n)
	}
	if neg {
		v = -v
	}
	return v, nil
}

func currencyName(c string) string {
	if c == "" {
		return "KRW"
	}
	return strings.ToUpper(c)
}

// FromMinor writes a minor-unit amount as the wire's JSON number: KRW 1004
// as 1004, USD 1050 as 10.5.
func FromMinor(v int64, currency string) json.Number {
	e := Exponent(currency)
	if e == 0 {
		return json.Number(strconv.FormatInt(v, 10))
	}
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
		if v == math.MinInt64 {
			u = 1 << 63
		}
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= e {
		s = strings.Repeat("0", e-len(s)+1) + s
	}
	out := s[:len(s)-e]
	if frac := strings.TrimRight(s[len(s)-e:], "0"); frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return json.Number(out)
}

// Unix is UNIX seconds on the wire; 0 and null are the zero time.
type Unix time.Time

// UnmarshalJSON accepts an integer (a fraction is cut off), 0 or null.
func (u *Unix) UnmarshalJSON(b []byte) error {
	var n Number
	_ = n.UnmarshalJSON(b)
	if err := n.check(); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if n == "" {
		*u = Unix{}
		return nil
	}
	s := string(n)
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f > math.MaxInt64/2 || f < math.MinInt64/2 {
			return fmt.Errorf("timestamp %s is out of range", s)
		}
		s = strconv.FormatInt(int64(f), 10)
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is out of range", n)
	}
	*u = Unix(Time(sec))
	return nil
}

// MarshalJSON writes UNIX seconds, 0 for the zero time.
func (u Unix) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, Seconds(time.Time(u)), 10), nil
}

// Time is the time of UNIX seconds sec, the zero time for 0.
func Time(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// Seconds is t in UNIX seconds, 0 for the zero time.
func Seconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// MarshalJSON writes the number's text (0 for empty).
func (n Number) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("0"), nil
	}
	return []byte(n), nil
}
