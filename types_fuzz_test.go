package iamport

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// seedResponses adds the response objects of testdata files (and the whole
// files) to f's corpus.
func seedResponses(f *testing.F, names ...string) {
	f.Helper()
	for _, name := range names {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		var env struct {
			Response json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(env.Response))
		f.Add(raw)
	}
}

// sameExceptTimes reports whether a and b (structs of the same type) are
// equal, their time.Time fields compared with Equal (a decoded time and the
// zero time carry different locations) and pointers by what they point at.
func sameExceptTimes(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		fa, fb := va.Field(i), vb.Field(i)
		if ta, ok := fa.Interface().(time.Time); ok {
			if !ta.Equal(fb.Interface().(time.Time)) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			return false
		}
	}
	return true
}

// fuzzRoundTrip is the property shared by the decoders of BillingKey and
// Schedule: json.Unmarshal never panics, succeeds only on what
// encoding/json can parse, and what it decodes survives Marshal then
// Unmarshal unchanged, twice (the second encoding is the first one's).
func fuzzRoundTrip[T any](t *testing.T, b []byte) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return
	}
	if !json.Valid(b) {
		t.Fatalf("decoded a body encoding/json refuses: %q", b)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal of a decoded %T: %v", v, err)
	}
	var back T
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("re-decode of %s: %v (from %q)", out, err, b)
	}
	if !sameExceptTimes(v, back) {
		t.Fatalf("round trip changed the value:\n%+v\n%+v\nvia %s from %q", v, back, out, b)
	}
	again, err := json.Marshal(back)
	if err != nil || string(again) != string(out) {
		t.Fatalf("second encoding differs: %s vs %s (%v)", again, out, err)
	}
}

func FuzzBillingKeyDecode(f *testing.F) {
	seedResponses(f, "billing_key.json")
	for _, s := range []string{
		`{"customer_uid":"c","card_type":1,"inserted":1700000000,"updated":"1700000001"}`,
		`{"card_type":"1","inserted":1.9,"updated":-1}`,
		`{"inserted":{},"updated":[1],"customer_name":5}`,
		`{"inserted":9223372036854775807,"updated":-62135596800}`,
		`{"card_type":null,"sandbox":"true"}`,
		`null`, `[]`, `"x"`, `{"customer_uid":"\u00e9\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRoundTrip[BillingKey](t, b) })
}

func FuzzScheduleDecode(f *testing.F) {
	seedResponses(f, "schedule_scheduled.json", "schedule_executed_failed.json")
	for _, s := range []string{
		`{"merchant_uid":"m","schedule_at":1700000000,"amount":9900,"currency":"KRW"}`,
		`{"amount":"10.25","currency":"usd","executed_at":"1700000000"}`,
		`{"amount":10.5,"currency":"KRW"}`,
		`{"amount":1e3,"currency":"JPY","revoked_at":1e9}`,
		`{"amount":-0.001,"currency":"KWD","custom_data":{"a":1}}`,
		`{"amount":999999999999999999,"schedule_at":-62135596800}`,
		`null`, `[]`, `{"payment_status":5,"schedule_status":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRoundTrip[Schedule](t, b) })
}
