package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	iamport "github.com/billingkr/iamport-go"
)

// ---- money ----

// exponent is the number of minor-unit digits of a currency (the SDK's
// rule: 0 for KRW, JPY and the other zero-decimal currencies, 3 for the
// dinars, 2 otherwise).
func exponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "", "KRW", "JPY", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "XPF", "KMF", "GNF", "PYG", "RWF", "VUV", "DJF", "BIF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

func currencyOf(c string) string {
	if c == "" {
		return "KRW"
	}
	return strings.ToUpper(c)
}

// money formats a minor-unit amount with thousands separators and the
// currency: "9,900 KRW", "1,234.56 USD".
func money(amount int64, currency string) string {
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = uint64(-amount)
	}
	digits := strconv.FormatUint(u, 10)
	exp := exponent(currency)
	var frac string
	if exp > 0 {
		for len(digits) <= exp {
			digits = "0" + digits
		}
		digits, frac = digits[:len(digits)-exp], digits[len(digits)-exp:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	b.WriteByte(' ')
	b.WriteString(currencyOf(currency))
	return b.String()
}

// parseAmount reads a minor-unit amount: digits, with optional , or _
// separators.
func parseAmount(flag, s string) (int64, error) {
	clean := strings.NewReplacer(",", "", "_", "").Replace(strings.TrimSpace(s))
	v, err := strconv.ParseInt(clean, 10, 64)
	if err != nil || clean == "" || clean[0] == '+' {
		return 0, usagef("%s %q: want a whole number of the currency's minor unit (KRW: won; USD: cents)", flag, s)
	}
	return v, nil
}

// ---- time ----

const tableTime = "2006-01-02 15:04:05 MST"

func tableTimeOf(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(tableTime)
}

func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// isDate says whether s is a bare date (2006-01-02).
func isDate(s string) bool {
	_, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	return err == nil
}

// parseTime reads a time flag: RFC 3339, "2006-01-02T15:04[:05]" or
// "2006-01-02 15:04[:05]" in the local zone, a bare date (its start, or
// with end the start of the next day), "now", or "+1h30m" / "-24h" from now.
func parseTime(flag, s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	now := time.Now()
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		if d, err := time.ParseDuration(s); err == nil {
			return now.Add(d), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, usagef("%s %q: want RFC 3339 (2026-12-01T09:00:00+09:00), a local date or time (2026-12-01, 2026-12-01 09:00), now, or +/-duration (+1h)", flag, s)
}

// ---- views: what --output json prints (amounts in minor units) ----

type cancelView struct {
	Amount         int64  `json:"amount"`
	Reason         string `json:"reason,omitempty"`
	CancelledAt    string `json:"cancelled_at,omitempty"`
	PGTID          string `json:"pg_tid,omitempty"`
	CancellationID string `json:"cancellation_id,omitempty"`
	ReceiptURL     string `json:"receipt_url,omitempty"`
}

type paymentView struct {
	ImpUID        string       `json:"imp_uid"`
	MerchantUID   string       `json:"merchant_uid"`
	CustomerUID   string       `json:"customer_uid,omitempty"`
	Status        string       `json:"status"`
	Amount        int64        `json:"amount"`
	CancelAmount  int64        `json:"cancel_amount"`
	Currency      string       `json:"currency"`
	Name          string       `json:"name,omitempty"`
	PayMethod     string       `json:"pay_method,omitempty"`
	PGProvider    string       `json:"pg_provider,omitempty"`
	PGTID         string       `json:"pg_tid,omitempty"`
	CardName      string       `json:"card_name,omitempty"`
	CardNumber    string       `json:"card_number,omitempty"`
	BuyerName     string       `json:"buyer_name,omitempty"`
	FailReason    string       `json:"fail_reason,omitempty"`
	CancelReason  string       `json:"cancel_reason,omitempty"`
	ReceiptURL    string       `json:"receipt_url,omitempty"`
	Sandbox       bool         `json:"sandbox,omitempty"`
	StartedAt     string       `json:"started_at,omitempty"`
	PaidAt        string       `json:"paid_at,omitempty"`
	FailedAt      string       `json:"failed_at,omitempty"`
	CancelledAt   string       `json:"cancelled_at,omitempty"`
	CancelHistory []cancelView `json:"cancel_history,omitempty"`
}

func viewPayment(p *iamport.Payment) paymentView {
	v := paymentView{
		ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, CustomerUID: p.CustomerUID, Status: string(p.Status),
		Amount: p.Amount, CancelAmount: p.CancelAmount, Currency: currencyOf(p.Currency), Name: p.Name,
		PayMethod: p.PayMethod, PGProvider: p.PGProvider, PGTID: p.PGTID, CardName: p.CardName,
		CardNumber: p.CardNumber, BuyerName: p.BuyerName, FailReason: p.FailReason, CancelReason: p.CancelReason,
		ReceiptURL: p.ReceiptURL, Sandbox: p.Sandbox, StartedAt: jsonTime(p.StartedAt), PaidAt: jsonTime(p.PaidAt),
		FailedAt: jsonTime(p.FailedAt), CancelledAt: jsonTime(p.CancelledAt),
	}
	for _, c := range p.CancelHistory {
		v.CancelHistory = append(v.CancelHistory, cancelView{Amount: c.Amount, Reason: c.Reason, CancelledAt: jsonTime(c.CancelledAt),
			PGTID: c.PGTID, CancellationID: c.CancellationID, ReceiptURL: c.ReceiptURL})
	}
	return v
}

type billingKeyView struct {
	CustomerUID   string `json:"customer_uid"`
	PGProvider    string `json:"pg_provider,omitempty"`
	PGID          string `json:"pg_id,omitempty"`
	CardName      string `json:"card_name,omitempty"`
	CardCode      string `json:"card_code,omitempty"`
	CardNumber    string `json:"card_number,omitempty"`
	CardType      *int   `json:"card_type"`
	CustomerName  string `json:"customer_name,omitempty"`
	CustomerEmail string `json:"customer_email,omitempty"`
	CustomerTel   string `json:"customer_tel,omitempty"`
	Sandbox       bool   `json:"sandbox,omitempty"`
	Inserted      string `json:"inserted,omitempty"`
	Updated       string `json:"updated,omitempty"`
}

func viewBillingKey(k *iamport.BillingKey) billingKeyView {
	return billingKeyView{
		CustomerUID: k.CustomerUID, PGProvider: k.PGProvider, PGID: k.PGID, CardName: k.CardName, CardCode: k.CardCode,
		CardNumber: k.CardNumber, CardType: k.CardType, CustomerName: k.CustomerName, CustomerEmail: k.CustomerEmail,
		CustomerTel: k.CustomerTel, Sandbox: k.Sandbox, Inserted: jsonTime(k.Inserted), Updated: jsonTime(k.Updated),
	}
}

type scheduleView struct {
	MerchantUID    string `json:"merchant_uid"`
	CustomerUID    string `json:"customer_uid"`
	ImpUID         string `json:"imp_uid,omitempty"`
	ScheduleAt     string `json:"schedule_at"`
	ExecutedAt     string `json:"executed_at,omitempty"`
	RevokedAt      string `json:"revoked_at,omitempty"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	Name           string `json:"name,omitempty"`
	ScheduleStatus string `json:"schedule_status"`
	PaymentStatus  string `json:"payment_status,omitempty"`
	FailReason     string `json:"fail_reason,omitempty"`
}

func viewSchedule(s *iamport.Schedule) scheduleView {
	return scheduleView{
		MerchantUID: s.MerchantUID, CustomerUID: s.CustomerUID, ImpUID: s.ImpUID, ScheduleAt: jsonTime(s.ScheduleAt),
		ExecutedAt: jsonTime(s.ExecutedAt), RevokedAt: jsonTime(s.RevokedAt), Amount: s.Amount, Currency: currencyOf(s.Currency),
		Name: s.Name, ScheduleStatus: s.ScheduleStatus, PaymentStatus: string(s.PaymentStatus), FailReason: s.FailReason,
	}
}

// ---- printers ----

func (a *app) json() bool { return a.output == "json" }

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// kv prints a vertical table of one object.
func kv(w io.Writer, rows [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		if r[1] == "" {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

func (a *app) printPayment(p *iamport.Payment) error {
	if a.json() {
		return printJSON(a.stdout, viewPayment(p))
	}
	rows := [][2]string{
		{"imp_uid", p.ImpUID}, {"merchant_uid", p.MerchantUID}, {"customer_uid", p.CustomerUID},
		{"status", string(p.Status)}, {"amount", money(p.Amount, p.Currency)},
	}
	if p.CancelAmount != 0 {
		rows = append(rows, [2]string{"cancelled", money(p.CancelAmount, p.Currency)},
			[2]string{"refundable", money(p.Amount-p.CancelAmount, p.Currency)})
	}
	rows = append(rows, [][2]string{
		{"name", p.Name}, {"pay_method", p.PayMethod}, {"pg", strings.Trim(p.PGProvider+" "+p.PGTID, " ")},
		{"card", strings.Trim(p.CardName+" "+p.CardNumber, " ")}, {"fail_reason", p.FailReason},
		{"cancel_reason", p.CancelReason}, {"started_at", tableTimeOf(p.StartedAt)},
	}...)
	if !p.PaidAt.IsZero() {
		rows = append(rows, [2]string{"paid_at", tableTimeOf(p.PaidAt)})
	}
	if !p.FailedAt.IsZero() {
		rows = append(rows, [2]string{"failed_at", tableTimeOf(p.FailedAt)})
	}
	if !p.CancelledAt.IsZero() {
		rows = append(rows, [2]string{"cancelled_at", tableTimeOf(p.CancelledAt)})
	}
	for i, c := range p.CancelHistory {
		rows = append(rows, [2]string{fmt.Sprintf("cancel #%d", i+1), fmt.Sprintf("%s at %s: %s", money(c.Amount, p.Currency), tableTimeOf(c.CancelledAt), c.Reason)})
	}
	if p.Sandbox {
		rows = append(rows, [2]string{"sandbox", "true"})
	}
	rows = append(rows, [2]string{"receipt_url", p.ReceiptURL})
	return kv(a.stdout, rows)
}

func (a *app) printBillingKey(k *iamport.BillingKey) error {
	if a.json() {
		return printJSON(a.stdout, viewBillingKey(k))
	}
	cardType := "-"
	if k.CardType != nil {
		cardType = map[int]string{0: "credit", 1: "check"}[*k.CardType]
	}
	return kv(a.stdout, [][2]string{
		{"customer_uid", k.CustomerUID}, {"pg", strings.Trim(k.PGProvider+" "+k.PGID, " ")},
		{"card", strings.Trim(k.CardName+" "+k.CardNumber, " ")}, {"card_type", cardType},
		{"customer_name", k.CustomerName}, {"customer_email", k.CustomerEmail}, {"customer_tel", k.CustomerTel},
		{"inserted", tableTimeOf(k.Inserted)}, {"updated", tableTimeOf(k.Updated)},
	})
}

func (a *app) printSchedule(s *iamport.Schedule) error {
	if a.json() {
		return printJSON(a.stdout, viewSchedule(s))
	}
	rows := [][2]string{
		{"merchant_uid", s.MerchantUID}, {"customer_uid", s.CustomerUID}, {"schedule_at", tableTimeOf(s.ScheduleAt)},
		{"amount", money(s.Amount, s.Currency)}, {"name", s.Name}, {"schedule_status", s.ScheduleStatus},
		{"payment_status", string(s.PaymentStatus)}, {"imp_uid", s.ImpUID}, {"fail_reason", s.FailReason},
	}
	if !s.ExecutedAt.IsZero() {
		rows = append(rows, [2]string{"executed_at", tableTimeOf(s.ExecutedAt)})
	}
	if !s.RevokedAt.IsZero() {
		rows = append(rows, [2]string{"revoked_at", tableTimeOf(s.RevokedAt)})
	}
	return kv(a.stdout, rows)
}

// lister prints a list: JSON lines, or a table with a header that is
// flushed every 100 rows (a long list shows as it comes).
type lister struct {
	a      *app
	tw     *tabwriter.Writer
	header string
	n      int
}

func (a *app) newLister(header ...string) *lister {
	l := &lister{a: a, header: strings.Join(header, "\t")}
	if !a.json() {
		l.tw = tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	}
	return l
}

func (l *lister) row(v any, cells ...string) error {
	if l.tw == nil {
		l.n++
		return printJSON(l.a.stdout, v)
	}
	if l.n == 0 {
		fmt.Fprintln(l.tw, l.header)
	}
	l.n++
	fmt.Fprintln(l.tw, strings.Join(cells, "\t"))
	if l.n%100 == 0 {
		return l.tw.Flush()
	}
	return nil
}

func (l *lister) done(what string) error {
	if l.tw == nil {
		return nil
	}
	if l.n == 0 {
		fmt.Fprintf(l.a.stdout, "no %s\n", what)
		return nil
	}
	return l.tw.Flush()
}

func (l *lister) payment(p *iamport.Payment) error {
	at := p.PaidAt
	if at.IsZero() {
		at = p.StartedAt
	}
	return l.row(viewPayment(p), p.ImpUID, p.MerchantUID, string(p.Status), money(p.Amount, p.Currency), orDash(p.CustomerUID), tableTimeOf(at), orDash(p.FailReason))
}

func (l *lister) schedule(s *iamport.Schedule) error {
	return l.row(viewSchedule(s), s.MerchantUID, s.CustomerUID, tableTimeOf(s.ScheduleAt), money(s.Amount, s.Currency), s.ScheduleStatus, orDash(string(s.PaymentStatus)))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
