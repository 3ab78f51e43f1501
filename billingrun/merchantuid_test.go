package billingrun_test

import (
	"crypto/sha256"
	"encoding/base32"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/billingkr/iamport-go/billingrun"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMerchantUIDVector(t *testing.T) {
	t.Parallel()
	// Pinned: changing the rule would re-charge every customer whose batch
	// is re-run across the change.
	got, err := billingrun.MerchantUID("bill", "cust_1", "2026-11")
	require.NoError(t, err)
	assert.Equal(t, "bill_aqydoiaqa2yz3bkjs2irh34yhn", got)

	def, err := billingrun.MerchantUID("", "cust_1", "2026-11")
	require.NoError(t, err)
	assert.Equal(t, got, def, "empty prefix is DefaultPrefix")
}

// TestMerchantUIDRule recomputes the documented rule independently.
func TestMerchantUIDRule(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[A-Za-z0-9-]{1,8}_[a-z2-7]{26}$`)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for _, tc := range []struct{ prefix, cuid, period string }{
		{"bill", "cust_1", "2026-11"},
		{"ABCDEFGH", strings.Repeat("고객", 40), "2026-11/sub_42"},
		{"x", "c", "p"},
		{"my-app", "user@example.com", "2026-W48"},
	} {
		got, err := billingrun.MerchantUID(tc.prefix, tc.cuid, tc.period)
		require.NoError(t, err)
		sum := sha256.Sum256([]byte("billingrun/v1\x00" + tc.prefix + "\x00" + tc.cuid + "\x00" + tc.period))
		want := tc.prefix + "_" + strings.ToLower(enc.EncodeToString(sum[:]))[:26]
		assert.Equal(t, want, got)
		assert.Regexp(t, valid, got)
		assert.LessOrEqual(t, len(got), 40)
		again, _ := billingrun.MerchantUID(tc.prefix, tc.cuid, tc.period)
		assert.Equal(t, got, again, "deterministic")
	}
}

func TestMerchantUIDDistinct(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	add := func(prefix, cuid, period string) {
		u, err := billingrun.MerchantUID(prefix, cuid, period)
		require.NoError(t, err)
		key := prefix + "|" + cuid + "|" + period
		if prev, ok := seen[u]; ok {
			t.Fatalf("%q and %q share merchant_uid %s", prev, key, u)
		}
		seen[u] = key
	}
	// Field boundaries cannot be shifted to forge another pair.
	add("p", "a|b", "c")
	add("p", "a", "b|c")
	add("p", "ab", "c")
	add("p", "a", "bc")
	add("q", "a", "bc")
	for i := range 20000 {
		add("bill", "cust_"+strconv.Itoa(i), "2026-11")
	}
}

func TestMerchantUIDInvalid(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ prefix, cuid, period string }{
		"prefix too long":     {"ninechars", "c", "p"},
		"prefix underscore":   {"a_b", "c", "p"},
		"prefix non-ascii":    {"청구", "c", "p"},
		"empty customer":      {"bill", "", "p"},
		"blank customer":      {"bill", "  ", "p"},
		"customer too long":   {"bill", strings.Repeat("c", 81), "p"},
		"customer control":    {"bill", "a\x00b", "p"},
		"empty period":        {"bill", "c", ""},
		"period control":      {"bill", "c", "2026\n11"},
		"period invalid utf8": {"bill", "c", "\xff"},
	} {
		_, err := billingrun.MerchantUID(tc.prefix, tc.cuid, tc.period)
		assert.Error(t, err, name)
	}
	u, err := billingrun.MerchantUID("bill", strings.Repeat("고", 80), "p")
	require.NoError(t, err, "80 characters (240 bytes) is allowed")
	assert.LessOrEqual(t, len(u), 40)
}
