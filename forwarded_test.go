package iamport

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseForwarded(t *testing.T) {
	t.Parallel()
	type el = fwdElement
	cases := []struct {
		in   string
		want []fwdElement // nil: invalid
	}{
		{`for=192.0.2.43`, []el{{"192.0.2.43", true}}},
		{`For="[2001:db8:cafe::17]:4711"`, []el{{"[2001:db8:cafe::17]:4711", true}}},
		{`for=192.0.2.60;proto=http;by=203.0.113.43`, []el{{"192.0.2.60", true}}},
		{`for=192.0.2.43, for=198.51.100.17`, []el{{"192.0.2.43", true}, {"198.51.100.17", true}}},
		{`for=192.0.2.43,for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com`, []el{{"192.0.2.43", true}, {"198.51.100.17", true}}},
		{`for=unknown`, []el{{"unknown", true}}},
		{`for=_hidden, for=_SEVKISEK`, []el{{"_hidden", true}, {"_SEVKISEK", true}}},
		{`proto=https`, []el{{"", false}}},
		{`for=1.2.3.4 ; proto=https , , for=5.6.7.8`, []el{{"1.2.3.4", true}, {"5.6.7.8", true}}},
		{`host="a,b;for=52.78.100.19";for=1.2.3.4`, []el{{"1.2.3.4", true}}},
		{`for="\"x\\y"`, []el{{`"x\y`, true}}},
		{`;`, []el{{"", false}}},
		// The attack of the review: for= inside another parameter's value.
		{`for=203.0.113.9;host=for=52.78.100.19`, nil},
		{`for=203.0.113.9;for=52.78.100.19`, nil}, // a parameter twice
		{`for=203.0.113.9;FOR=52.78.100.19`, nil},
		{`for=[::1]`, nil}, // IPv6 must be quoted
		{`for="1.2.3.4`, nil},
		{`for=`, nil},
		{`=1.2.3.4`, nil},
		{`for 1.2.3.4`, nil},
		{``, nil},
		{` , `, nil},
		{"for=\"a\x00\"", nil},
	}
	for _, tc := range cases {
		got, ok := parseForwarded([]string{tc.in})
		if tc.want == nil {
			assert.False(t, ok, "%q gave %v", tc.in, got)
			continue
		}
		if assert.True(t, ok, tc.in) {
			assert.Equal(t, tc.want, got, tc.in)
		}
	}
	// Several lines are one list.
	got, ok := parseForwarded([]string{"for=1.2.3.4", "for=5.6.7.8;proto=https"})
	assert.True(t, ok)
	assert.Equal(t, []fwdElement{{"1.2.3.4", true}, {"5.6.7.8", true}}, got)
}

func TestParseForwardedNode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]struct {
		addr string
		kind nodeKind
	}{
		"192.0.2.43":               {"192.0.2.43", nodeAddr},
		"192.0.2.43:47011":         {"192.0.2.43", nodeAddr},
		"192.0.2.43:_port":         {"192.0.2.43", nodeAddr},
		"[2001:db8:cafe::17]":      {"2001:db8:cafe::17", nodeAddr},
		"[2001:db8:cafe::17]:4711": {"2001:db8:cafe::17", nodeAddr},
		"[::ffff:52.78.100.19]":    {"52.78.100.19", nodeAddr},
		"unknown":                  {"", nodeUnknown},
		"UNKNOWN:80":               {"", nodeUnknown},
		"_hidden":                  {"", nodeUnknown},
		"_a.b-c_d:_e":              {"", nodeUnknown},
		"2001:db8::1":              {"", nodeBad}, // unbracketed IPv6
		"[192.0.2.43]":             {"", nodeBad},
		"[fe80::1%eth0]":           {"", nodeBad},
		"192.0.2.43:123456":        {"", nodeBad},
		"192.0.2.43:":              {"", nodeBad},
		"[::1]4711":                {"", nodeBad},
		"_":                        {"", nodeBad},
		"_a b":                     {"", nodeBad},
		"192.0.2.043":              {"", nodeBad},
		"localhost":                {"", nodeBad},
		"":                         {"", nodeBad},
	} {
		a, kind := parseForwardedNode(in)
		assert.Equal(t, want.kind, kind, in)
		if want.kind == nodeAddr {
			assert.Equal(t, netip.MustParseAddr(want.addr), a, in)
		}
	}
}

func TestSourceAddr(t *testing.T) {
	t.Parallel()
	cfg := webhookConfig{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	req := func(remote string, hdr ...string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://example/webhook", nil)
		r.RemoteAddr = remote
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Add(hdr[i], hdr[i+1])
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string // "" = unknown
	}{
		{"untrusted peer", req("203.0.113.9:1", "X-Forwarded-For", "52.78.100.19"), "203.0.113.9"},
		{"trusted peer, no header", req("10.0.0.1:1"), "10.0.0.1"},
		{"v6 peer with zone", req("[fe80::1%eth0]:1"), "fe80::1"},
		{"trusted v6 peer", req("[fd00::5]:1", "X-Forwarded-For", "[2001:db8::9]:443"), "2001:db8::9"},
		{"walk past trusted hops", req("10.0.0.1:1", "X-Forwarded-For", "1.1.1.1, 2.2.2.2, 10.9.9.9"), "2.2.2.2"},
		{"all trusted: the leftmost", req("10.0.0.1:1", "X-Forwarded-For", "10.1.1.1, 10.2.2.2"), "10.1.1.1"},
		{"several XFF lines", req("10.0.0.1:1", "X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "2.2.2.2"), "2.2.2.2"},
		{"unknown hop before reaching untrusted", req("10.0.0.1:1", "X-Forwarded-For", "1.1.1.1, unknown"), ""},
		{"unknown hop past the source is not needed", req("10.0.0.1:1", "X-Forwarded-For", "unknown, 1.1.1.1"), "1.1.1.1"},
		{"Forwarded with ports", req("10.0.0.1:1", "Forwarded", `for="1.1.1.1:80", for="[fd00::7]:443"`), "1.1.1.1"},
		{"Forwarded without for= on the last hop", req("10.0.0.1:1", "Forwarded", `for=1.1.1.1, proto=https`), ""},
		{"Forwarded invalid", req("10.0.0.1:1", "Forwarded", `for=1.1.1.1;host=for=2.2.2.2`), ""},
		{"X-Real-IP", req("10.0.0.1:1", "X-Real-IP", "3.3.3.3"), "3.3.3.3"},
		{"headers agree", req("10.0.0.1:1", "X-Real-IP", "3.3.3.3", "X-Forwarded-For", "9.9.9.9, 3.3.3.3"), "3.3.3.3"},
		{"headers disagree", req("10.0.0.1:1", "X-Real-IP", "3.3.3.3", "Forwarded", "for=4.4.4.4"), ""},
		{"bad peer", req("not an address"), ""},
	} {
		a, ok := cfg.sourceAddr(tc.r)
		if tc.want == "" {
			assert.False(t, ok, "%s: %v", tc.name, a)
			continue
		}
		if assert.True(t, ok, tc.name) {
			assert.Equal(t, netip.MustParseAddr(tc.want), a, tc.name)
		}
	}
	// Without trusted proxies, headers are never read.
	var none webhookConfig
	a, ok := none.sourceAddr(req("10.0.0.1:1", "X-Forwarded-For", "52.78.100.19"))
	assert.True(t, ok)
	assert.Equal(t, netip.MustParseAddr("10.0.0.1"), a)
}

// ---- an independent RFC 7239 oracle, for FuzzForwarded ----
//
// It validates the whole field with one regular expression built from the
// RFC's ABNF (RFC 7239 section 4, RFC 9110 token and quoted-string, OWS
// around ',' and ';'), then splits it outside quoted strings.

var (
	orTchar   = "[!#$%&'*+.^_`|~0-9A-Za-z-]"
	orToken   = orTchar + "+"
	orQuoted  = `"(?:[\t !#-\[\]-~]|[^\x00-\x7f]|\\(?:[\t -~]|[^\x00-\x7f]))*"`
	orPair    = orToken + `=(?:` + orToken + `|` + orQuoted + `)`
	orElement = `(?:` + orPair + `)?(?:[ \t]*;[ \t]*(?:` + orPair + `)?)*`
	orMember  = `[ \t]*` + orElement + `[ \t]*`
	orFieldRE = regexp.MustCompile(`^` + orMember + `(?:,` + orMember + `)*$`)
	orPairRE  = regexp.MustCompile(`^(` + orToken + `)=(` + orToken + `|` + orQuoted + `)$`)
	orPieceRE = regexp.MustCompile(`(?:` + orQuoted + `|[^,;"])+|[,;]`)
	orUnescRE = regexp.MustCompile(`\\(.)`)
	orObf     = `_[A-Za-z0-9._-]+`
	orNodeRE  = regexp.MustCompile(`^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)|((?i)unknown)|(` + orObf + `))(?::(?:[0-9]{1,5}|` + orObf + `))?$`)
)

func oracleForwarded(s string) ([]fwdElement, bool) {
	if !orFieldRE.MatchString(s) {
		return nil, false
	}
	// Split into list members and their pairs, outside quoted strings.
	var members [][]string
	cur := []string{""}
	for _, piece := range orPieceRE.FindAllString(s, -1) {
		switch piece {
		case ",":
			members = append(members, cur)
			cur = []string{""}
		case ";":
			cur = append(cur, "")
		default:
			cur[len(cur)-1] += piece
		}
	}
	members = append(members, cur)
	var out []fwdElement
	for _, m := range members {
		if len(m) == 1 && strings.Trim(m[0], " \t") == "" {
			continue // an empty list member
		}
		var el fwdElement
		seen := map[string]bool{}
		for _, p := range m {
			p = strings.Trim(p, " \t")
			if p == "" {
				continue
			}
			sub := orPairRE.FindStringSubmatch(p)
			if sub == nil {
				return nil, false
			}
			name := strings.ToLower(sub[1])
			if seen[name] {
				return nil, false
			}
			seen[name] = true
			if name == "for" {
				v := sub[2]
				if strings.HasPrefix(v, `"`) {
					v = orUnescRE.ReplaceAllString(v[1:len(v)-1], "$1")
				}
				el = fwdElement{v, true}
			}
		}
		out = append(out, el)
	}
	return out, len(out) > 0
}

func oracleNode(node string) (netip.Addr, nodeKind) {
	m := orNodeRE.FindStringSubmatch(node)
	if m == nil {
		return netip.Addr{}, nodeBad
	}
	switch {
	case m[1] != "":
		ip := net.ParseIP(m[1])
		if ip == nil || !strings.Contains(m[1], ":") {
			return netip.Addr{}, nodeBad
		}
		a, _ := netip.AddrFromSlice(ip)
		return a.Unmap(), nodeAddr
	case m[2] != "":
		ip := net.ParseIP(m[2]).To4()
		if ip == nil {
			return netip.Addr{}, nodeBad
		}
		a, _ := netip.AddrFromSlice(ip)
		return a, nodeAddr
	}
	return netip.Addr{}, nodeUnknown
}

func TestOracleAgreesOnTheTable(t *testing.T) {
	t.Parallel()
	for _, s := range []string{`for=192.0.2.43, for="[2001:db8::1]:80";proto=https`, `for=1;host=for=2`, `host="a,b;for=c";for=_x`, ` , `, `;`} {
		w, wok := oracleForwarded(s)
		g, gok := parseForwarded([]string{s})
		assert.Equal(t, wok, gok, s)
		assert.Equal(t, w, g, s)
	}
}

func FuzzForwarded(f *testing.F) {
	for _, s := range []string{
		`for=192.0.2.43`, `For="[2001:db8:cafe::17]:4711"`, `for=192.0.2.60;proto=http;by=203.0.113.43`,
		`for=192.0.2.43, for=198.51.100.17`, `for=unknown`, `for=_hidden, for=_SEVKISEK`,
		`for=203.0.113.9;host=for=52.78.100.19`, `host="a,b;for=1.2.3.4";for=5.6.7.8`, `for="\"x\\y"`,
		`for="[::ffff:1.2.3.4]"`, `for="1.2.3.4:_p"`, " , ;", `for="é"`, "for=\"\xff\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gok := parseForwarded([]string{s})
		want, wok := oracleForwarded(s)
		if gok != wok || (gok && !slices.Equal(got, want)) {
			t.Fatalf("parseForwarded(%q) = %v, %v; oracle %v, %v", s, got, gok, want, wok)
		}
		// The node grammar, on the for= values and on the raw input.
		nodes := []string{s}
		for _, el := range got {
			nodes = append(nodes, el.forNode)
		}
		for _, n := range nodes {
			ga, gk := parseForwardedNode(n)
			wa, wk := oracleNode(n)
			if gk != wk || ga != wa {
				t.Fatalf("parseForwardedNode(%q) = %v, %v; oracle %v, %v", n, ga, gk, wa, wk)
			}
		}
		// Whatever the header, the source is the peer, an address the
		// header names, or unknown; never something else.
		cfg := webhookConfig{trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
		r := &http.Request{RemoteAddr: "127.0.0.1:1", Header: http.Header{"Forwarded": {s}}}
		if a, ok := cfg.sourceAddr(r); ok {
			named := a == netip.MustParseAddr("127.0.0.1")
			for _, el := range got {
				if na, k := parseForwardedNode(el.forNode); k == nodeAddr && na == a {
					named = true
				}
			}
			if !named {
				t.Fatalf("source %v for %q is neither the peer nor named", a, s)
			}
		}
	})
}

// oracleXFF reads an X-Forwarded-For list with net.ParseIP and
// net.SplitHostPort (an implementation independent of parseHostAddr).
func oracleXFF(s string) ([]netip.Addr, bool) {
	var out []netip.Addr
	for _, f := range strings.Split(s, ",") {
		f = strings.Trim(f, " \t")
		switch {
		case f == "":
			continue
		case strings.EqualFold(f, "unknown"):
			out = append(out, netip.Addr{})
			continue
		}
		host := f
		if h, _, err := net.SplitHostPort(f); err == nil {
			host = h
		} else if len(f) > 2 && f[0] == '[' && f[len(f)-1] == ']' {
			host = f[1 : len(f)-1]
		}
		if strings.Contains(host, "%") {
			return nil, false
		}
		ip := net.ParseIP(host)
		if ip == nil {
			return nil, false
		}
		a, _ := netip.AddrFromSlice(ip)
		if v4 := ip.To4(); v4 != nil && !strings.Contains(host, ":") {
			a, _ = netip.AddrFromSlice(v4)
		}
		out = append(out, a.Unmap())
	}
	return out, len(out) > 0
}

func FuzzXForwardedFor(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "203.0.113.9, 52.78.100.19", "[2001:db8::1]:443, unknown", "1.2.3.4:80", "::ffff:1.2.3.4", "fe80::1%eth0", " , ,1.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gok := forwardedChain(hdrXForwardedFor, []string{s})
		want, wok := oracleXFF(s)
		if gok != wok || gok && !slices.Equal(got, want) {
			t.Fatalf("forwardedChain(%q) = %v, %v; oracle %v, %v", s, got, gok, want, wok)
		}
	})
}

// TestParseForwardedLargeIsLinear: a header as large as a server accepts
// (1 MB) is parsed in linear time, whatever its shape.
func TestParseForwardedLargeIsLinear(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "p%d=v;", i)
	}
	pairs := b.String() + "for=1.2.3.4"
	start := time.Now()
	els, ok := parseForwarded([]string{pairs})
	require.True(t, ok)
	require.Len(t, els, 1)
	assert.Equal(t, "1.2.3.4", els[0].forNode)
	list := strings.Repeat("for=1.2.3.4, ", 1<<20/13)
	els, ok = parseForwarded([]string{list})
	require.True(t, ok)
	assert.Len(t, els, 1<<20/13)
	// Generous for a loaded machine; a quadratic parser takes minutes.
	assert.Less(t, time.Since(start), 20*time.Second)
}

func TestMappedPrefixes(t *testing.T) {
	t.Parallel()
	var cfg webhookConfig
	WithTrustedProxies(netip.MustParsePrefix("::ffff:10.0.0.0/104"))(&cfg)
	WithAllowedIPs(netip.MustParsePrefix("::ffff:52.78.100.19/128"))(&cfg)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, cfg.trusted)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("52.78.100.19/32")}, cfg.allowed)
	r, _ := http.NewRequest(http.MethodPost, "http://example/webhook", nil)
	r.RemoteAddr = "10.1.2.3:1"
	r.Header.Set("X-Forwarded-For", "52.78.100.19")
	a, ok := cfg.sourceAddr(r)
	assert.True(t, ok)
	assert.Equal(t, netip.MustParseAddr("52.78.100.19"), a)
}
