package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type item struct{ N int }

// countingPages serves total items in pages of size, counting fetches, and
// fails page failAt (0: never).
func countingPages(total, size, failAt int, fetched *[]int) fetchPage[item] {
	return func(_ context.Context, page int) ([]*item, int, error) {
		*fetched = append(*fetched, page)
		if page == failAt {
			return nil, 0, errors.New("boom")
		}
		var out []*item
		for i := (page - 1) * size; i < min(page*size, total); i++ {
			out = append(out, &item{N: i})
		}
		next := page + 1
		if page*size >= total {
			next = 0
		}
		return out, next, nil
	}
}

func TestPaginateAllInOrder(t *testing.T) {
	t.Parallel()
	var fetched []int
	n := 0
	for it, err := range paginate(context.Background(), countingPages(2500, 1000, 0, &fetched)) {
		require.NoError(t, err)
		require.Equal(t, n, it.N)
		n++
	}
	assert.Equal(t, 2500, n)
	assert.Equal(t, []int{1, 2, 3}, fetched)
}

func TestPaginateBreakFetchesNoMore(t *testing.T) {
	t.Parallel()
	var fetched []int
	seq := paginate(context.Background(), countingPages(2500, 1000, 0, &fetched))
	assert.Empty(t, fetched, "nothing is fetched before the loop runs")
	n := 0
	for _, err := range seq {
		require.NoError(t, err)
		n++
		if n == 10 {
			break
		}
	}
	assert.Equal(t, []int{1}, fetched)
}

func TestPaginateErrorYieldedOnceThenStops(t *testing.T) {
	t.Parallel()
	var fetched []int
	items, errs := 0, 0
	for it, err := range paginate(context.Background(), countingPages(2500, 1000, 2, &fetched)) {
		if err != nil {
			errs++
			assert.Nil(t, it)
			continue // a loop that ignores the error still gets nothing more
		}
		items++
	}
	assert.Equal(t, 1000, items)
	assert.Equal(t, 1, errs)
	assert.Equal(t, []int{1, 2}, fetched)
}

func TestPaginateStopsOnEmptyOrNonAdvancingPage(t *testing.T) {
	t.Parallel()
	calls := 0
	stuck := func(_ context.Context, page int) ([]*item, int, error) {
		calls++
		return []*item{{N: page}}, page, nil // "next" is the same page
	}
	n := 0
	for range paginate(context.Background(), stuck) {
		n++
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, calls)

	calls = 0
	empty := func(_ context.Context, page int) ([]*item, int, error) {
		calls++
		return nil, page + 1, nil
	}
	for range paginate(context.Background(), empty) {
		t.Fatal("nothing to yield")
	}
	assert.Equal(t, 1, calls)
}

func TestPageListDecodesBothShapes(t *testing.T) {
	t.Parallel()
	var pl pageList[item]
	require.NoError(t, json.Unmarshal([]byte(`{"total":3,"previous":0,"next":2,"list":[{"N":1},null,{"N":2}],"extra":1}`), &pl))
	assert.Equal(t, 3, pl.Total)
	assert.Equal(t, 2, pl.Next)
	assert.Len(t, pl.List, 3)

	require.NoError(t, json.Unmarshal([]byte(` [{"N":5}] `), &pl))
	assert.Equal(t, 0, pl.Next, "a bare array is one page with no next")
	require.Len(t, pl.List, 1)
	assert.Equal(t, 5, pl.List[0].N)

	assert.Error(t, json.Unmarshal([]byte(`"nope"`), &pl))
}

func TestUniqueDropsRepeats(t *testing.T) {
	t.Parallel()
	src := func(yield func(*item, error) bool) {
		for _, n := range []int{1, 2, 2, 3, 1, 4} {
			if !yield(&item{N: n}, nil) {
				return
			}
		}
	}
	var got []int
	for it, err := range unique(src, func(i *item) string { return itoa(i.N) }) {
		require.NoError(t, err)
		got = append(got, it.N)
	}
	assert.Equal(t, []int{1, 2, 3, 4}, got)
}

func TestChainStopsAtFirstError(t *testing.T) {
	t.Parallel()
	built := 0
	seq := chain([]window{{1, 2}, {3, 4}, {5, 6}}, func(w window) iter.Seq2[*item, error] {
		built++
		return func(yield func(*item, error) bool) {
			if w.from == 3 {
				yield(nil, errors.New("second window fails"))
				return
			}
			yield(&item{N: int(w.from)}, nil)
		}
	})
	var errs, items int
	for _, err := range seq {
		if err != nil {
			errs++
		} else {
			items++
		}
	}
	assert.Equal(t, 1, items)
	assert.Equal(t, 1, errs)
	assert.Equal(t, 2, built, "the third window is never built")
}

func TestWindows(t *testing.T) {
	t.Parallel()
	step := int64(maxWindow / time.Second)

	t.Run("half-open ascending", func(t *testing.T) {
		from := int64(1_700_000_000)
		to := from + 212*86400 // about 7 months
		ws := ascendingHalfOpen(from, to)
		require.Len(t, ws, 3)
		assert.Equal(t, from, ws[0].from)
		assert.Equal(t, to, ws[len(ws)-1].to)
		for i, w := range ws {
			assert.LessOrEqual(t, w.to-w.from, step)
			assert.Less(t, w.from, w.to)
			if i > 0 {
				assert.Equal(t, ws[i-1].to, w.from, "contiguous, no overlap with an exclusive to")
			}
		}
		assert.Empty(t, ascendingHalfOpen(to, to))
	})

	t.Run("closed descending", func(t *testing.T) {
		to := int64(1_700_000_000)
		from := to - 90*86400
		ws := descendingClosed(from, to)
		require.Len(t, ws, 2)
		assert.Equal(t, to, ws[0].to, "newest first")
		assert.Equal(t, from, ws[len(ws)-1].from)
		for i, w := range ws {
			assert.LessOrEqual(t, w.to-w.from, step)
			assert.LessOrEqual(t, w.from, w.to)
			if i > 0 {
				assert.Equal(t, w.to, ws[i-1].from-1, "contiguous, no shared second with an inclusive to")
			}
		}
		one := descendingClosed(to, to)
		assert.Equal(t, []window{{to, to}}, one)
	})

	t.Run("rounding", func(t *testing.T) {
		ts := time.Unix(100, 500)
		assert.Equal(t, int64(100), floorUnix(ts))
		assert.Equal(t, int64(101), ceilUnix(ts))
		assert.Equal(t, int64(100), ceilUnix(time.Unix(100, 0)))
	})
}

func TestQueryValuesBrackets(t *testing.T) {
	t.Parallel()
	v, err := values(paymentsQuery{ImpUIDs: []string{"imp_1", "imp 2"}})
	require.NoError(t, err)
	assert.Equal(t, "imp_uid%5B%5D=imp_1&imp_uid%5B%5D=imp+2", v.Encode())
	v, err = values(customerScheduleQuery{From: 1, To: 2, Status: "revoked", Page: 3})
	require.NoError(t, err)
	assert.Equal(t, "revoked", v.Get("schedule-status"))
	assert.Equal(t, "3", v.Get("page"))
}

// FuzzPageListDecode: whatever a server sends as a list, decoding it never
// panics, and a decoded list has no more items than the JSON has objects.
func FuzzPageListDecode(f *testing.F) {
	f.Add([]byte(`{"total":1,"previous":0,"next":0,"list":[{"imp_uid":"a","amount":1}]}`))
	f.Add([]byte(`[{"merchant_uid":"m","schedule_at":1,"amount":10.5,"currency":"USD"}]`))
	f.Add([]byte(`{"list":null,"next":"2"}`))
	f.Add([]byte(`[null]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var pp pageList[Payment]
		if json.Unmarshal(b, &pp) == nil && len(pp.List) > len(b) {
			t.Fatalf("%d items from %d bytes", len(pp.List), len(b))
		}
		var ps pageList[Schedule]
		_ = json.Unmarshal(b, &ps)
	})
}
