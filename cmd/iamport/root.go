package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/spf13/cobra"
)

// version is the CLI's version (the SDK's, as they are released together).
var version = iamport.Version

// Exit codes (documented in the package comment and README.md).
const (
	exitOK         = 0
	exitUsage      = 1
	exitDeclined   = 2
	exitNotCharged = 3
	exitUnknown    = 4
	exitAPI        = 5
)

// app is one run of the command line: its streams, environment and global
// flags.
type app struct {
	ctx            context.Context
	stdout, stderr io.Writer
	getenv         func(string) string

	output  string
	tier    string
	baseURL string
	timeout time.Duration
	settle  time.Duration
	sandbox bool

	// afterStart, when set (tests), is told the fake's URL once it serves.
	afterStart func(url string)
}

// usageError is a bad command line or configuration: exit 1.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// exitError carries an exit code for an outcome that is not an error of
// the SDK's (bill's summary).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run runs the command line args and returns the exit code. Errors go to
// stderr on one line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{ctx: ctx, stdout: stdout, stderr: stderr, getenv: getenv}
	return a.execute(args)
}

func (a *app) execute(args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(a.ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	var ee *exitError
	if errors.As(err, &ee) && ee.msg == "" {
		return code
	}
	fmt.Fprintln(a.stderr, "iamport: "+errorLine(err))
	return code
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "iamport",
		Short: "Operate Iamport (PortOne V1) subscription billing from the command line",
		Long: `iamport looks payments up, cancels them, charges billing keys, manages schedules,
bills a CSV file of subscriptions, and runs a fake Iamport for tests.

Credentials come from the environment only: IAMPORT_API_KEY and IAMPORT_API_SECRET.
IAMPORT_BASE_URL and IAMPORT_TIER set the defaults of --base-url and --tier.

Exit codes: 0 ok/paid, 1 usage or config error, 2 declined, 3 not charged,
4 outcome unknown, 5 API error.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch a.output {
			case "table", "json":
			default:
				return usagef("--output must be table or json, not %q", a.output)
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json (one JSON object per line for lists)")
	pf.StringVar(&a.tier, "tier", a.getenv("IAMPORT_TIER"), "sub-merchant tier code (3 characters of A-Z0-9), sent as the Tier header (env IAMPORT_TIER)")
	pf.StringVar(&a.baseURL, "base-url", a.getenv("IAMPORT_BASE_URL"), "API base URL (default https://api.iamport.kr; plain http only on loopback) (env IAMPORT_BASE_URL)")
	pf.DurationVar(&a.timeout, "timeout", 0, "bound of each HTTP attempt (default the SDK's, 30s)")
	pf.DurationVar(&a.settle, "settle-window", 0, "how long after a lost reply Iamport must say \"no such payment\" before a charge is reported not charged; longer than --timeout (default the SDK's, 45s)")
	pf.BoolVar(&a.sandbox, "sandbox", false, "include payments made on test channels in lookups and accept them as verified")

	root.AddCommand(a.paymentCmd(), a.billingKeyCmd(), a.chargeCmd(), a.scheduleCmd(), a.tokenCmd(), a.billCmd(), a.fakeCmd())
	return root
}

// credentials reads the key pair from the environment.
func (a *app) credentials() (string, string, error) {
	key, secret := strings.TrimSpace(a.getenv("IAMPORT_API_KEY")), strings.TrimSpace(a.getenv("IAMPORT_API_SECRET"))
	if key == "" || secret == "" {
		return "", "", usagef("set IAMPORT_API_KEY and IAMPORT_API_SECRET in the environment (credentials are never taken from flags)")
	}
	return key, secret, nil
}

func (a *app) clientOptions() []iamport.Option {
	opts := []iamport.Option{iamport.WithUserAgent("iamport-cli/" + version)}
	if a.baseURL != "" {
		opts = append(opts, iamport.WithBaseURL(a.baseURL))
	}
	if a.sandbox {
		opts = append(opts, iamport.WithSandbox())
	}
	if a.tier != "" {
		opts = append(opts, iamport.WithTier(a.tier))
	}
	if a.timeout > 0 {
		opts = append(opts, iamport.WithTimeout(a.timeout))
	}
	if a.settle > 0 {
		opts = append(opts, iamport.WithSettleWindow(a.settle))
	}
	return opts
}

// client builds the SDK client from the environment and the global flags.
func (a *app) client() (*iamport.Client, error) {
	key, secret, err := a.credentials()
	if err != nil {
		return nil, err
	}
	return iamport.NewClient(key, secret, a.clientOptions()...)
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var (
		ee *exitError
		pf *iamport.PaymentFailedError
		ve *iamport.ValidationError
		ae *iamport.APIError
		ue *usageError
		te *iamport.TransportError
		de *iamport.DecodeError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, iamport.ErrOutcomeUnknown):
		return exitUnknown
	case errors.As(err, &pf):
		return exitDeclined
	case errors.Is(err, iamport.ErrNotCharged):
		return exitNotCharged
	case errors.As(err, &ve), errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ae), errors.As(err, &te), errors.As(err, &de), errors.Is(err, errAPI):
		return exitAPI
	}
	// cobra's own errors (unknown command, wrong number of arguments).
	return exitUsage
}

// errAPI marks a failed call made without the SDK (token check).
var errAPI = errors.New("API error")

// errorLine is the one line printed on stderr for err.
func errorLine(err error) string {
	var (
		pf *iamport.PaymentFailedError
		ae *iamport.APIError
		ce *iamport.ChargeError
	)
	var s string
	switch {
	case errors.As(err, &ce) && errors.Is(err, iamport.ErrOutcomeUnknown):
		s = fmt.Sprintf("outcome unknown (merchant_uid %s): %v; the money may have been taken: look it up with `iamport payment find %s`, or repeat the same command (the merchant_uid makes that safe)", ce.MerchantUID, ce.Err, ce.MerchantUID)
	case errors.As(err, &ce) && errors.Is(err, iamport.ErrNotCharged):
		s = fmt.Sprintf("not charged (merchant_uid %s): %v; repeating the same command is safe", ce.MerchantUID, ce.Err)
	case errors.As(err, &pf) && pf.Payment != nil:
		s = fmt.Sprintf("declined: %s (merchant_uid %s, imp_uid %s)", pf.Payment.FailReason, pf.Payment.MerchantUID, pf.Payment.ImpUID)
	case errors.As(err, &ae):
		s = fmt.Sprintf("API error: HTTP %d, code %d: %s (%s %s)", ae.StatusCode, ae.Code, ae.Message, ae.Method, ae.Path)
	default:
		s = err.Error()
	}
	s = strings.TrimPrefix(s, "iamport: ")
	s = strings.ReplaceAll(s, "iamport: ", "")
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
