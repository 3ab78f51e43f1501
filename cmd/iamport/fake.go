package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"

	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/spf13/cobra"
)

// The fake's demo fixtures.
const (
	demoCustomer       = "demo_customer"
	demoDeclined       = "demo_declined"
	demoDeclinedCard   = "4000-0000-0000-0002" // also the stand-in window's declining test card
	demoDeclinedReason = "잔액부족"
)

func demoSeed() iamporttest.Seed {
	return iamporttest.Seed{
		BillingKeys: []iamporttest.SeedBillingKey{
			{CustomerUID: demoCustomer, CardNumber: iamporttest.DefaultCardNumber},
			{CustomerUID: demoDeclined, CardNumber: demoDeclinedCard},
		},
		DeclineCards: []iamporttest.SeedDecline{{CardNumber: demoDeclinedCard, Reason: demoDeclinedReason}},
	}
}

func (a *app) fakeCmd() *cobra.Command {
	var (
		addr, seedFile, key, secret, webhookURL string
		manualClock                             bool
	)
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Run the fake Iamport (iamporttest) as a standalone server, with a control API",
		Long: `Run the fake Iamport API on a fixed address until interrupted, for tests in any language.

It speaks the real API's wire format, is seeded with a demo key pair and two demo billing keys
(demo_customer approves; demo_declined declines), runs on wall-clock time (--manual-clock: a
clock that moves only through the control API), and serves:
  /users/getToken, /payments/..., /subscribe/...   the API
  /__fake/...                                      the control API (see README.md)
  /iamport.js                                      a stand-in payment window script (JTNet)

With -o json it prints one JSON line with the URL and credentials (for test harnesses).
--addr 127.0.0.1:0 picks a free port.`,
		Example: `  iamport fake --addr 127.0.0.1:8080
  iamport fake --addr 127.0.0.1:0 --seed fixtures.json --key my_key --secret my_secret -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			seed := demoSeed()
			if seedFile != "" {
				raw, err := os.ReadFile(seedFile)
				if err != nil {
					return usagef("--seed: %v", err)
				}
				var own iamporttest.Seed
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&own); err != nil {
					return usagef("--seed %s: %v", seedFile, err)
				}
				seed.BillingKeys = append(seed.BillingKeys, own.BillingKeys...)
				seed.DeclineCustomers = append(seed.DeclineCustomers, own.DeclineCustomers...)
				seed.DeclineCards = append(seed.DeclineCards, own.DeclineCards...)
				seed.RejectCards = append(seed.RejectCards, own.RejectCards...)
			}
			if key == "" || secret == "" {
				return usagef("--key and --secret must not be empty")
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usagef("--addr: %v", err)
			}
			opts := []iamporttest.ServerOption{
				iamporttest.WithListener(ln), iamporttest.WithControlAPI(), iamporttest.WithCredentials(key, secret),
			}
			if !manualClock {
				opts = append(opts, iamporttest.WithWallClock())
			}
			if webhookURL != "" {
				opts = append(opts, iamporttest.WithWebhookURL(webhookURL))
			}
			srv := iamporttest.NewServer(opts...)
			defer srv.Close()
			srv.SetResetSeed(seed)
			if err := srv.ApplySeed(seed); err != nil {
				return usagef("--seed: %v", err)
			}
			a.printFakeBanner(srv, seed)
			if a.afterStart != nil {
				a.afterStart(srv.URL())
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (127.0.0.1:0 picks a free port)")
	f.StringVar(&seedFile, "seed", "", "JSON fixtures: billing_keys, decline_customers, decline_cards, reject_cards (see README.md)")
	f.StringVar(&key, "key", iamporttest.DefaultAPIKey, "the imp_key the fake accepts (a test credential, not a secret)")
	f.StringVar(&secret, "secret", iamporttest.DefaultAPISecret, "the imp_secret the fake accepts (a test credential, not a secret)")
	f.BoolVar(&manualClock, "manual-clock", false, "a clock that moves only when told to (POST /__fake/clock), instead of wall time")
	f.StringVar(&webhookURL, "webhook-url", "", "the console notification URL (webhooks go to loopback URLs only)")
	return cmd
}

func (a *app) printFakeBanner(srv *iamporttest.Server, seed iamporttest.Seed) {
	u := srv.URL()
	if a.json() {
		keys := make([]string, 0, len(seed.BillingKeys))
		for _, k := range seed.BillingKeys {
			keys = append(keys, k.CustomerUID)
		}
		_ = printJSON(a.stdout, map[string]any{
			"url": u, "api_key": srv.APIKey, "api_secret": srv.APISecret, "control_url": u + iamporttest.ControlPrefix,
			"window_js": u + "/iamport.js", "clock": srv.ClockMode(), "billing_keys": keys,
			"demo_customer": demoCustomer, "demo_declined": demoDeclined,
		})
		return
	}
	fmt.Fprintf(a.stdout, "iamport fake: listening on %s (%s clock)\n", u, srv.ClockMode())
	fmt.Fprintf(a.stdout, "  export IAMPORT_BASE_URL=%s IAMPORT_API_KEY=%s IAMPORT_API_SECRET=%s\n", u, srv.APIKey, srv.APISecret)
	fmt.Fprintf(a.stdout, "  billing key %s: card %s, approves\n", demoCustomer, iamporttest.DefaultCardNumber)
	fmt.Fprintf(a.stdout, "  billing key %s: card %s, declines (%s)\n", demoDeclined, demoDeclinedCard, demoDeclinedReason)
	if n := len(seed.BillingKeys) - 2; n > 0 {
		fmt.Fprintf(a.stdout, "  %d more billing keys from --seed\n", n)
	}
	fmt.Fprintf(a.stdout, "  control API: %s%s   payment window: %s/iamport.js\n", u, iamporttest.ControlPrefix, u)
	fmt.Fprintln(a.stdout, "  Ctrl-C stops it.")
}
