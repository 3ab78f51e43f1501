package billingrun_test

import (
	"context"
	"fmt"
	"sort"

	"github.com/billingkr/iamport-go/billingrun"
	"github.com/billingkr/iamport-go/iamporttest"
)

// Example charges a month of three subscriptions on the fake Iamport, one
// of whose cards declines, then runs the same batch again, as a cron job
// that crashed and restarted would: nothing is charged twice.
func Example() {
	srv := iamporttest.NewServer()
	defer srv.Close()
	for _, cuid := range []string{"cust_alice", "cust_bob", "cust_carol"} {
		if err := srv.RegisterBillingKey(cuid, iamporttest.DefaultCardNumber); err != nil {
			panic(err)
		}
	}
	srv.DeclineCustomer("cust_bob", "잔액부족")

	client := srv.Client() // in production: iamport.NewClient(key, secret)
	charges := []billingrun.Charge{
		{CustomerUID: "cust_alice", Amount: 9900, Name: "Pro 플랜", Period: "2026-11"},
		{CustomerUID: "cust_bob", Amount: 9900, Name: "Pro 플랜", Period: "2026-11"},
		{CustomerUID: "cust_carol", Amount: 19900, Name: "Team 플랜", Period: "2026-11"},
	}

	for run := 1; run <= 2; run++ {
		var lines []string
		r := &billingrun.Runner{
			Charger:     client,
			Prefix:      "acme",
			Concurrency: 2,
			OnResult: func(res billingrun.Result) {
				lines = append(lines, fmt.Sprintf("  %s %d: %s", res.Charge.CustomerUID, res.Charge.Amount, res.Outcome))
			},
		}
		sum, err := r.RunSlice(context.Background(), charges)
		if err != nil {
			panic(err)
		}
		sort.Strings(lines) // results stream in completion order
		fmt.Printf("run %d: paid %d (%d KRW), declined %d, settled %t\n",
			run, sum.Paid.Count, sum.Paid.Amounts["KRW"], sum.Declined.Count, sum.Settled())
		for _, l := range lines {
			fmt.Println(l)
		}
	}
	uid, _ := billingrun.MerchantUID("acme", "cust_alice", "2026-11")
	fmt.Println("alice charged", srv.Charges(uid), "time(s) under", len(uid), "character merchant_uid")
	// Output:
	// run 1: paid 2 (29800 KRW), declined 1, settled true
	//   cust_alice 9900: paid
	//   cust_bob 9900: declined
	//   cust_carol 19900: paid
	// run 2: paid 2 (29800 KRW), declined 1, settled true
	//   cust_alice 9900: paid
	//   cust_bob 9900: declined
	//   cust_carol 19900: paid
	// alice charged 1 time(s) under 31 character merchant_uid
}
