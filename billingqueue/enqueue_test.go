package billingqueue

import (
	"context"
	"strings"
	"testing"

	"github.com/billingkr/iamport-go/billingrun"
)

// CSV: header in any order, optional columns; enqueued twice, the second
// time nothing new; a bad amount names its line and enqueues nothing.
func TestEnqueueCSV(t *testing.T) {
	t.Parallel()
	q, _ := newSQLiteQueue(t, ":memory:", nil, testConfig(-1))
	ctx := context.Background()
	const csv = "amount,customer_uid,name\n9900,cust-1,월 구독\n12900,cust-2,연 구독\n9900, cust-3 ,월 구독\n"
	res, err := q.EnqueueCSV(ctx, strings.NewReader(csv), "2026-11")
	if err != nil || res != (EnqueueResult{Inserted: 3}) {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = q.EnqueueCSV(ctx, strings.NewReader(csv), "2026-11")
	if err != nil || res != (EnqueueResult{Duplicates: 3}) {
		t.Fatalf("again: %+v %v", res, err)
	}
	r, err := q.Report(ctx, "2026-11")
	if err != nil || r.Charges != 3 || r.ByStatus[StatusPending] != (Tally{3, 32700}) {
		t.Fatalf("report: %s %v", r, err)
	}
	want, _ := billingrun.MerchantUID("", "cust-3", "2026-11")
	found := false
	for _, p := range r.Pending {
		found = found || (p.CustomerUID == "cust-3" && p.MerchantUID == want && p.Why == "not tried yet")
	}
	if !found {
		t.Errorf("cust-3 (trimmed) not pending with merchant_uid %s: %+v", want, r.Pending)
	}
	_, err = q.EnqueueCSV(ctx, strings.NewReader("customer_uid,amount\ncust-9,100\ncust-10,1O0\n"), "2026-12")
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("bad amount: %v", err)
	}
	if r, _ := q.Report(ctx, "2026-12"); r.Charges != 0 {
		t.Fatalf("a bad CSV enqueued %d charges", r.Charges)
	}
	if _, err := q.EnqueueCSV(ctx, strings.NewReader("customer,amount\nx,1\n"), "2026-12"); err == nil {
		t.Fatal("a CSV without customer_uid was accepted")
	}
}

// EnqueueTx: the jobs exist if and only if the merchant's transaction
// commits, together with the merchant's own rows.
func TestEnqueueTxWithMerchantRows(t *testing.T) {
	t.Parallel()
	q, db := newSQLiteQueue(t, ":memory:", nil, testConfig(-1))
	ctx := context.Background()
	if _, err := db.Exec(`CREATE TABLE invoices (customer_uid TEXT PRIMARY KEY, amount INTEGER)`); err != nil {
		t.Fatal(err)
	}
	one := func(yield func(Charge) bool) { yield(Charge{Run: "2026-11", CustomerUID: "cust-1", Amount: 9900}) }
	for _, commit := range []bool{false, true} {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO invoices VALUES ('cust-1', 9900)`); err != nil {
			t.Fatal(err)
		}
		if res, err := q.EnqueueTx(ctx, tx, one); err != nil || res.Inserted != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		var rows int
		if err := db.QueryRow(`SELECT count(*) FROM invoices`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		r, err := q.Report(ctx, "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if commit {
			want = 1
		}
		if rows != want || r.Charges != want {
			t.Fatalf("commit=%v: %d invoice rows, %d charges; want %d", commit, rows, r.Charges, want)
		}
	}
}
