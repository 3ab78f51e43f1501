package iamport_test

// Statements of README.md that a test can hold to (the README's error
// table, defaults and dependency list).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/iamporttest"
)

// "The package iamport depends on one module outside the standard library,
// github.com/google/go-querystring; billingrun adds golang.org/x/time.
// iamporttest needs nothing more than iamport."
func TestReadmeDependencies(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH")
	}
	const self = "github.com/billingkr/iamport-go"
	want := map[string][]string{
		self:                  {"github.com/google/go-querystring"},
		self + "/iamporttest": {"github.com/google/go-querystring"},
		self + "/billingrun":  {"github.com/google/go-querystring", "golang.org/x/time"},
	}
	// One go list for the three: every package of their graph, with its
	// module and imports; the closure of each is walked here.
	out, err := exec.Command(goTool, "list", "-deps", "-json=ImportPath,Module,Imports", self, self+"/iamporttest", self+"/billingrun").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Module     *struct{ Path string }
		Imports    []string
	}
	pkgs := map[string]pkg{}
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	for root, want := range want {
		seen := map[string]bool{}
		var got []string
		var walk func(string)
		walk = func(path string) {
			if seen[path] {
				return
			}
			seen[path] = true
			p := pkgs[path]
			if p.Module != nil && p.Module.Path != self && !slices.Contains(got, p.Module.Path) {
				got = append(got, p.Module.Path)
			}
			for _, imp := range p.Imports {
				walk(imp)
			}
		}
		walk(root)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s depends on modules %v; the README says %v", root, got, want)
		}
	}
}

// "Defaults: timeout 30 s, window 45 s"; "WithSettleWindow must be longer
// than WithTimeout; NewClient refuses it otherwise".
func TestReadmeDefaults(t *testing.T) {
	t.Parallel()
	if iamport.DefaultTimeout != 30*time.Second || iamport.DefaultSettleWindow != 45*time.Second {
		t.Errorf("DefaultTimeout %v, DefaultSettleWindow %v; the README says 30s and 45s", iamport.DefaultTimeout, iamport.DefaultSettleWindow)
	}
	for _, window := range []time.Duration{5 * time.Second, 10 * time.Second} {
		_, err := iamport.NewClient("k", "s", iamport.WithTimeout(10*time.Second), iamport.WithSettleWindow(window))
		if !errors.Is(err, iamport.ErrInvalidRequest) {
			t.Errorf("timeout 10s, window %v: err = %v; want a refusal", window, err)
		}
	}
	if _, err := iamport.NewClient("k", "s", iamport.WithTimeout(10*time.Second), iamport.WithSettleWindow(11*time.Second)); err != nil {
		t.Errorf("timeout 10s, window 11s: %v", err)
	}
	// The http.Client's Timeout counts when it is the shorter.
	hc := iamport.WithHTTPClient(&http.Client{Timeout: 10 * time.Second})
	if _, err := iamport.NewClient("k", "s", hc, iamport.WithTimeout(20*time.Second), iamport.WithSettleWindow(5*time.Second)); !errors.Is(err, iamport.ErrInvalidRequest) {
		t.Errorf("timeout 20s, http.Client 10s, window 5s: err = %v; want a refusal", err)
	}
	// A window set alone is accepted (the attempts get a timeout it covers).
	for _, opts := range [][]iamport.Option{
		{iamport.WithSettleWindow(3 * time.Second)},
		{hc, iamport.WithSettleWindow(5 * time.Second)},
		{hc, iamport.WithSettleWindow(40 * time.Second)},
	} {
		if _, err := iamport.NewClient("k", "s", opts...); err != nil {
			t.Errorf("a window alone: %v", err)
		}
	}
}

// The errors table: ErrNotFound for Iamport's own "no such thing", whether
// it comes with HTTP 404 or HTTP 200, and CancelPayment of an unknown
// payment sends no cancel.
func TestReadmeNotFound(t *testing.T) {
	t.Parallel()
	srv := iamporttest.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()
	calls := map[string]func() error{
		"GetPayment":    func() error { _, err := c.GetPayment(ctx, "imp_000000000000"); return err },
		"FindPayment":   func() error { _, err := c.FindPayment(ctx, "order_none"); return err },
		"GetBillingKey": func() error { _, err := c.GetBillingKey(ctx, "cust_none"); return err },
		"GetSchedule":   func() error { _, err := c.GetSchedule(ctx, "sched_none"); return err },
		"CancelPayment imp_uid": func() error {
			_, err := c.CancelPayment(ctx, &iamport.CancelPaymentRequest{ImpUID: "imp_000000000000"})
			return err
		},
		"CancelPayment merchant": func() error {
			_, err := c.CancelPayment(ctx, &iamport.CancelPaymentRequest{MerchantUID: "order_none"})
			return err
		},
		"AgainPayment no customer": func() error {
			_, err := c.AgainPayment(ctx, &iamport.AgainPaymentRequest{CustomerUID: "cust_none", MerchantUID: "m_none", Amount: 100, Name: "x"})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		var ae *iamport.APIError
		if !errors.Is(err, iamport.ErrNotFound) || !errors.As(err, &ae) {
			t.Errorf("%s: err = %v; want an *APIError matching ErrNotFound", name, err)
		}
	}
	if n := srv.Requests("POST /payments/cancel"); n != 0 {
		t.Errorf("%d cancels were sent for payments Iamport does not know", n)
	}
}

// "never a proxy's 404": a 404 page that is not Iamport's envelope is an
// *APIError, and not ErrNotFound.
func TestReadmeProxy404IsNotNotFound(t *testing.T) {
	t.Parallel()
	srv := iamporttest.NewServer()
	defer srv.Close()
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/payments/") {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html><body><h1>404 Not Found</h1>nginx</body></html>"))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	c := srv.Client(iamport.WithBaseURL(front.URL))
	_, err := c.GetPayment(context.Background(), "imp_000000000000")
	if err == nil || errors.Is(err, iamport.ErrNotFound) {
		t.Fatalf("a proxy's 404 page: err = %v; want an error that is not ErrNotFound", err)
	}
}
