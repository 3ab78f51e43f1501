// Command jtnet-window is a small merchant web server that registers JTNet
// billing keys (정기결제) through Iamport's payment window, verifies them,
// and charges them again. The code is in package app.
//
//	go run ./examples/jtnet-window            # on the embedded fake Iamport
//	go run ./examples/jtnet-window -addr :0   # any free port
//
// With IAMPORT_API_KEY, IAMPORT_API_SECRET and IAMPORT_IMP_CODE (가맹점
// 식별코드) set, it uses the real API and Iamport's JavaScript SDK instead.
// Optional: IAMPORT_PG (default jtnet), IAMPORT_API_BASE, PUBLIC_URL (the
// address browsers and Iamport use; default the listening address), and
// IAMPORT_TRUSTED_PROXY_HEADER (e.g. X-Forwarded-For, for the webhook's
// source-address allow-list behind a proxy).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
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
		Logger:     logger,
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = url
	}
	if cfg.APIKey != "" {
		// Real Iamport: only its webhook addresses may post notifications.
		cfg.WebhookOptions = []iamport.WebhookOption{iamport.WithIamportIPs()}
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

	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
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
