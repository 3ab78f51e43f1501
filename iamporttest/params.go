package iamporttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// params is a request body read as JSON or as a form, with lenient accessors
// (the real API accepts both encodings).
type params struct {
	js   map[string]any
	form url.Values
}

var errBadBody = errors.New("malformed request body")

func parseParams(contentType string, body []byte) (params, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return params{form: url.Values{}}, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || (mt == "" && (body[0] == '{' || body[0] == '[')) || strings.HasSuffix(mt, "+json") {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || m == nil {
			return params{}, errBadBody
		}
		if _, err := dec.Token(); err != io.EOF { // one JSON value, nothing after it
			return params{}, errBadBody
		}
		return params{js: m}, nil
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return params{}, errBadBody
	}
	return params{form: v}, nil
}

func (p params) raw(k string) (any, bool) {
	if p.js != nil {
		v, ok := p.js[k]
		if !ok || v == nil {
			return nil, false
		}
		return v, true
	}
	if vs, ok := p.form[k]; ok && len(vs) > 0 {
		return vs[0], true
	}
	return nil, false
}

// str returns k as a string; objects and arrays are re-encoded as JSON (for
// custom_data).
func (p params) str(k string) string {
	v, ok := p.raw(k)
	if !ok {
		return ""
	}
	return anyString(v)
}

func anyString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// num returns the text of a numeric field (JSON number or string).
func (p params) num(k string) (string, bool) {
	v, ok := p.raw(k)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case json.Number:
		return x.String(), true
	case string:
		if strings.TrimSpace(x) == "" {
			return "", false
		}
		return x, true
	default:
		return "", true // present but not a number: callers reject ""
	}
}

func (p params) int64(k string) (int64, bool, error) {
	s, ok := p.num(k)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, true, errBadBody
		}
		n = int64(f)
	}
	return n, true, nil
}

func (p params) boolean(k string) bool {
	v, ok := p.raw(k)
	if !ok {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, _ := strconv.ParseBool(x)
		return b
	case json.Number:
		return x.String() != "0"
	}
	return false
}

// strs returns k as a list: a JSON array or single string, or repeated form
// values under k or k[] (and k[0], k[1], ...).
func (p params) strs(k string) []string {
	var out []string
	if p.js != nil {
		for _, key := range []string{k, k + "[]"} {
			v, ok := p.js[key]
			if !ok || v == nil {
				continue
			}
			switch x := v.(type) {
			case []any:
				for _, e := range x {
					out = append(out, anyString(e))
				}
			default:
				out = append(out, anyString(x))
			}
		}
		return out
	}
	out = append(out, p.form[k]...)
	out = append(out, p.form[k+"[]"]...)
	idx := regexp.MustCompile("^" + regexp.QuoteMeta(k) + `\[(\d+)\]$`)
	type kv struct {
		i int
		v string
	}
	var indexed []kv
	for key, vs := range p.form {
		if m := idx.FindStringSubmatch(key); m != nil && len(vs) > 0 {
			i, _ := strconv.Atoi(m[1])
			indexed = append(indexed, kv{i, vs[0]})
		}
	}
	sort.Slice(indexed, func(a, b int) bool { return indexed[a].i < indexed[b].i })
	for _, e := range indexed {
		out = append(out, e.v)
	}
	return out
}

// objects returns k as a list of objects: a JSON array of objects, or form
// keys k[N][field].
func (p params) objects(k string) ([]params, error) {
	if p.js != nil {
		v, ok := p.js[k]
		if !ok || v == nil {
			return nil, nil
		}
		arr, ok := v.([]any)
		if !ok {
			if s, isStr := v.(string); isStr {
				// a JSON-encoded array inside a string
				dec := json.NewDecoder(strings.NewReader(s))
				dec.UseNumber()
				var inner []any
				if err := dec.Decode(&inner); err != nil {
					return nil, errBadBody
				}
				arr = inner
			} else {
				return nil, errBadBody
			}
		}
		out := make([]params, 0, len(arr))
		for _, e := range arr {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, errBadBody
			}
			out = append(out, params{js: m})
		}
		return out, nil
	}
	re := regexp.MustCompile("^" + regexp.QuoteMeta(k) + `\[(\d+)\]\[([^\]]+)\]$`)
	byIdx := map[int]url.Values{}
	for key, vs := range p.form {
		m := re.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if byIdx[i] == nil {
			byIdx[i] = url.Values{}
		}
		byIdx[i][m[2]] = vs
	}
	if len(byIdx) == 0 {
		if s := p.form.Get(k); s != "" {
			return params{js: map[string]any{k: s}}.objects(k)
		}
		return nil, nil
	}
	idxs := make([]int, 0, len(byIdx))
	for i := range byIdx {
		idxs = append(idxs, i)
	}
	sort.Ints(idxs)
	out := make([]params, 0, len(idxs))
	for _, i := range idxs {
		out = append(out, params{form: byIdx[i]})
	}
	return out, nil
}

// queryList returns the repeated query values of k[] (and k).
func queryList(q url.Values, k string) []string {
	out := append([]string(nil), q[k+"[]"]...)
	return append(out, q[k]...)
}
