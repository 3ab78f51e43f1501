package wire

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

// zeroSec is the UNIX second of Go's zero time (0001-01-01 UTC): the codec
// uses the zero time for 0, so this one second reads back as 0.
const zeroSec = -62135596800

// FuzzTimeCodec: for every int64 second, its JSON forms (number, string,
// padded string) read through Unix and ToTime as time.Unix(sec, 0) and
// Seconds and MarshalJSON give sec back (0, and the second of the zero time,
// are the zero time); 0 and null are the zero time; arbitrary bytes never
// panic, and what decodes re-encodes to the same time. A fraction is cut
// off (to within the second float64 rounding may add, below 2^53).
func FuzzTimeCodec(f *testing.F) {
	for _, s := range []int64{0, 1, -1, 1700000000, zeroSec, zeroSec - 1, 1 << 62, -1 << 63, 1<<63 - 1} {
		f.Add(s, strconv.FormatInt(s, 10))
	}
	for _, s := range []string{"null", "0", "-0", "0.0", "0e5", `"0"`, `" 12 "`, "1.9", "-1.9", "1e9", "1.5e300", "1.9999999999999999999", `"x"`, "{}", "[1]", "true", `"`, ""} {
		f.Add(int64(1700000000), s)
	}
	f.Fuzz(func(t *testing.T, sec int64, raw string) {
		want := time.Time{}
		if sec != 0 {
			want = time.Unix(sec, 0)
		}
		if Time(sec) != want {
			t.Fatalf("Time(%d) = %v, want %v", sec, Time(sec), want)
		}
		wantSec := sec
		if sec == zeroSec {
			wantSec = 0
		}
		n := strconv.FormatInt(sec, 10)
		for _, form := range []string{n, `"` + n + `"`, `" ` + n + ` "`} {
			var u Unix
			if err := json.Unmarshal([]byte(form), &u); err != nil || !time.Time(u).Equal(want) {
				t.Fatalf("Unix %s: %v, %v; want %v", form, time.Time(u), err, want)
			}
			var num Number
			if err := json.Unmarshal([]byte(form), &num); err != nil {
				t.Fatal(err)
			}
			got, err := ToTime(num)
			if err != nil || !got.Equal(want) || got.IsZero() != (wantSec == 0) {
				t.Fatalf("ToTime %s: %v, %v; want %v", form, got, err, want)
			}
			if s := Seconds(got); s != wantSec {
				t.Fatalf("Seconds(ToTime(%s)) = %d, want %d", form, s, wantSec)
			}
			b, err := u.MarshalJSON()
			if err != nil || string(b) != strconv.FormatInt(wantSec, 10) {
				t.Fatalf("Unix(%s).MarshalJSON = %s, %v", form, b, err)
			}
		}

		// Arbitrary bytes.
		var u Unix
		uerr := u.UnmarshalJSON([]byte(raw))
		var num Number
		_ = num.UnmarshalJSON([]byte(raw))
		tt, terr := ToTime(num)
		if (uerr == nil) != (terr == nil) || uerr == nil && !time.Time(u).Equal(tt) {
			t.Fatalf("%q: Unix %v, %v; ToTime %v, %v", raw, time.Time(u), uerr, tt, terr)
		}
		if strings.TrimSpace(raw) == "null" || strings.TrimSpace(raw) == "" {
			if uerr != nil || !time.Time(u).IsZero() {
				t.Fatalf("%q: %v, %v; want the zero time", raw, time.Time(u), uerr)
			}
		}
		if uerr != nil {
			return
		}
		b, err := u.MarshalJSON()
		var back Unix
		if err != nil || back.UnmarshalJSON(b) != nil || !time.Time(back).Equal(time.Time(u)) {
			t.Fatalf("%q: %v re-encodes as %s, reads back as %v", raw, time.Time(u), b, time.Time(back))
		}
		// The value, exactly, cut to whole seconds: exact for integers;
		// within a second for fractions below 2^53, where float64 keeps
		// every second.
		s := string(num)
		if s == "" {
			return
		}
		if i := strings.IndexAny(s, "eE"); i >= 0 {
			if e, err := strconv.Atoi(s[i+1:]); err != nil || e > 400 || e < -400 {
				return
			}
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("%q accepted as %q, not a number", raw, s)
		}
		cut := new(big.Int).Quo(r.Num(), r.Denom()) // truncated toward zero
		got := big.NewInt(Seconds(time.Time(u)))
		exact := !strings.ContainsAny(s, ".eE")
		if !cut.IsInt64() || cut.Int64() == zeroSec || !exact && cut.CmpAbs(big.NewInt(1<<53)) >= 0 {
			return
		}
		diff := new(big.Int).Sub(got, cut)
		if exact && diff.Sign() != 0 || diff.CmpAbs(big.NewInt(1)) > 0 {
			t.Fatalf("%q read as second %v; the value cut is %v", raw, got, cut)
		}
	})
}
