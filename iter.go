package iamport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-querystring/query"
)

// pageList is one page of a paged list. The API documents its lists as bare
// arrays but answers with {total, previous, next, list}: both decode, and a
// bare array is one page with no next one.
type pageList[T any] struct {
	Total    int
	Previous int
	Next     int // the next page's number; 0 on the last page
	List     []*T
}

type wirePageList[T any] struct {
	Total    int  `json:"total"`
	Previous int  `json:"previous"`
	Next     int  `json:"next"`
	List     []*T `json:"list"`
}

// UnmarshalJSON accepts the paged object and the bare array.
func (p *pageList[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []*T
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*p = pageList[T]{Total: len(list), List: list}
		return nil
	}
	var w wirePageList[T]
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = pageList[T](w)
	return nil
}

// fetchPage fetches page n (counted from 1) of a list and returns its items
// and the number of the page after it (0 or less: there is none).
type fetchPage[T any] func(ctx context.Context, page int) (items []*T, next int, err error)

// paginate walks a paged list lazily: a page is fetched only when the loop
// has consumed the one before and asks for more; breaking out of the loop
// fetches nothing more. The first error is yielded once and ends the walk.
// An empty page, or a next page number that does not move forward, ends it
// too, so a confused server cannot make it loop forever.
func paginate[T any](ctx context.Context, fetch fetchPage[T]) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for page := 1; ; {
			items, next, err := fetch(ctx, page)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, it := range items {
				if it == nil {
					continue
				}
				if !yield(it, nil) {
					return
				}
			}
			if len(items) == 0 || next <= page {
				return
			}
			page = next
		}
	}
}

// chain yields the sequences built for each window in turn, stopping at the
// first error (yielded once) or when the loop breaks. A window's sequence is
// built only when the loop reaches it.
func chain[T any](windows []window, seq func(w window) iter.Seq2[*T, error]) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for _, w := range windows {
			for v, err := range seq(w) {
				if !yield(v, err) || err != nil {
					return
				}
			}
		}
	}
}

// uniqueMemory is how many of the latest keys unique surely remembers. A
// repeat caused by insertions between two page fetches is at most a page
// (MaxListLimit items) behind the item it repeats.
const uniqueMemory = 2 * MaxListLimit

// unique drops items whose key was already yielded (an offset-paged list
// repeats an item when a new one is inserted before it between two page
// fetches). Items with an empty key are never dropped.
func unique[T any](seq iter.Seq2[*T, error], key func(*T) string) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		// Two generations of keys of up to uniqueMemory each: the latest
		// uniqueMemory keys are always remembered, and memory stays bounded
		// however long the list is.
		cur, prev := make(map[string]struct{}), map[string]struct{}(nil)
		for v, err := range seq {
			if err == nil {
				k := key(v)
				if k != "" {
					_, dup := cur[k]
					if !dup {
						_, dup = prev[k]
					}
					if dup {
						continue
					}
					if len(cur) >= uniqueMemory {
						cur, prev = make(map[string]struct{}, uniqueMemory), cur
					}
					cur[k] = struct{}{}
				}
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// errSeq is a sequence of one error: how iterators report bad input
// without sending anything.
func errSeq[T any](err error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) { yield(nil, err) }
}

// maxWindow is the longest range one list request covers. The API allows
// "3 months" (or 90 days); 89 days fits every reading of that.
const maxWindow = 89 * 24 * time.Hour

// window is a time range of one list request, in UNIX seconds.
type window struct{ from, to int64 }

// ascendingHalfOpen splits [from, to) into consecutive windows of at most
// maxWindow, oldest first, for endpoints whose `to` is exclusive: each
// window's to is the next one's from, so nothing is covered twice.
func ascendingHalfOpen(from, to int64) []window {
	step := int64(maxWindow / time.Second)
	var ws []window
	for f := from; f < to; f += step {
		ws = append(ws, window{from: f, to: min(f+step, to)})
	}
	return ws
}

// descendingClosed splits [from, to] into windows of at most maxWindow
// (to − from ≤ maxWindow), newest first, for endpoints whose `from` and
// `to` are both inclusive: each window ends one second before the next newer
// one begins, so no second is covered twice.
func descendingClosed(from, to int64) []window {
	step := int64(maxWindow / time.Second)
	var ws []window
	for t := to; t >= from; {
		f := max(from, t-step)
		ws = append(ws, window{from: f, to: t})
		t = f - 1
	}
	return ws
}

// floorUnix and ceilUnix are t in whole UNIX seconds, rounded down or up.
func floorUnix(t time.Time) int64 { return t.Unix() } // Unix rounds toward negative infinity

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() != 0 {
		s++
	}
	return s
}

// values encodes a tagged option struct as a query string
// (github.com/google/go-querystring), bracket arrays included.
func values(v any) (url.Values, error) {
	return query.Values(v)
}

// listPage fetches one page of a list endpoint and decodes either shape.
func listPage[T any](ctx context.Context, c *Client, path string, q any) ([]*T, int, error) {
	vals, err := values(q)
	if err != nil {
		return nil, 0, err
	}
	if _, isPayment := any((*T)(nil)).(*Payment); isPayment {
		// Payments decode through paymentWire: no UnmarshalJSON per element.
		var pl pageList[paymentWire]
		if err := c.do(ctx, &request{method: http.MethodGet, path: path, query: vals, retry: true}, &pl); err != nil {
			return nil, 0, err
		}
		out := make([]*T, len(pl.List))
		for i, w := range pl.List {
			if w == nil {
				continue
			}
			p, err := w.toPayment() // one each: a payment kept does not pin its page
			if err != nil {
				return nil, 0, &DecodeError{Method: http.MethodGet, Path: path, StatusCode: http.StatusOK, Err: fmt.Errorf("list[%d]: %w", i, err)}
			}
			out[i] = any(p).(*T)
		}
		return out, pl.Next, nil
	}
	var pl pageList[T]
	if err := c.do(ctx, &request{method: http.MethodGet, path: path, query: vals, retry: true}, &pl); err != nil {
		return nil, 0, err
	}
	return pl.List, pl.Next, nil
}
