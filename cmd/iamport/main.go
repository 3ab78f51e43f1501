// Command iamport is an operator's command line for the Iamport (PortOne
// V1) REST API, built on github.com/billingkr/iamport-go: look payments up,
// cancel them, charge billing keys, manage schedules, bill a CSV file of
// subscriptions, and run the fake Iamport as a standalone server that tests
// in any language can drive.
//
// Credentials come from the environment only (IAMPORT_API_KEY,
// IAMPORT_API_SECRET), never from a flag that would land in shell history.
// Exit codes, for cron jobs:
//
//	0  ok (charge: paid)
//	1  usage or configuration error (also: invalid input caught before any request)
//	2  declined by the card company (nothing taken)
//	3  not charged (the charge failed and Iamport has no payment for it)
//	4  outcome unknown (the money may or may not have been taken)
//	5  API error (Iamport, or the network, refused or failed a call)
//
// See README.md beside this file.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
