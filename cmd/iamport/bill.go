package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/billingkr/iamport-go/billingrun"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) billCmd() *cobra.Command {
	var (
		file, period, prefix, name string
		concurrency                int
		noProgress                 bool
	)
	cmd := &cobra.Command{
		Use:   "bill --file charges.csv",
		Short: "Charge every line of a CSV file of subscriptions; a re-run charges nothing twice",
		Long: `Charge every line of a CSV file with the SDK's batch runner (billingrun).

The file has a header line naming its columns, in any order:
  customer_uid  (required) the billing key to charge
  amount        (required) in the currency's minor unit (KRW: won)
  period        what is paid for, e.g. 2026-11 (or --period for every line)
  name          product name (or --name)
  currency      ISO 4217 (default KRW)

Each charge's merchant_uid is derived from --prefix, customer_uid and period (billingrun's
rule), so running the same file again is always safe: what was paid is reported paid again
and charges nothing; the rest is tried again. A malformed file charges nothing.

Output: one line per charge (JSON with -o json) and a summary. On a terminal, a progress
bar (on stderr) replaces the paid lines. Exit code: 4 if any outcome is unknown, else 3 if
any was not charged, else 1 if any line was invalid, else 2 if any was declined, else 0.`,
		Example: `  iamport bill --file 2026-11.csv --period 2026-11
  iamport bill --file 2026-11.csv -o json | jq -c 'select(.outcome != "paid")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("--file is required")
			}
			if concurrency < 1 {
				return usagef("--concurrency must be at least 1")
			}
			charges, err := readCharges(file, period, name)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			return a.bill(cmd, &billingrun.Runner{Charger: c, Prefix: prefix, Concurrency: concurrency}, charges, noProgress)
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "file", "", "the CSV file (- for standard input)")
	f.StringVar(&period, "period", "", "period of the lines that have no period column")
	f.StringVar(&name, "name", "", "product name of the lines that have no name column")
	f.StringVar(&prefix, "prefix", billingrun.DefaultPrefix, "merchant_uid prefix (1-8 of A-Za-z0-9-); keep it fixed for re-runs")
	f.IntVar(&concurrency, "concurrency", billingrun.DefaultConcurrency, "charges at once")
	f.BoolVar(&noProgress, "no-progress", false, "no progress bar, even on a terminal")
	return cmd
}

// readCharges reads the CSV file; any bad line fails the whole file.
func readCharges(path, period, name string) ([]billingrun.Charge, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, usagef("--file: %v", err)
		}
		defer f.Close()
		r = f
	}
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, usagef("%s: reading the header: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "customer_uid", "amount", "period", "name", "currency":
		default:
			return nil, usagef("%s: unknown column %q (want customer_uid, amount, period, name, currency)", path, h)
		}
		if _, dup := col[h]; dup {
			return nil, usagef("%s: column %q twice", path, h)
		}
		col[h] = i
	}
	for _, need := range []string{"customer_uid", "amount"} {
		if _, ok := col[need]; !ok {
			return nil, usagef("%s: the header has no %s column", path, need)
		}
	}
	if _, ok := col["period"]; !ok && period == "" {
		return nil, usagef("%s: no period column: give --period", path)
	}
	get := func(rec []string, k string) string {
		if i, ok := col[k]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []billingrun.Charge
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, usagef("%s: %v", path, err)
		}
		line, _ := cr.FieldPos(0)
		amount, err := parseAmount("amount", get(rec, "amount"))
		if err != nil {
			return nil, usagef("%s line %d: %v", path, line, err)
		}
		c := billingrun.Charge{CustomerUID: get(rec, "customer_uid"), Amount: amount, Currency: get(rec, "currency"), Name: get(rec, "name"), Period: get(rec, "period")}
		if c.Period == "" {
			c.Period = period
		}
		if c.Name == "" {
			c.Name = name
		}
		if c.CustomerUID == "" || c.Period == "" {
			return nil, usagef("%s line %d: customer_uid and period must not be empty", path, line)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, usagef("%s: no charges", path)
	}
	return out, nil
}

// billLine is one result in JSON.
type billLine struct {
	Type        string `json:"type"` // "result"
	Outcome     string `json:"outcome"`
	CustomerUID string `json:"customer_uid"`
	Period      string `json:"period"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	MerchantUID string `json:"merchant_uid,omitempty"`
	ImpUID      string `json:"imp_uid,omitempty"`
	FailReason  string `json:"fail_reason,omitempty"`
	Error       string `json:"error,omitempty"`
	DurationMS  int64  `json:"duration_ms"`
}

type tallyView struct {
	Count   int              `json:"count"`
	Amounts map[string]int64 `json:"amounts,omitempty"`
}

type billSummary struct {
	Type       string    `json:"type"` // "summary"
	Reported   int       `json:"reported"`
	NotStarted int       `json:"not_started"`
	Paid       tallyView `json:"paid"`
	Refunded   tallyView `json:"refunded"` // already paid by an earlier run, refunded since
	Declined   tallyView `json:"declined"`
	NotCharged tallyView `json:"not_charged"`
	Unknown    tallyView `json:"unknown"`
	Invalid    tallyView `json:"invalid"`
	Settled    bool      `json:"settled"`
	DurationMS int64     `json:"duration_ms"`
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (a *app) bill(cmd *cobra.Command, r *billingrun.Runner, charges []billingrun.Charge, noProgress bool) error {
	var bar *progressbar.ProgressBar
	if !noProgress && isTerminal(a.stderr) {
		bar = progressbar.NewOptions(len(charges),
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription("charging"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("charges"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }),
		)
	}
	// On a terminal with the bar, the paid lines would only scroll it
	// away: print the others.
	quietPaid := bar != nil && isTerminal(a.stdout) && !a.json()
	r.OnResult = func(res billingrun.Result) {
		if bar != nil {
			_ = bar.Add(1)
		}
		if quietPaid && res.Outcome == billingrun.Paid {
			return
		}
		if bar != nil && isTerminal(a.stdout) {
			_ = bar.Clear()
		}
		a.billResult(res)
	}
	sum, runErr := r.RunSlice(cmd.Context(), charges)
	if bar != nil {
		_ = bar.Finish()
	}
	a.billSummary(sum)
	code := exitOK
	switch {
	case sum.Unknown.Count > 0:
		code = exitUnknown
	case sum.NotCharged.Count > 0 || sum.NotStarted > 0:
		code = exitNotCharged
	case sum.Invalid.Count > 0:
		code = exitUsage
	case sum.Declined.Count > 0:
		code = exitDeclined
	}
	if runErr != nil {
		if code == exitOK || code == exitDeclined || code == exitUsage {
			code = exitNotCharged
		}
		return &exitError{code: code, msg: fmt.Sprintf("stopped: %v; %d charges not started: run the same file again (safe)", runErr, sum.NotStarted)}
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
}

func (a *app) billResult(res billingrun.Result) {
	l := billLine{Type: "result", Outcome: res.Outcome.String(), CustomerUID: res.Charge.CustomerUID, Period: res.Charge.Period,
		Amount: res.Charge.Amount, Currency: currencyOf(res.Charge.Currency), MerchantUID: res.MerchantUID, DurationMS: res.Duration.Milliseconds()}
	if res.Payment != nil {
		l.ImpUID = res.Payment.ImpUID
		if res.Outcome == billingrun.Declined {
			l.FailReason = res.Payment.FailReason
		}
	}
	if res.Err != nil && res.Outcome != billingrun.Declined {
		l.Error = errorLine(res.Err)
	}
	if a.json() {
		_ = printJSON(a.stdout, l)
		return
	}
	detail := l.ImpUID
	switch {
	case l.FailReason != "":
		detail = strings.TrimSpace(detail + " " + l.FailReason)
	case l.Error != "":
		detail = l.Error
	}
	fmt.Fprintf(a.stdout, "%-11s %s %s %s %s %s\n", l.Outcome, l.CustomerUID, l.Period, money(l.Amount, l.Currency), orDash(l.MerchantUID), detail)
}

func tallyOf(t billingrun.Tally) tallyView { return tallyView{Count: t.Count, Amounts: t.Amounts} }

func (a *app) billSummary(s billingrun.Summary) {
	if a.json() {
		_ = printJSON(a.stdout, billSummary{
			Type: "summary", Reported: s.Reported, NotStarted: s.NotStarted, Paid: tallyOf(s.Paid), Refunded: tallyOf(s.Refunded), Declined: tallyOf(s.Declined),
			NotCharged: tallyOf(s.NotCharged), Unknown: tallyOf(s.Unknown), Invalid: tallyOf(s.Invalid),
			Settled: s.Settled(), DurationMS: s.Duration.Milliseconds(),
		})
		return
	}
	fmt.Fprintf(a.stdout, "\n%d charges in %s\n", s.Reported, s.Duration.Round(time.Millisecond))
	for _, o := range billingrun.Outcomes {
		t := s.Of(o)
		fmt.Fprintf(a.stdout, "  %-12s %6d  %s\n", strings.ReplaceAll(o.String(), "_", " "), t.Count, amounts(t))
	}
	if s.NotStarted > 0 {
		fmt.Fprintf(a.stdout, "  %-12s %6d\n", "not started", s.NotStarted)
	}
	if s.Settled() {
		fmt.Fprintln(a.stdout, "settled: a re-run would charge nothing new")
	} else {
		fmt.Fprintln(a.stdout, "not settled: run the same file again to retry what was not charged or is unknown (nothing is charged twice)")
	}
}

func amounts(t billingrun.Tally) string {
	curs := make([]string, 0, len(t.Amounts))
	for c := range t.Amounts {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	parts := make([]string, len(curs))
	for i, c := range curs {
		parts[i] = money(t.Amounts[c], c)
	}
	return strings.Join(parts, ", ")
}
