package main

import (
	"errors"

	iamport "github.com/billingkr/iamport-go"
	"github.com/spf13/cobra"
)

func (a *app) billingKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "billing-key", Short: "Look up and delete billing keys (the API's customers)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "get <customer_uid>",
		Short: "Show the billing key of a customer_uid",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			k, err := c.GetBillingKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printBillingKey(k)
		},
	})
	var reason string
	del := &cobra.Command{
		Use:   "delete <customer_uid>",
		Short: "Delete a billing key (its schedules are not revoked: revoke them first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			k, err := c.DeleteBillingKey(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			return a.printBillingKey(k)
		},
	}
	del.Flags().StringVar(&reason, "reason", "", "reason for the deletion")
	cmd.AddCommand(del)
	return cmd
}

func (a *app) chargeCmd() *cobra.Command {
	var (
		customerUID, merchantUID, amount, name, currency string
	)
	cmd := &cobra.Command{
		Use:   "charge",
		Short: "Charge a billing key once (POST /subscribe/payments/again)",
		Long: `Charge a billing key once. The merchant_uid is the idempotency key: repeating the same
command after any outcome is safe, and returns the first payment if it was paid.

Prints the payment when paid (exit 0). A decline prints the failed payment and the reason
(exit 2). Exit 3: not charged. Exit 4: the outcome could not be learned (run the same command
again, or look it up with 'iamport payment find <merchant_uid>'). Exit 5: Iamport refused
the request (nothing was charged).`,
		Example: `  iamport charge --customer-uid cust_42 --merchant-uid order_2026_11_42 --amount 9900 --name "Pro 플랜"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := parseAmount("--amount", amount)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			p, err := c.AgainPayment(cmd.Context(), &iamport.AgainPaymentRequest{
				CustomerUID: customerUID, MerchantUID: merchantUID, Amount: v, Name: name, Currency: currency,
			})
			var pf *iamport.PaymentFailedError
			switch {
			case err == nil && !p.IsPaid():
				// Paid once and cancelled since: the money moved, so this
				// is not a new charge; say so rather than exit 0 quietly.
				_ = a.printPayment(p)
				return &exitError{code: exitUnknown, msg: "merchant_uid " + p.MerchantUID + " was charged before and is now " + string(p.Status)}
			case err == nil:
				return a.printPayment(p)
			case errors.As(err, &pf) && pf.Payment != nil:
				_ = a.printPayment(pf.Payment)
				return err
			}
			var ae *iamport.APIError
			if errors.As(err, &ae) && (ae.StatusCode == 0 || ae.StatusCode >= 500) && !errors.Is(err, iamport.ErrNotCharged) {
				// The SDK reconciles these itself; one that comes back
				// anyway could have charged.
				return &exitError{code: exitUnknown, msg: "outcome unknown (merchant_uid " + merchantUID + "): " + errorLine(err)}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&customerUID, "customer-uid", "", "the billing key to charge (required)")
	f.StringVar(&merchantUID, "merchant-uid", "", "your unique id of this charge, ≤ 40 characters (required)")
	f.StringVar(&amount, "amount", "", "amount in the currency's minor unit (KRW: won) (required)")
	f.StringVar(&name, "name", "", "product name shown to the buyer")
	f.StringVar(&currency, "currency", "", "ISO 4217 currency (default KRW)")
	for _, n := range []string{"customer-uid", "merchant-uid", "amount"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}
