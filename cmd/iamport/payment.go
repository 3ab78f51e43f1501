package main

import (
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/spf13/cobra"
)

func (a *app) paymentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "payment", Short: "Look up, list and cancel payments"}
	cmd.AddCommand(a.paymentGetCmd(), a.paymentFindCmd(), a.paymentListCmd(), a.paymentCancelCmd())
	return cmd
}

func (a *app) paymentGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get <imp_uid>",
		Short: "Show one payment by imp_uid",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			p, err := c.GetPayment(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printPayment(p)
		},
	}
}

func (a *app) paymentFindCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "find <merchant_uid>",
		Short: "Show the newest payment of a merchant_uid (--all: every one)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if !all {
				p, err := c.FindPayment(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.printPayment(p)
			}
			l := a.paymentLister()
			for p, err := range c.FindPayments(cmd.Context(), args[0]) {
				if err != nil {
					return err
				}
				if err := l.payment(p); err != nil {
					return err
				}
			}
			return l.done("payments")
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "list every payment with this merchant_uid (failed attempts too)")
	return cmd
}

func (a *app) paymentLister() *lister {
	return a.newLister("IMP_UID", "MERCHANT_UID", "STATUS", "AMOUNT", "CUSTOMER_UID", "PAID/STARTED", "FAIL_REASON")
}

func (a *app) paymentListCmd() *cobra.Command {
	var (
		status, from, to, sorting string
		limit                     int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List payments by status over a time range",
		Long: `List payments by status over a time range (default: the last 90 days), newest first.
A bare date in --to means the whole of that day.`,
		Example: `  iamport payment list --status paid --from 2026-11-01 --to 2026-11-30
  iamport payment list --status failed --from -24h -o json | jq .fail_reason`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st := iamport.PaymentStatus(status)
			switch st {
			case "all":
				st = ""
			case iamport.PaymentPaid, iamport.PaymentReady, iamport.PaymentCancelled, iamport.PaymentFailed:
			default:
				return usagef("--status must be all, paid, ready, cancelled or failed, not %q", status)
			}
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			opts := &iamport.PaymentListOptions{Sorting: sorting}
			var err error
			if from != "" {
				if opts.From, err = parseTime("--from", from, false); err != nil {
					return err
				}
			}
			if to != "" {
				if opts.To, err = parseTime("--to", to, true); err != nil {
					return err
				}
				if isDate(to) {
					opts.To = opts.To.Add(-time.Second) // the API's to is inclusive
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			l := a.paymentLister()
			for p, err := range c.PaymentsByStatus(cmd.Context(), st, opts) {
				if err != nil {
					return err
				}
				if err := l.payment(p); err != nil {
					return err
				}
				if limit > 0 && l.n >= limit {
					break
				}
			}
			return l.done("payments")
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "all", "all, paid, ready, cancelled or failed")
	f.StringVar(&from, "from", "", "start of the range (default: --to minus 90 days)")
	f.StringVar(&to, "to", "", "end of the range, inclusive (default: now)")
	f.StringVar(&sorting, "sort", "", "-started, started, -paid, paid, -updated or updated (default the API's, -started)")
	f.IntVar(&limit, "limit", 0, "print at most this many (0: all)")
	return cmd
}

func (a *app) paymentCancelCmd() *cobra.Command {
	var (
		amount, checksum, currency, reason string
	)
	cmd := &cobra.Command{
		Use:   "cancel <imp_uid>",
		Short: "Cancel (refund) a payment in full or in part",
		Long: `Cancel (refund) a payment: in full, or --amount of it. With --checksum (the refundable
balance you believe is current) Iamport refuses the cancel if the balance differs, so that two
operators never refund twice. Amounts are in the currency's minor unit (KRW: won).`,
		Example: `  iamport payment cancel imps_123456789012 --reason "고객 요청"
  iamport payment cancel imps_123456789012 --amount 5000 --checksum 9900 --reason "부분 환불"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &iamport.CancelPaymentRequest{ImpUID: args[0], Reason: reason, Currency: currency}
			if amount != "" {
				v, err := parseAmount("--amount", amount)
				if err != nil {
					return err
				}
				req.Amount = v
			}
			if checksum != "" {
				v, err := parseAmount("--checksum", checksum)
				if err != nil {
					return err
				}
				req.Checksum = &v
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			p, err := c.CancelPayment(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.printPayment(p)
		},
	}
	f := cmd.Flags()
	f.StringVar(&amount, "amount", "", "amount to cancel, in minor units (default: the whole refundable balance)")
	f.StringVar(&checksum, "checksum", "", "the refundable balance you expect (Iamport refuses on a mismatch)")
	f.StringVar(&currency, "currency", "", "the currency of --amount and --checksum (default KRW)")
	f.StringVar(&reason, "reason", "", "reason for the cancel")
	return cmd
}
