package iamport_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyed returns a fake with one billing key, and a client of it.
func keyed(t *testing.T, opts ...iamporttest.ServerOption) (*iamporttest.Server, *iamport.Client) {
	t.Helper()
	srv := iamporttest.NewServer(opts...)
	t.Cleanup(srv.Close)
	require.NoError(t, srv.RegisterBillingKey("cust_1", "4092-0230-1234-5678"))
	return srv, srv.Client(iamport.WithRetryPolicy(iamport.RetryPolicy{MaxAttempts: 1}))
}

func TestTokenReusedForSequentialCalls(t *testing.T) {
	srv, c := keyed(t)
	ctx := context.Background()
	n := 10000
	if testing.Short() {
		n = 1000
	}
	for i := 0; i < n; i++ {
		_, err := c.GetBillingKey(ctx, "cust_1")
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.TokenCalls())
	assert.Equal(t, n, srv.Requests("GET /subscribe/customers/{customer_uid}"))
}

func TestConcurrentColdCallersShareOneGetToken(t *testing.T) {
	srv, c := keyed(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 256)
	for i := 0; i < 256; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := c.GetBillingKey(context.Background(), "cust_1")
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.TokenCalls())
}

// TestNoExpiredTokenAcrossLifetimes moves the shared clock across many token
// lifetimes; no request may ever carry an expired token, whatever the
// server's clock says relative to the client's.
func TestNoExpiredTokenAcrossLifetimes(t *testing.T) {
	for _, skew := range []time.Duration{0, 10 * time.Minute, -10 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			srv, c := keyed(t, iamporttest.WithServerSkew(skew))
			ctx := context.Background()
			calls := 0
			for elapsed := time.Duration(0); elapsed < 4*time.Hour; elapsed += 23 * time.Second {
				srv.Clock().Advance(23 * time.Second)
				_, err := c.GetBillingKey(ctx, "cust_1")
				require.NoError(t, err, "after %v", elapsed)
				calls++
			}
			assert.Zero(t, srv.ExpiredTokenRequests(), "requests that carried an expired token")
			// 4 hours of 30-minute tokens: at least 8 getToken calls, and far
			// fewer than one per request.
			assert.GreaterOrEqual(t, srv.TokenCalls(), 8)
			assert.Less(t, srv.TokenCalls(), calls/4)
		})
	}
}

func TestRevokedTokenIsReplacedOnce(t *testing.T) {
	srv, c := keyed(t)
	ctx := context.Background()
	_, err := c.GetBillingKey(ctx, "cust_1")
	require.NoError(t, err)
	srv.RevokeTokens()
	_, err = c.GetBillingKey(ctx, "cust_1")
	require.NoError(t, err, "a revoked token is dropped, one new one fetched, the call repeated")
	assert.Equal(t, 2, srv.TokenCalls())
	assert.Equal(t, 1, srv.ExpiredTokenRequests(), "only the one call that found the token revoked")
	_, err = c.GetBillingKey(ctx, "cust_1")
	require.NoError(t, err)
	assert.Equal(t, 2, srv.TokenCalls())
}

func TestBadCredentialsAreUnauthorized(t *testing.T) {
	srv := iamporttest.NewServer()
	defer srv.Close()
	c, err := iamport.NewClient(srv.APIKey, "wrong", iamport.WithBaseURL(srv.URL()))
	require.NoError(t, err)
	_, err = c.GetPayment(context.Background(), "imp_1")
	assert.ErrorIs(t, err, iamport.ErrUnauthorized)
	assert.Equal(t, 1, srv.TokenCalls(), "a 401 from getToken is not retried")
}

// TestRefreshRunsUnderCallersContext: a caller whose ctx ends while it
// fetches the token fails with its ctx's error, and the next caller, whose
// ctx is alive, gets a token.
func TestRefreshRunsUnderCallersContext(t *testing.T) {
	srv := iamporttest.NewServer(iamporttest.WithLatency(0))
	defer srv.Close()
	srv.InjectFault(iamporttest.Fault{Kind: iamporttest.FaultDelay, Route: iamporttest.RouteToken, Delay: 300 * time.Millisecond})
	require.NoError(t, srv.RegisterBillingKey("cust_1", "4092-0230-1234-5678"))
	c := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetBillingKey(ctx, "cust_1")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = c.GetBillingKey(context.Background(), "cust_1")
	assert.NoError(t, err)
}

func TestHTTPClientCarriesToken(t *testing.T) {
	srv, c := keyed(t)
	resp, err := c.HTTPClient().Get(srv.URL() + "/subscribe/customers/cust_1")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
