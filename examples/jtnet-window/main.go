// Command jtnet-window is a small merchant web server that registers JTNet
// billing keys (정기결제) through Iamport's payment window, verifies them,
// and charges them again. The code is in package app.
//
//	go run ./examples/jtnet-window            # on the embedded fake Iamport
//	go run ./examples/jtnet-window -addr :0   # any free port
//
// With IAMPORT_API_KEY, IAMPORT_API_SECRET and IAMPORT_IMP_CODE (가맹점
// 식별코드) set, it uses the real API and Iamport's JavaScript SDK instead.
// PUBLIC_URL (the https address browsers and Iamport reach) is required
// then; on the fake it defaults to the listening address. ADMIN_TOKEN (at
// least 16 characters) opens the admin pages (/admin: subscriptions and
// "charge now"); on the fake, without it, a random one is printed at start.
// Optional: IAMPORT_PG (default jtnet), IAMPORT_API_BASE,
// IAMPORT_TRUSTED_PROXIES (comma-separated CIDRs of the reverse proxies in
// front of the app, for the webhook's source-address allow-list) and
// IAMPORT_TRUSTED_PROXY_HEADER (the one forwarding header they set).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/billingkr/iamport-go/examples/jtnet-window/app"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (:0 picks a free port)")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "jtnet-window:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	url := "http://" + browserAddr(ln.Addr().(*net.TCPAddr))
	cfg := app.Config{
		APIKey:     os.Getenv("IAMPORT_API_KEY"),
		APISecret:  os.Getenv("IAMPORT_API_SECRET"),
		IMPCode:    os.Getenv("IAMPORT_IMP_CODE"),
		PG:         os.Getenv("IAMPORT_PG"),
		APIBaseURL: os.Getenv("IAMPORT_API_BASE"),
		PublicURL:  os.Getenv("PUBLIC_URL"),
		AdminToken: os.Getenv("ADMIN_TOKEN"),
		Logger:     logger,
	}
	if cfg.APIKey == "" {
		// The embedded fake: the listening address (never a request's Host)
		// is the public one, and a random admin token unless one is set.
		if cfg.PublicURL == "" {
			cfg.PublicURL = url
		}
		if cfg.AdminToken == "" {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			cfg.AdminToken = hex.EncodeToString(b)
			fmt.Printf("admin token (fake mode, set ADMIN_TOKEN to choose it): %s\n", cfg.AdminToken)
		}
	} else {
		if cfg.PublicURL == "" {
			ln.Close()
			return errors.New("PUBLIC_URL is required with real credentials (the https address browsers and Iamport reach)")
		}
		if cfg.AdminToken == "" {
			logger.Warn("ADMIN_TOKEN is not set: the admin pages refuse everyone")
		}
		// Real Iamport: only its webhook addresses may post notifications.
		cfg.WebhookOptions = []iamport.WebhookOption{iamport.WithIamportIPs()}
		if v := os.Getenv("IAMPORT_TRUSTED_PROXIES"); v != "" {
			var prefixes []netip.Prefix
			for _, f := range strings.Split(v, ",") {
				p, err := netip.ParsePrefix(strings.TrimSpace(f))
				if err != nil {
					ln.Close()
					return fmt.Errorf("IAMPORT_TRUSTED_PROXIES: %w", err)
				}
				prefixes = append(prefixes, p)
			}
			cfg.WebhookOptions = append(cfg.WebhookOptions, iamport.WithTrustedProxies(prefixes...))
		}
		if h := os.Getenv("IAMPORT_TRUSTED_PROXY_HEADER"); h != "" {
			cfg.WebhookOptions = append(cfg.WebhookOptions, iamport.WithTrustedProxyHeader(h))
		}
	}
	a, err := app.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	mode := "the embedded fake Iamport (no real payments)"
	if a.Fake() == nil {
		mode = "the real Iamport API"
	}
	fmt.Printf("jtnet-window on %s: open %s/\n", mode, url)

	// Timeouts bound what a slow or idle client can hold: headers, the
	// whole request (bodies here are a few KiB), the response (a webhook
	// or "charge now" waits for Iamport, which its own retries bound), and
	// idle keep-alive connections.
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// browserAddr is the listening address as a browser can open it: an
// unspecified host (":0", "0.0.0.0") becomes 127.0.0.1.
func browserAddr(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP == nil || a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(a.Port))
}
