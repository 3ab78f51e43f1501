package billingrun_test

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// Runner.Concurrency's doc (and WithHTTPClient's) says the client's own
// transport, also used when WithHTTPClient's client has a nil Transport,
// keeps enough idle connections for a run of 16 charges at once, while
// http.DefaultTransport (given with WithHTTPClient) keeps 2. Two waves of
// 16 overlapping calls: the second opens (almost) no connection on the
// SDK's transport, and most of them on http.DefaultTransport.
func TestConcurrencyIdleConnections(t *testing.T) {
	const conc = 16
	srv := iamporttest.NewServer(iamporttest.WithLatency(20 * time.Millisecond)) // calls overlap
	defer srv.Close()
	if err := srv.RegisterBillingKey("cust_1", iamporttest.DefaultCardNumber); err != nil {
		t.Fatal(err)
	}

	// newConns runs one wave of conc calls at once and counts the
	// connections it dialled.
	newConns := func(c *iamport.Client) int {
		var dialled atomic.Int32
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if !info.Reused {
					dialled.Add(1)
				}
			},
		})
		var wg sync.WaitGroup
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.GetBillingKey(ctx, "cust_1"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		time.Sleep(20 * time.Millisecond) // let the transport put the connections back
		return int(dialled.Load())
	}
	secondWave := func(c *iamport.Client) int {
		t.Cleanup(c.HTTPClient().CloseIdleConnections)
		if _, err := c.GetBillingKey(context.Background(), "cust_1"); err != nil { // the token
			t.Fatal(err)
		}
		newConns(c)
		return newConns(c)
	}

	if n := secondWave(srv.Client()); n > 2 {
		t.Errorf("the SDK's own transport: the second wave of %d calls dialled %d connections; want ≤ 2 (it keeps 64 idle per host)", conc, n)
	}
	if n := secondWave(srv.Client(iamport.WithHTTPClient(&http.Client{}))); n > 2 {
		t.Errorf("WithHTTPClient with a nil Transport: the second wave dialled %d connections; want ≤ 2 (the SDK's own transport)", n)
	}
	if n := secondWave(srv.Client(iamport.WithHTTPClient(&http.Client{Transport: http.DefaultTransport}))); n < conc/2 {
		t.Errorf("http.DefaultTransport: the second wave dialled only %d connections; the doc says it keeps 2 idle", n)
	}
}
