package main

import (
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/spf13/cobra"
)

func (a *app) scheduleCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "schedule", Short: "Create, list, show and revoke scheduled charges"}
	cmd.AddCommand(a.scheduleCreateCmd(), a.scheduleListCmd(), a.scheduleGetCmd(), a.scheduleRevokeCmd())
	return cmd
}

func (a *app) scheduleCreateCmd() *cobra.Command {
	var customerUID, merchantUID, amount, name, currency, at string
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Schedule a charge of a billing key at a time",
		Example: `  iamport schedule create --customer-uid cust_42 --merchant-uid sub_42_2026_12 --amount 9900 --at 2026-12-01T09:00:00+09:00 --name "Pro 플랜"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := parseAmount("--amount", amount)
			if err != nil {
				return err
			}
			when, err := parseTime("--at", at, false)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			list, err := c.SchedulePayments(cmd.Context(), &iamport.ScheduleRequest{CustomerUID: customerUID, Schedules: []iamport.ScheduleItem{
				{MerchantUID: merchantUID, ScheduleAt: when, Amount: v, Name: name, Currency: currency},
			}})
			if err != nil {
				return err
			}
			for _, s := range list {
				if err := a.printSchedule(s); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&customerUID, "customer-uid", "", "the billing key to charge (required)")
	f.StringVar(&merchantUID, "merchant-uid", "", "your unique id of the charge (required)")
	f.StringVar(&amount, "amount", "", "amount in the currency's minor unit (required)")
	f.StringVar(&at, "at", "", "when Iamport charges: RFC 3339, a local date or time, or +duration (required)")
	f.StringVar(&name, "name", "", "product name")
	f.StringVar(&currency, "currency", "", "ISO 4217 currency (default KRW)")
	for _, n := range []string{"customer-uid", "merchant-uid", "amount", "at"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func (a *app) scheduleListCmd() *cobra.Command {
	var customerUID, from, to, status string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List schedules whose time is in [--from, --to)",
		Long: `List the schedules whose schedule_at is in [--from, --to) (default: from now on, 90 days),
of every billing key or of --customer-uid, newest first. A bare date in --to means the whole of that day.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := &iamport.ScheduleListOptions{Status: status}
			if status == "all" {
				opts.Status = ""
			}
			var err error
			if from == "" {
				opts.From = time.Now()
			} else if opts.From, err = parseTime("--from", from, false); err != nil {
				return err
			}
			if to == "" {
				opts.To = opts.From.AddDate(0, 0, 90)
			} else if opts.To, err = parseTime("--to", to, true); err != nil {
				return err
			}
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			seq := c.Schedules(cmd.Context(), opts)
			if customerUID != "" {
				seq = c.CustomerSchedules(cmd.Context(), customerUID, opts)
			}
			l := a.newLister("MERCHANT_UID", "CUSTOMER_UID", "SCHEDULE_AT", "AMOUNT", "STATUS", "PAYMENT")
			for s, err := range seq {
				if err != nil {
					return err
				}
				if err := l.schedule(s); err != nil {
					return err
				}
				if limit > 0 && l.n >= limit {
					break
				}
			}
			return l.done("schedules")
		},
	}
	f := cmd.Flags()
	f.StringVar(&customerUID, "customer-uid", "", "only this billing key's schedules")
	f.StringVar(&from, "from", "", "start of the range, inclusive (default now)")
	f.StringVar(&to, "to", "", "end of the range, exclusive (default --from plus 90 days)")
	f.StringVar(&status, "status", "all", "all, scheduled, executed or revoked")
	f.IntVar(&limit, "limit", 0, "print at most this many (0: all)")
	return cmd
}

func (a *app) scheduleGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get <merchant_uid>",
		Short: "Show one schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			s, err := c.GetSchedule(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printSchedule(s)
		},
	}
}

func (a *app) scheduleRevokeCmd() *cobra.Command {
	var customerUID string
	cmd := &cobra.Command{
		Use:   "revoke [merchant_uid...]",
		Short: "Revoke schedules that have not run (by merchant_uid, or every one of --customer-uid)",
		Example: `  iamport schedule revoke sub_42_2026_12
  iamport schedule revoke --customer-uid cust_42`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && customerUID == "" {
				return usagef("name merchant_uids to revoke, or --customer-uid to revoke every schedule of a billing key")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			list, err := c.UnschedulePayments(cmd.Context(), &iamport.UnscheduleRequest{CustomerUID: customerUID, MerchantUIDs: args})
			if err != nil {
				return err
			}
			l := a.newLister("MERCHANT_UID", "CUSTOMER_UID", "SCHEDULE_AT", "AMOUNT", "STATUS", "PAYMENT")
			for _, s := range list {
				if err := l.schedule(s); err != nil {
					return err
				}
			}
			return l.done("schedules revoked")
		},
	}
	cmd.Flags().StringVar(&customerUID, "customer-uid", "", "revoke this billing key's schedules (all of them, or only the named ones)")
	return cmd
}
