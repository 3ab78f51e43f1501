package wire

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToMinorExact(t *testing.T) {
	cases := []struct {
		in   string
		cur  string
		want int64
	}{
		{"1004", "KRW", 1004},
		{"1004", "", 1004},
		{"1004.0", "KRW", 1004},
		{"10.5", "USD", 1050},
		{"10.50", "USD", 1050},
		{"0.01", "USD", 1},
		{"0.29", "USD", 29}, // 0.29*100 is 28.999… in float64
		{"1.005e3", "USD", 100500},
		{"1e3", "KRW", 1000},
		{"-5", "KRW", -5},
		{"0", "USD", 0},
		{"1.234", "KWD", 1234},
		{"999999999999", "KRW", 999999999999},
	}
	for _, c := range cases {
		got, err := ToMinor(Number(c.in), c.cur)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, "%s %s", c.in, c.cur)
	}
}

func TestToMinorRefusesWhatDoesNotFit(t *testing.T) {
	for _, c := range []struct{ in, cur string }{
		{"10.5", "KRW"}, {"0.001", "USD"}, {"1e-1", "JPY"}, {"99999999999999999999", "KRW"},
	} {
		_, err := ToMinor(Number(c.in), c.cur)
		assert.Error(t, err, "%s %s", c.in, c.cur)
	}
}

func TestFromMinorRoundTrips(t *testing.T) {
	cases := []struct {
		v    int64
		cur  string
		want string
	}{
		{1004, "KRW", "1004"}, {1050, "USD", "10.5"}, {1, "USD", "0.01"}, {100, "USD", "1"},
		{-1050, "USD", "-10.5"}, {0, "USD", "0"}, {1234, "KWD", "1.234"},
	}
	for _, c := range cases {
		got := FromMinor(c.v, c.cur)
		assert.Equal(t, c.want, string(got))
		back, err := ToMinor(Number(got), c.cur)
		require.NoError(t, err)
		assert.Equal(t, c.v, back)
	}
}

func TestNumberReadsNumericStringsOnly(t *testing.T) {
	var n Number
	for in, want := range map[string]int64{`"1004"`: 1004, `" 12 "`: 12, `1004`: 1004} {
		require.NoError(t, json.Unmarshal([]byte(in), &n))
		v, err := ToMinor(n, "KRW")
		require.NoError(t, err, in)
		assert.Equal(t, want, v, in)
	}
	for _, bad := range []string{`"1,004"`, `"ten"`, `""`, `true`, `{}`, `[1]`} {
		require.NoError(t, json.Unmarshal([]byte(bad), &n))
		_, err := ToMinor(n, "KRW")
		assert.Error(t, err, bad)
		_, err = ToTime(n)
		assert.Error(t, err, bad)
	}
	require.NoError(t, json.Unmarshal([]byte(`null`), &n))
	assert.Equal(t, Number(""), n)
	require.NoError(t, json.Unmarshal([]byte(`12.5`), &n))
	assert.Equal(t, Number("12.5"), n)
}

func TestUnix(t *testing.T) {
	var u Unix
	require.NoError(t, json.Unmarshal([]byte(`0`), &u))
	assert.True(t, time.Time(u).IsZero())
	require.NoError(t, json.Unmarshal([]byte(`null`), &u))
	assert.True(t, time.Time(u).IsZero())
	require.NoError(t, json.Unmarshal([]byte(`1700000000`), &u))
	assert.Equal(t, int64(1700000000), time.Time(u).Unix())
	require.NoError(t, json.Unmarshal([]byte(`"1700000000"`), &u), "a string holding the seconds")
	assert.Equal(t, int64(1700000000), time.Time(u).Unix())
	assert.Error(t, json.Unmarshal([]byte(`"yesterday"`), &u))
	b, err := json.Marshal(Unix{})
	require.NoError(t, err)
	assert.Equal(t, "0", string(b))
}

func FuzzToMinor(f *testing.F) {
	for _, s := range []string{"1004", "10.5", "1e3", "-0.01", "0.0000001", "1e30"} {
		f.Add(s, "USD")
		f.Add(s, "KRW")
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		var n Number
		if json.Unmarshal([]byte(s), &n) != nil || n == "" {
			return
		}
		v, err := ToMinor(n, cur)
		if err != nil {
			return
		}
		back, err := ToMinor(Number(FromMinor(v, cur)), cur)
		if err != nil || back != v {
			t.Fatalf("%s %s: %d round-trips to %d (%v)", s, cur, v, back, err)
		}
	})
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`:           "plain",
		`"with \"quotes\""`: `with "quotes"`,
		`"line\nbreak"`:     "line\nbreak",
		`"한국어"`:             "한국어",
		`{"plan":"pro"}`:    `{"plan":"pro"}`,
		`null`:              "",
		`12`:                "12",
	} {
		var tx Text
		require.NoError(t, json.Unmarshal([]byte(in), &tx), in)
		assert.Equal(t, want, string(tx), in)
	}
}
