// Package hook connects package iamport with iamporttest without adding
// test-only API to iamport: iamport fills the variables in its init, and
// iamporttest calls them.
package hook

import (
	"context"
	"time"
)

// ClientClock returns an iamport.Option (as any) that makes a client read
// time from now and wait with sleep. Set by package iamport.
var ClientClock func(now func() time.Time, sleep func(context.Context, time.Duration) error) any
