package iamport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billingkr/iamport-go/internal/wire"
)

// The reference types: the API's Payment as plain encoding/json reads it
// with strict types (an amount is a JSON number, a time an integer). When a
// body decodes into them without any error, the SDK must agree with them.
type refCancel struct {
	PGTID          string      `json:"pg_tid"`
	Amount         json.Number `json:"amount"`
	CancelledAt    int64       `json:"cancelled_at"`
	Reason         string      `json:"reason"`
	CancellationID string      `json:"cancellation_id"`
	ReceiptURL     string      `json:"receipt_url"`
}

type refDeposit struct {
	PGTID         string      `json:"pg_tid"`
	Amount        json.Number `json:"amount"`
	DepositorName string      `json:"depositor_name"`
	DepositedAt   int64       `json:"deposited_at"`
}

type refPayment struct {
	ImpUID            string          `json:"imp_uid"`
	MerchantUID       string          `json:"merchant_uid"`
	PayMethod         string          `json:"pay_method"`
	Channel           string          `json:"channel"`
	PGProvider        string          `json:"pg_provider"`
	EmbPGProvider     string          `json:"emb_pg_provider"`
	PGTID             string          `json:"pg_tid"`
	PGID              string          `json:"pg_id"`
	Sandbox           bool            `json:"sandbox"`
	Escrow            bool            `json:"escrow"`
	ApplyNum          string          `json:"apply_num"`
	BankCode          string          `json:"bank_code"`
	BankName          string          `json:"bank_name"`
	CardCode          string          `json:"card_code"`
	CardName          string          `json:"card_name"`
	CardIssuerCode    string          `json:"card_issuer_code"`
	CardIssuerName    string          `json:"card_issuer_name"`
	CardPublisherCode string          `json:"card_publisher_code"`
	CardPublisherName string          `json:"card_publisher_name"`
	CardQuota         int             `json:"card_quota"`
	CardNumber        string          `json:"card_number"`
	CardType          *int            `json:"card_type"`
	VbankCode         string          `json:"vbank_code"`
	VbankName         string          `json:"vbank_name"`
	VbankNum          string          `json:"vbank_num"`
	VbankHolder       string          `json:"vbank_holder"`
	VbankDate         int64           `json:"vbank_date"`
	VbankIssuedAt     int64           `json:"vbank_issued_at"`
	Name              string          `json:"name"`
	Amount            json.Number     `json:"amount"`
	CancelAmount      json.Number     `json:"cancel_amount"`
	Currency          string          `json:"currency"`
	BuyerName         string          `json:"buyer_name"`
	BuyerEmail        string          `json:"buyer_email"`
	BuyerTel          string          `json:"buyer_tel"`
	BuyerAddr         string          `json:"buyer_addr"`
	BuyerPostcode     string          `json:"buyer_postcode"`
	CustomData        json.RawMessage `json:"custom_data"`
	UserAgent         string          `json:"user_agent"`
	Status            string          `json:"status"`
	StartedAt         int64           `json:"started_at"`
	PaidAt            int64           `json:"paid_at"`
	FailedAt          int64           `json:"failed_at"`
	CancelledAt       int64           `json:"cancelled_at"`
	FailReason        string          `json:"fail_reason"`
	CancelReason      string          `json:"cancel_reason"`
	ReceiptURL        string          `json:"receipt_url"`
	CancelHistory     []refCancel     `json:"cancel_history"`
	DepositHistory    []refDeposit    `json:"deposit_history"`
	CancelReceiptURLs []string        `json:"cancel_receipt_urls"`
	CashReceiptIssued bool            `json:"cash_receipt_issued"`
	CustomerUID       string          `json:"customer_uid"`
	CustomerUIDUsage  string          `json:"customer_uid_usage"`
	Promotion         json.RawMessage `json:"promotion"`
}

type refEnvelope struct {
	Code     *int        `json:"code"`
	Message  *string     `json:"message"`
	Response *refPayment `json:"response"`
}

// shapeEnvelope reads only the lists and objects of a payment: a type error
// here is a list or an object of the wrong shape, which the SDK refuses.
type shapeEnvelope struct {
	Response *struct {
		CancelHistory     []map[string]any `json:"cancel_history"`
		DepositHistory    []map[string]any `json:"deposit_history"`
		CancelReceiptURLs []any            `json:"cancel_receipt_urls"`
	} `json:"response"`
}

// lastTopLevel returns the raw value of the last top-level key that
// encoding/json would match to the field name (case-insensitively), read
// with the token API rather than struct decoding. ok is false when body is
// not a JSON object; found is false when it has no such key.
func lastTopLevel(body []byte, name string) (raw json.RawMessage, found, ok bool) {
	if !json.Valid(body) {
		return nil, false, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false, false
		}
		if strings.EqualFold(tok.(string), name) {
			raw, found = v, true
		}
	}
	return raw, found, true
}

// exactMinor is the exact value of the JSON number n in the minor unit of
// cur, by rational arithmetic. known is false for exponents too large to
// evaluate; integer says whether the value is a whole number of minor
// units, and v is that number when it fits in int64.
func exactMinor(n string, cur string) (v *big.Int, integer, known bool) {
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		e, err := strconv.Atoi(n[i+1:])
		if err != nil || e > 400 || e < -400 {
			return nil, false, false
		}
	}
	r, ok := new(big.Rat).SetString(n)
	if !ok {
		return nil, false, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(wire.Exponent(cur))), nil)))
	if !r.IsInt() {
		return nil, false, true
	}
	return r.Num(), true, true
}

var maxAmount = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil) // the SDK takes amounts below 10^18 minor units

// checkAmount compares the SDK's amount with the exact value of the
// reference's number. It returns whether this amount alone obliges the SDK
// to succeed (an exact, in-range amount with a reasonable exponent), and
// fails t when the SDK succeeded with another value or despite a fraction.
func checkAmount(t *testing.T, field string, n json.Number, cur string, got int64, sdkOK bool) (mustAccept bool) {
	t.Helper()
	if n == "" {
		if sdkOK && got != 0 {
			t.Fatalf("%s: absent amount read as %d", field, got)
		}
		return true
	}
	want, integer, known := exactMinor(string(n), cur)
	if !known {
		return false
	}
	if !integer {
		if sdkOK {
			t.Fatalf("%s: %s is not a whole amount of %q, yet the SDK read %d", field, n, cur, got)
		}
		return false
	}
	if sdkOK && (!want.IsInt64() || want.Int64() != got) {
		t.Fatalf("%s: %s %q read as %d, exactly %v", field, n, cur, got, want)
	}
	if new(big.Int).Abs(want).Cmp(maxAmount) >= 0 {
		return false
	}
	if i := strings.IndexAny(string(n), "eE"); i >= 0 {
		e, _ := strconv.Atoi(string(n)[i+1:])
		return e >= -30 && e <= 30
	}
	return true
}

// wantTime is UNIX seconds sec as the API means them: 0 is no time.
func wantTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func checkTime(t *testing.T, field string, sec int64, got time.Time) {
	t.Helper()
	if !got.Equal(wantTime(sec)) {
		t.Fatalf("%s: %d read as %v", field, sec, got)
	}
}

// wantText is custom_data as the SDK documents it: a string's text, the
// JSON text of any other value, "" for null or absent.
func wantText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	return string(raw)
}

func fuzzSeedFiles(f *testing.F, names ...string) {
	f.Helper()
	for _, name := range names {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
}

// FuzzDecodeEnvelope feeds arbitrary bytes as a 200 body through the one
// decode path (decodeResponse into paymentWire, then toPayment) and checks
// it against encoding/json: success only for valid JSON whose last code is
// 0; a body that is not an object with a numeric code is a *DecodeError; a
// non-zero code is an *APIError carrying it; a list or object of the wrong
// shape is refused; and where plain encoding/json reads every field of the
// reference Payment without error, the SDK succeeds (given exact, in-range
// amounts) and agrees with it field by field, amounts exactly.
func FuzzDecodeEnvelope(f *testing.F) {
	fuzzSeedFiles(f, "payment_card_cancelled.json", "payment_paypal_usd.json", "payment_vbank_paid.json",
		"billing_key.json", "schedule_scheduled.json", "schedule_executed_failed.json")
	// The crashers (with their fixes) are in testdata/fuzz/FuzzDecodeEnvelope.
	for _, s := range []string{
		`{"code":0,"message":null,"response":{"imp_uid":"imp_1","merchant_uid":"m","amount":1004,"status":"paid","paid_at":1700000000}}`,
		`{"code":0,"response":{"amount":"1004","currency":"KRW","custom_data":{"a":[1]}}}`,
		`{"code":0,"response":{"amount":10.5,"currency":"KRW"}}`,
		`{"code":0,"response":{"amount":10.25,"currency":"usd","cancel_history":[{"amount":0.25}]}}`,
		`{"code":0,"response":{"imp_uid":"a"},"Response":{"merchant_uid":"b"}}`,
		`{"code":1,"message":"no","response":null}`,
		`{"CODE":"0","response":{}}`,
		`{"code":0,"code":null,"response":{}}`,
		`{"code":0.0,"response":{}}`,
		`{"response":{}}`, `[]`, `null`, `0`, `{"code":0}`, `{"code":0,"response":{"amount":1e400}}`,
		`{"code":0,"response":{"amount":1004,"card_type":1,"promotion":{"id":1},"custom_data":"\u00e9"}}`,
	} {
		f.Add([]byte(s))
	}
	c, err := NewClient("k", "s")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		var w paymentWire
		err := c.decodeResponse(resp, &request{method: "GET", path: "/payments/x"}, &w)
		var p *Payment
		if err == nil {
			p, err = w.toPayment()
			if err == nil && p == nil {
				t.Fatal("toPayment: nil payment and no error")
			}
		}
		sdkOK := err == nil

		// The envelope's code, read with the token API.
		codeRaw, hasCode, isObject := lastTopLevel(body, "code")
		numericCode, responses := false, 0
		if isObject {
			// Is any key matching "code" a number? (Earlier duplicates may
			// have set the field.)
			dec := json.NewDecoder(bytes.NewReader(body))
			_, _ = dec.Token()
			for dec.More() {
				tok, _ := dec.Token()
				var v json.RawMessage
				_ = dec.Decode(&v)
				if strings.EqualFold(tok.(string), "code") && len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
					numericCode = true
				}
				if strings.EqualFold(tok.(string), "response") {
					responses++
				}
			}
		}
		if sdkOK && !json.Valid(body) {
			t.Fatalf("decoded a body encoding/json refuses: %q", body)
		}
		if !isObject || !numericCode {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("not an object with a numeric code, yet %v: %q", err, body)
			}
			return
		}
		if hasCode {
			if code, perr := strconv.ParseInt(string(codeRaw), 10, 64); perr == nil {
				var ae *APIError
				switch {
				case code != 0 && (!errors.As(err, &ae) || int64(ae.Code) != code || ae.StatusCode != 200):
					t.Fatalf("code %d: want an *APIError with it, got %v: %q", code, err, body)
				case code != 0:
					return
				}
			} else if sdkOK {
				t.Fatalf("last code %s is not the integer 0, yet decoded: %q", codeRaw, body)
			}
		}

		// A list or an object of the wrong shape is an error.
		var shape shapeEnvelope
		var te *json.UnmarshalTypeError
		if serr := json.Unmarshal(body, &shape); errors.As(serr, &te) && (te.Field == "response" || strings.HasPrefix(te.Field, "response.")) && sdkOK {
			t.Fatalf("a list or object of the wrong shape (%v) was decoded: %q", serr, body)
		}

		// Against plain encoding/json, where it reads every field.
		var ref refEnvelope
		if json.Unmarshal(body, &ref) != nil || ref.Code == nil || *ref.Code != 0 || ref.Response == nil {
			return
		}
		r := ref.Response
		cur := r.Currency
		var got Payment
		if sdkOK {
			got = *p
		}
		must := checkAmount(t, "amount", r.Amount, cur, got.Amount, sdkOK)
		must = checkAmount(t, "cancel_amount", r.CancelAmount, cur, got.CancelAmount, sdkOK) && must
		for i, h := range r.CancelHistory {
			var g int64
			if sdkOK && i < len(got.CancelHistory) {
				g = got.CancelHistory[i].Amount
			}
			must = checkAmount(t, "cancel_history.amount", h.Amount, cur, g, sdkOK) && must
		}
		for i, d := range r.DepositHistory {
			var g int64
			if sdkOK && i < len(got.DepositHistory) {
				g = got.DepositHistory[i].Amount
			}
			must = checkAmount(t, "deposit_history.amount", d.Amount, cur, g, sdkOK) && must
		}
		if !sdkOK {
			// One response (the SDK refuses a repeated one, which
			// encoding/json would merge or replace).
			if must && responses == 1 {
				t.Fatalf("encoding/json reads every field and the amounts are exact, yet %v: %q", err, body)
			}
			return
		}

		strs := map[string][2]string{
			"imp_uid": {r.ImpUID, got.ImpUID}, "merchant_uid": {r.MerchantUID, got.MerchantUID}, "pay_method": {r.PayMethod, got.PayMethod},
			"channel": {r.Channel, got.Channel}, "pg_provider": {r.PGProvider, got.PGProvider}, "emb_pg_provider": {r.EmbPGProvider, got.EmbPGProvider},
			"pg_tid": {r.PGTID, got.PGTID}, "pg_id": {r.PGID, got.PGID}, "apply_num": {r.ApplyNum, got.ApplyNum},
			"bank_code": {r.BankCode, got.BankCode}, "bank_name": {r.BankName, got.BankName}, "card_code": {r.CardCode, got.CardCode},
			"card_name": {r.CardName, got.CardName}, "card_issuer_code": {r.CardIssuerCode, got.CardIssuerCode},
			"card_issuer_name": {r.CardIssuerName, got.CardIssuerName}, "card_publisher_code": {r.CardPublisherCode, got.CardPublisherCode},
			"card_publisher_name": {r.CardPublisherName, got.CardPublisherName}, "card_number": {r.CardNumber, got.CardNumber},
			"vbank_code": {r.VbankCode, got.VbankCode}, "vbank_name": {r.VbankName, got.VbankName}, "vbank_num": {r.VbankNum, got.VbankNum},
			"vbank_holder": {r.VbankHolder, got.VbankHolder}, "name": {r.Name, got.Name}, "currency": {r.Currency, got.Currency},
			"buyer_name": {r.BuyerName, got.BuyerName}, "buyer_email": {r.BuyerEmail, got.BuyerEmail}, "buyer_tel": {r.BuyerTel, got.BuyerTel},
			"buyer_addr": {r.BuyerAddr, got.BuyerAddr}, "buyer_postcode": {r.BuyerPostcode, got.BuyerPostcode},
			"custom_data": {wantText(r.CustomData), got.CustomData}, "user_agent": {r.UserAgent, got.UserAgent},
			"status": {r.Status, string(got.Status)}, "fail_reason": {r.FailReason, got.FailReason},
			"cancel_reason": {r.CancelReason, got.CancelReason}, "receipt_url": {r.ReceiptURL, got.ReceiptURL},
			"customer_uid": {r.CustomerUID, got.CustomerUID}, "customer_uid_usage": {r.CustomerUIDUsage, got.CustomerUIDUsage},
		}
		for k, v := range strs {
			if v[0] != v[1] {
				t.Fatalf("%s: encoding/json %q, SDK %q: %q", k, v[0], v[1], body)
			}
		}
		if r.Sandbox != got.Sandbox || r.Escrow != got.Escrow || r.CashReceiptIssued != got.CashReceiptIssued || r.CardQuota != got.CardQuota {
			t.Fatalf("bools or card_quota differ: %+v vs %+v: %q", r, got, body)
		}
		if (r.CardType == nil) != (got.CardType == nil) || r.CardType != nil && *r.CardType != *got.CardType {
			t.Fatalf("card_type: %v vs %v: %q", r.CardType, got.CardType, body)
		}
		checkTime(t, "vbank_date", r.VbankDate, got.VbankDate)
		checkTime(t, "vbank_issued_at", r.VbankIssuedAt, got.VbankIssuedAt)
		checkTime(t, "started_at", r.StartedAt, got.StartedAt)
		checkTime(t, "paid_at", r.PaidAt, got.PaidAt)
		checkTime(t, "failed_at", r.FailedAt, got.FailedAt)
		checkTime(t, "cancelled_at", r.CancelledAt, got.CancelledAt)
		if len(r.CancelHistory) != len(got.CancelHistory) || len(r.DepositHistory) != len(got.DepositHistory) {
			t.Fatalf("history lengths: %d/%d vs %d/%d: %q", len(r.CancelHistory), len(r.DepositHistory), len(got.CancelHistory), len(got.DepositHistory), body)
		}
		for i, h := range r.CancelHistory {
			g := got.CancelHistory[i]
			if h.PGTID != g.PGTID || h.Reason != g.Reason || h.CancellationID != g.CancellationID || h.ReceiptURL != g.ReceiptURL {
				t.Fatalf("cancel_history[%d]: %+v vs %+v", i, h, g)
			}
			checkTime(t, "cancel_history.cancelled_at", h.CancelledAt, g.CancelledAt)
		}
		for i, d := range r.DepositHistory {
			g := got.DepositHistory[i]
			if d.PGTID != g.PGTID || d.DepositorName != g.DepositorName {
				t.Fatalf("deposit_history[%d]: %+v vs %+v", i, d, g)
			}
			checkTime(t, "deposit_history.deposited_at", d.DepositedAt, g.DepositedAt)
		}
		if len(r.CancelReceiptURLs) != len(got.CancelReceiptURLs) || len(r.CancelReceiptURLs) > 0 && !reflect.DeepEqual(r.CancelReceiptURLs, got.CancelReceiptURLs) {
			t.Fatalf("cancel_receipt_urls: %q vs %q", r.CancelReceiptURLs, got.CancelReceiptURLs)
		}
		wantPromo := r.Promotion
		if string(wantPromo) == "null" {
			wantPromo = nil
		}
		if !bytes.Equal(wantPromo, got.Promotion) {
			t.Fatalf("promotion: %s vs %s", wantPromo, got.Promotion)
		}
	})
}
