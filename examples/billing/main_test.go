package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestBillingExampleOnFake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	env := map[string]string{} // no credentials: the embedded fake
	if err := run(ctx, &out, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"1. Payment window issued", "2. Verified billing key cust_0001", "3. Charged", "status paid", "5. Re-ran the same charge", "declined: ", "잔액부족", "Done."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBillingExampleLiveNeedsCustomer(t *testing.T) {
	env := map[string]string{"IAMPORT_API_KEY": "k", "IAMPORT_API_SECRET": "s"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "IAMPORT_CUSTOMER_UID") {
		t.Fatalf("want a clear error about IAMPORT_CUSTOMER_UID, got %v", err)
	}
}
