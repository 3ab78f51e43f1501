package iamport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The leak property: no output surface shows more of a card than its first
// 6 and last 4 digits, or any of its expiry, birth, pwd_2digit or CVC.
//
// To cover more, add a subject (a value that may hold card data, at any
// depth) to leakSubjects, or a surface (a way the value reaches a log or a
// user) to leakSurfaces; every subject is rendered through every surface.

// leakCard is the card data every subject holds: values that cannot occur
// by chance in an output (no time attribute is written, pointer addresses
// are removed before checking).
var leakCard = struct{ number, expiry, birth, pwd2, cvc string }{
	number: "5409-2638-1052-7716", expiry: "2089-06", birth: "830512", pwd2: "47", cvc: "913",
}

const (
	leakDigits = "5409263810527716"
	leakMasked = "540926******7716"
)

type leakSubject struct {
	name string
	v    any
	// skip names surfaces that are known not to be covered for this
	// subject, each with its reason in leakSubjects.
	skip []string
}

// leakRequests is one of each request type that holds card data, with
// every card field set.
func leakRequests() []leakSubject {
	c := leakCard
	return []leakSubject{
		{name: "OnetimePaymentRequest", v: OnetimePaymentRequest{
			MerchantUID: "m_leak", Amount: 1000, Name: "plan", CardNumber: c.number, Expiry: c.expiry, Birth: c.birth,
			Pwd2Digit: c.pwd2, CVC: c.cvc, CustomerUID: "cust_leak", PG: "jtnet", BuyerName: "Kim", BuyerEmail: "kim@example.com",
		}},
		{name: "IssueBillingKeyRequest", v: IssueBillingKeyRequest{
			CustomerUID: "cust_leak", CardNumber: c.number, Expiry: c.expiry, Birth: c.birth, Pwd2Digit: c.pwd2, CVC: c.cvc,
			PG: "jtnet", CustomerName: "Kim", CustomerEmail: "kim@example.com",
		}},
		{name: "ScheduleRequest", v: ScheduleRequest{
			CustomerUID: "cust_leak", CustomerID: "member_7", ChannelKey: "channel-key-leak", CheckingAmount: 100,
			CardNumber: c.number, Expiry: c.expiry, Birth: c.birth, Pwd2Digit: c.pwd2, CVC: c.cvc,
			Schedules: []ScheduleItem{{MerchantUID: "m_leak_s", ScheduleAt: time.Unix(2000000000, 0), Amount: 1000, Name: "plan"}},
		}},
	}
}

// leakSubjects puts each request at the depths a caller's code puts it.
// A request held by value in an unexported field is not here: fmt reads
// such a field by reflection without calling its methods, which the
// request's string fields cannot prevent (see redact.go).
func leakSubjects() []leakSubject {
	var out []leakSubject
	for _, r := range leakRequests() {
		v := r.v
		ptr := ptrTo(v)
		type exported struct {
			ID  string
			Req any
		}
		type unexportedPtr struct {
			id  string
			req any // holds a pointer
		}
		type nested struct {
			Batch struct {
				Items []any
				ByKey map[string]any
			}
		}
		var n nested
		n.Batch.Items = []any{v, ptr}
		n.Batch.ByKey = map[string]any{"a": v}
		out = append(out,
			leakSubject{name: r.name + " value", v: v},
			leakSubject{name: r.name + " pointer", v: ptr},
			leakSubject{name: r.name + " in a slice", v: sliceOf(v)},
			leakSubject{name: r.name + " pointer in a slice", v: []any{ptr}},
			leakSubject{name: r.name + " in a map", v: map[string]any{"req": v}},
			leakSubject{name: r.name + " in an exported field", v: exported{"x", v}},
			leakSubject{name: r.name + " pointer in an exported field", v: &exported{"x", ptr}},
			// fmt's %v, %+v and %#v print a pointer inside an unexported
			// field as an address. Its other verbs (%s, %q, %x, %d) do not
			// fit a struct and print it as "%!s(T=&{…})", reflecting the
			// pointed-to fields without calling methods: not covered.
			leakSubject{name: r.name + " pointer in an unexported field", v: unexportedPtr{"x", ptr},
				skip: []string{"fmt %s", "fmt %q", "fmt %x", "fmt %d", "error wrapping"}},
			leakSubject{name: r.name + " nested in slices and maps", v: n},
			leakSubject{name: r.name + " in typed exported fields", v: typedHolder(v)},
		)
	}
	return out
}

// leakHolder holds a request in typed exported fields.
type leakHolder[T any] struct {
	Req  T
	Ptr  *T
	Reqs []T
	ByID map[string]T
}

func holderOf[T any](v T) leakHolder[T] {
	return leakHolder[T]{Req: v, Ptr: &v, Reqs: []T{v}, ByID: map[string]T{"a": v}}
}

func typedHolder(v any) any {
	switch x := v.(type) {
	case OnetimePaymentRequest:
		return holderOf(x)
	case IssueBillingKeyRequest:
		return holderOf(x)
	case ScheduleRequest:
		return holderOf(x)
	}
	panic(fmt.Sprintf("typedHolder: %T", v))
}

// ptrTo and sliceOf return a typed pointer and slice, so that the
// encoders see *T and []T, not *any and []any.
func ptrTo(v any) any {
	switch x := v.(type) {
	case OnetimePaymentRequest:
		return &x
	case IssueBillingKeyRequest:
		return &x
	case ScheduleRequest:
		return &x
	}
	panic(fmt.Sprintf("ptrTo: %T", v))
}

func sliceOf(v any) any {
	switch x := v.(type) {
	case OnetimePaymentRequest:
		return []OnetimePaymentRequest{x, x}
	case IssueBillingKeyRequest:
		return []IssueBillingKeyRequest{x, x}
	case ScheduleRequest:
		return []ScheduleRequest{x, x}
	}
	panic(fmt.Sprintf("sliceOf: %T", v))
}

type leakSurface struct {
	name   string
	render func(v any) (string, error)
}

func leakSurfaces() []leakSurface {
	noTime := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	logWith := func(newHandler func(*bytes.Buffer) slog.Handler) func(v any) (string, error) {
		return func(v any) (string, error) {
			var buf bytes.Buffer
			l := slog.New(newHandler(&buf))
			l.Debug("charge", "req", v)
			l.Debug("charge", slog.Group("outer", slog.Group("inner", slog.Any("req", v))))
			l.With("ctx", v).Debug("charge", "list", []any{v})
			return buf.String(), nil
		}
	}
	out := []leakSurface{
		{"json.Marshal", func(v any) (string, error) { b, err := json.Marshal(v); return string(b), err }},
		{"json.MarshalIndent", func(v any) (string, error) { b, err := json.MarshalIndent(v, "", " "); return string(b), err }},
		{"slog text", logWith(func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, noTime) })},
		{"slog JSON", logWith(func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, noTime) })},
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out = append(out, leakSurface{"fmt " + verb, func(v any) (string, error) { return fmt.Sprintf(verb, v), nil }})
	}
	out = append(out, leakSurface{"fmt.Sprint", func(v any) (string, error) { return fmt.Sprint(v), nil }})
	out = append(out, leakSurface{"error wrapping", func(v any) (string, error) {
		return fmt.Errorf("charging %v: %w", v, fmt.Errorf("inner %+v", v)).Error(), nil
	}})
	return out
}

var (
	addrRE    = regexp.MustCompile(`0x[0-9a-fA-F]+`)
	pwd2RE2   = regexp.MustCompile(`(^|[^0-9])` + leakCard.pwd2 + `([^0-9]|$)`)
	cvcRE2    = regexp.MustCompile(`(^|[^0-9])` + leakCard.cvc + `([^0-9]|$)`)
	cardRunRE = regexp.MustCompile(`[0-9*]{10,}`)
)

// leakProblems lists what out shows of leakCard beyond the mask.
func leakProblems(out string) []string {
	out = addrRE.ReplaceAllString(out, "ADDR")
	var probs []string
	flat := strings.NewReplacer("-", "", " ", "", "\t", "", "\n", "").Replace(out)
	// Any five consecutive digits of the card that include one of its
	// middle digits (the ones the mask hides).
	for i := 0; i+5 <= len(leakDigits); i++ {
		if i+5 <= 6 || i >= len(leakDigits)-4 {
			continue
		}
		if w := leakDigits[i : i+5]; strings.Contains(flat, w) {
			probs = append(probs, "card digits "+w)
		}
	}
	for _, run := range cardRunRE.FindAllString(flat, -1) {
		if strings.Contains(run, "*") && run != leakMasked {
			probs = append(probs, "card-like run "+run+" is not the mask "+leakMasked)
		}
	}
	for _, s := range []string{"2089", "8906", "06/89", leakCard.birth} {
		if strings.Contains(out, s) {
			probs = append(probs, "expiry or birth "+s)
		}
	}
	if pwd2RE2.MatchString(out) {
		probs = append(probs, "pwd_2digit")
	}
	if cvcRE2.MatchString(out) {
		probs = append(probs, "cvc")
	}
	return probs
}

func TestLeakProperty(t *testing.T) {
	t.Parallel()
	for _, s := range leakSubjects() {
		for _, surf := range leakSurfaces() {
			if slices.Contains(s.skip, surf.name) {
				continue
			}
			out, err := surf.render(s.v)
			if err != nil {
				t.Errorf("%s via %s: %v", s.name, surf.name, err)
				continue
			}
			if probs := leakProblems(out); len(probs) > 0 {
				t.Errorf("%s via %s leaks %v:\n%s", s.name, surf.name, probs, out)
			}
		}
	}
}

// TestLeakCheckerFindsLeaks proves the checker: each unmasked rendering is
// caught, and the mask itself is not.
func TestLeakCheckerFindsLeaks(t *testing.T) {
	t.Parallel()
	c := leakCard
	for _, leak := range []string{
		c.number, leakDigits, "5409 2638 1052 7716", "540926*38105****", "************7716 381052", "5409263*****7716",
		`"expiry":"` + c.expiry + `"`, "birth=" + c.birth, `pwd_2digit:"47"`, "cvc=913", "{913}",
	} {
		if len(leakProblems(leak)) == 0 {
			t.Errorf("leak %q not caught", leak)
		}
	}
	for _, fine := range []string{leakMasked, `card_number="540926******7716" expiry=[redacted] amount=1000`, "0xc000471390"} {
		if p := leakProblems(fine); len(p) > 0 {
			t.Errorf("%q flagged: %v", fine, p)
		}
	}
	// A surface that calls no method does leak: the reason the subjects
	// need the request types' methods.
	type plain OnetimePaymentRequest
	if len(leakProblems(fmt.Sprintf("%+v", plain(leakRequests()[0].v.(OnetimePaymentRequest))))) == 0 {
		t.Error("a plain struct's fields were not caught")
	}
}

// FuzzMasking: what every surface prints of a card request depends only on
// the card's first 6 and last 4 digits and on which secret fields are set,
// never on the hidden digits or on the values of expiry, birth, pwd_2digit
// and CVC. Two requests that differ only there must print the same.
func FuzzMasking(f *testing.F) {
	f.Add("5409-2638-1052-7716", "2089-06", "830512", "47", "913")
	f.Add("4111111111111", "", "", "", "")
	f.Add("6011 0009 9013 9424 123", "x", "1234567890", "0", "1234")
	f.Add("12345", "2028-12", "", "12", "")
	f.Fuzz(func(t *testing.T, card, expiry, birth, pwd2, cvc string) {
		other := func(s string) string {
			if s == "" {
				return ""
			}
			return "other value"
		}
		card2 := "[not a card]"
		if card == "" {
			card2 = ""
		} else if d, ok := cardDigits(card); ok {
			// The same first 6 and last 4, every hidden digit changed.
			b := []byte(d)
			for i := 6; i < len(b)-4; i++ {
				b[i] = '0' + (b[i]-'0'+1)%10
			}
			card2 = string(b)
		}
		reqs := func(card, expiry, birth, pwd2, cvc string) []any {
			return []any{
				OnetimePaymentRequest{MerchantUID: "m", Amount: 1, CardNumber: card, Expiry: expiry, Birth: birth, Pwd2Digit: pwd2, CVC: cvc},
				IssueBillingKeyRequest{CustomerUID: "c", CardNumber: card, Expiry: expiry, Birth: birth, Pwd2Digit: pwd2, CVC: cvc},
			}
		}
		a := reqs(card, expiry, birth, pwd2, cvc)
		b := reqs(card2, other(expiry), other(birth), other(pwd2), other(cvc))
		for i := range a {
			for _, v := range []func(any) any{func(v any) any { return v }, ptrTo, sliceOf, typedHolder} {
				for _, surf := range leakSurfaces() {
					oa, erra := surf.render(v(a[i]))
					ob, errb := surf.render(v(b[i]))
					if (erra == nil) != (errb == nil) || oa != ob {
						t.Fatalf("%s of %T depends on hidden data:\n%s\n%s", surf.name, a[i], oa, ob)
					}
				}
			}
		}
	})
}
