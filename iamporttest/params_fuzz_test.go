package iamporttest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseParams checks the fake's body parser against the standard
// library: a body routed as JSON is accepted exactly when encoding/json
// reads it as an object, and each value reads as encoding/json's (strings
// as the string, numbers as their literal text, booleans, null as absent,
// lists and objects as their JSON); a form body is accepted exactly when
// url.ParseQuery accepts it, with the same values. Nothing panics.
func FuzzParseParams(f *testing.F) {
	for _, s := range [][2]string{
		{"application/json", `{"imp_uid":"imp_1","amount":1004,"checksum":"500","custom_data":{"a":[1]},"x":null,"b":true}`},
		{"application/json; charset=utf-8", `{"amount":10.50,"amount":1e3,"u":"\u00e9\ud800"}`},
		{"", `{"merchant_uid":"m"}`},
		{"", `[{"a":1}]`},
		{"application/vnd.api+json", `{"a":"b"} `},
		{"application/json", `null`},
		{"application/x-www-form-urlencoded", "imp_uid=imp_1&amount=1004&schedules[0][merchant_uid]=m&a=%zz"},
		{"application/x-www-form-urlencoded", "a=1;b=2"},
		{"text/plain", " a=b+c&a=d "},
		{"", ""},
		{"application/json", "{\"k\":\"\xff\"}"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		p, err := parseParams(contentType, body)
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 {
			if err != nil || p.js != nil || len(p.form) != 0 {
				t.Fatalf("empty body: %+v, %v", p, err)
			}
			return
		}
		mt, _, _ := mime.ParseMediaType(contentType)
		asJSON := mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "" && (trimmed[0] == '{' || trimmed[0] == '[')
		if !asJSON {
			want, werr := url.ParseQuery(string(trimmed))
			if (err == nil) != (werr == nil) {
				t.Fatalf("form %q: %v; url.ParseQuery: %v", trimmed, err, werr)
			}
			if err == nil && !reflect.DeepEqual(p.form, want) {
				t.Fatalf("form %q: %v; url.ParseQuery: %v", trimmed, p.form, want)
			}
			if err == nil {
				for k, vs := range want {
					if got := p.str(k); len(vs) > 0 && got != vs[0] {
						t.Fatalf("form %q: str(%q) = %q, want %q", trimmed, k, got, vs[0])
					}
				}
			}
			return
		}
		var want map[string]json.RawMessage
		werr := json.Unmarshal(trimmed, &want)
		if werr == nil && want == nil {
			werr = errBadBody // null is not an object
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("JSON %q: %v; encoding/json: %v", trimmed, err, werr)
		}
		if err != nil {
			return
		}
		if len(p.js) != len(want) {
			t.Fatalf("JSON %q: %d keys, encoding/json %d", trimmed, len(p.js), len(want))
		}
		for k, raw := range want {
			switch {
			case string(raw) == "null":
				if _, ok := p.raw(k); ok || p.str(k) != "" {
					t.Fatalf("JSON %q: %q is null, yet present", trimmed, k)
				}
			case raw[0] == '"':
				var s string
				_ = json.Unmarshal(raw, &s)
				if got := p.str(k); got != s {
					t.Fatalf("JSON %q: str(%q) = %q, encoding/json %q", trimmed, k, got, s)
				}
				if got, ok := p.num(k); strings.TrimSpace(s) != "" && (!ok || got != s) {
					t.Fatalf("JSON %q: num(%q) = %q, %v; want %q", trimmed, k, got, ok, s)
				}
			case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
				if got, ok := p.num(k); !ok || got != string(raw) {
					t.Fatalf("JSON %q: num(%q) = %q, %v; want %s", trimmed, k, got, ok, raw)
				}
				if got := p.str(k); got != string(raw) {
					t.Fatalf("JSON %q: str(%q) = %q; want %s", trimmed, k, got, raw)
				}
			case string(raw) == "true" || string(raw) == "false":
				if got := p.boolean(k); got != (string(raw) == "true") {
					t.Fatalf("JSON %q: boolean(%q) = %v", trimmed, k, got)
				}
			default: // a list or an object: its JSON, as encoding/json writes it
				var v any
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.UseNumber()
				_ = dec.Decode(&v)
				b, _ := json.Marshal(v)
				if got := p.str(k); got != string(b) {
					t.Fatalf("JSON %q: str(%q) = %q; want %s", trimmed, k, got, b)
				}
			}
		}
	})
}
