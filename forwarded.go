package iamport

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// This file finds a webhook's source address for the allow-list: the
// connection's peer, or, when the peer is a trusted proxy
// (WithTrustedProxies), the address the proxies recorded in Forwarded
// (RFC 7239), X-Forwarded-For or X-Real-IP.

const (
	hdrForwarded     = "Forwarded"
	hdrXForwardedFor = "X-Forwarded-For"
	hdrXRealIP       = "X-Real-Ip" // canonical form of X-Real-IP
)

// fwdElement is one forwarded-element of a Forwarded header: the value of
// its for= parameter (unquoted), and whether it has one.
type fwdElement struct {
	forNode string
	hasFor  bool
}

// parseForwarded parses the lines of a Forwarded header (RFC 7239 section
// 4; several lines are one comma-separated list). Parameter names are
// case-insensitive; a value is a token or a quoted-string; a parameter
// given twice in one element, a value that is neither, or a list without
// any element makes the whole header invalid (ok false). Optional
// whitespace is accepted around ',' and ';'. Empty list elements are
// skipped (RFC 9110 section 5.6.1).
func parseForwarded(lines []string) (elems []fwdElement, ok bool) {
	s := strings.Join(lines, ",")
	i := 0
	skipOWS := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	for {
		skipOWS()
		if i == len(s) {
			break
		}
		if s[i] == ',' {
			i++
			continue
		}
		var el fwdElement
		var names map[string]struct{} // a parameter may appear once per element
		for {
			skipOWS()
			if i < len(s) && s[i] != ';' && s[i] != ',' {
				start := i
				for i < len(s) && isTchar(s[i]) {
					i++
				}
				name := strings.ToLower(s[start:i])
				if name == "" || i == len(s) || s[i] != '=' {
					return nil, false
				}
				i++
				var value string
				if i < len(s) && s[i] == '"' {
					v, n, ok := readQuoted(s[i:])
					if !ok {
						return nil, false
					}
					value, i = v, i+n
				} else {
					start := i
					for i < len(s) && isTchar(s[i]) {
						i++
					}
					if i == start {
						return nil, false
					}
					value = s[start:i]
				}
				if _, dup := names[name]; dup {
					return nil, false
				}
				if names == nil {
					names = make(map[string]struct{}, 4)
				}
				names[name] = struct{}{}
				if name == "for" {
					el.forNode, el.hasFor = value, true
				}
			}
			skipOWS()
			if i == len(s) || s[i] == ',' {
				break
			}
			if s[i] != ';' {
				return nil, false
			}
			i++
		}
		elems = append(elems, el)
		if i < len(s) {
			i++ // the ','
		}
	}
	return elems, len(elems) > 0
}

// isTchar reports whether c may appear in an RFC 9110 token.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// readQuoted reads the quoted-string at the start of s, returning its
// unescaped text and the bytes it used.
func readQuoted(s string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, true
		case c == '\\':
			i++
			if i == len(s) || !(s[i] == '\t' || s[i] >= 0x20 && s[i] != 0x7f) {
				return "", 0, false
			}
			b.WriteByte(s[i])
		case c == '\t' || c >= 0x20 && c != 0x7f:
			b.WriteByte(c)
		default:
			return "", 0, false
		}
	}
	return "", 0, false
}

// nodeKind is what a node names.
type nodeKind int

const (
	nodeBad     nodeKind = iota // not a node
	nodeAddr                    // an IP address
	nodeUnknown                 // "unknown" or an obfuscated identifier ("_hidden")
)

// parseForwardedNode parses an RFC 7239 node (section 6): an IPv4 address,
// a bracketed IPv6 address, "unknown" or an obfuscated identifier, each
// with an optional port (digits, or an obfuscated port).
func parseForwardedNode(node string) (netip.Addr, nodeKind) {
	host, port := node, ""
	if strings.HasPrefix(node, "[") {
		end := strings.IndexByte(node, ']')
		if end < 0 {
			return netip.Addr{}, nodeBad
		}
		host, port = node[1:end], node[end+1:]
		if port != "" {
			if port[0] != ':' {
				return netip.Addr{}, nodeBad
			}
			port = port[1:]
			if !validNodePort(port) {
				return netip.Addr{}, nodeBad
			}
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, nodeBad
		}
		return a.Unmap(), nodeAddr
	}
	if i := strings.IndexByte(node, ':'); i >= 0 {
		host, port = node[:i], node[i+1:]
		if !validNodePort(port) {
			return netip.Addr{}, nodeBad
		}
	}
	switch {
	case strings.EqualFold(host, "unknown"), isObfuscated(host):
		return netip.Addr{}, nodeUnknown
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() {
		return netip.Addr{}, nodeBad
	}
	return a, nodeAddr
}

func validNodePort(p string) bool {
	if isObfuscated(p) {
		return true
	}
	if len(p) == 0 || len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// isObfuscated reports whether s is "_" 1*(ALPHA / DIGIT / "." / "_" / "-").
func isObfuscated(s string) bool {
	if len(s) < 2 || s[0] != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// forwardedChain is the addresses a header lists, client first; an
// invalid Addr stands for a hop that did not disclose its address
// ("unknown", an obfuscated identifier, an element without for=). ok is
// false when the header is malformed.
func forwardedChain(name string, lines []string) (chain []netip.Addr, ok bool) {
	if name == hdrForwarded {
		elems, ok := parseForwarded(lines)
		if !ok {
			return nil, false
		}
		for _, el := range elems {
			if !el.hasFor {
				chain = append(chain, netip.Addr{})
				continue
			}
			a, kind := parseForwardedNode(el.forNode)
			if kind == nodeBad {
				return nil, false
			}
			chain = append(chain, a)
		}
		return chain, true
	}
	// X-Forwarded-For, X-Real-IP and other headers a proxy may use: a
	// comma-separated list of addresses, each optionally with a port.
	for _, line := range lines {
		for _, f := range strings.Split(line, ",") {
			f = strings.Trim(f, " \t")
			if f == "" {
				continue
			}
			if strings.EqualFold(f, "unknown") {
				chain = append(chain, netip.Addr{})
				continue
			}
			a, ok := parseHostAddr(f)
			if !ok {
				return nil, false
			}
			chain = append(chain, a)
		}
	}
	return chain, len(chain) > 0
}

// parseHostAddr reads "1.2.3.4", "1.2.3.4:5678", "::1" or "[::1]:5678".
func parseHostAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parsePeerAddr reads RemoteAddr ("1.2.3.4:5678", "[fe80::1%eth0]:5678"),
// dropping an IPv6 zone.
func parsePeerAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// sourceAddr is the request's source address for the allow-list:
//
//   - the peer (RemoteAddr), unless it is a trusted proxy;
//   - for a trusted peer, each forwarding header present (only the one
//     named by WithTrustedProxyHeader, if set) is walked from the right
//     past trusted hops: the first untrusted address is the source. A hop
//     that hides its address, a malformed header, or two headers that name
//     different sources make the source unknown (ok false): refused.
//   - a trusted peer with no forwarding header is the source itself.
func (cfg *webhookConfig) sourceAddr(r *http.Request) (netip.Addr, bool) {
	peer, ok := parsePeerAddr(r.RemoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if !cfg.trustedProxy(peer) {
		return peer, true
	}
	names := []string{hdrForwarded, hdrXForwardedFor, hdrXRealIP}
	if cfg.proxyHeader != "" {
		names = []string{cfg.proxyHeader}
	}
	var src netip.Addr
	found := false
	for _, name := range names {
		lines := r.Header.Values(name)
		if len(lines) == 0 {
			continue
		}
		chain, ok := forwardedChain(name, lines)
		if !ok {
			return netip.Addr{}, false
		}
		s, ok := cfg.walk(chain)
		if !ok || found && s != src {
			return netip.Addr{}, false
		}
		src, found = s, true
	}
	if !found {
		return peer, true
	}
	return src, true
}

// walk returns the first address from the right of chain that is not a
// trusted proxy (the leftmost one when all are).
func (cfg *webhookConfig) walk(chain []netip.Addr) (netip.Addr, bool) {
	for i := len(chain) - 1; i >= 0; i-- {
		a := chain[i]
		if !a.IsValid() {
			return netip.Addr{}, false
		}
		if !cfg.trustedProxy(a) || i == 0 {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func (cfg *webhookConfig) trustedProxy(a netip.Addr) bool {
	for _, p := range cfg.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
