package app

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"
)

// OrderStatus is where a registration stands.
type OrderStatus string

// The order statuses.
const (
	OrderPending OrderStatus = "pending" // created, payment window not (yet) verified
	OrderDone    OrderStatus = "done"    // verified with Iamport: subscription stored
	OrderFailed  OrderStatus = "failed"  // window failed, closed, or verification failed
)

// Order is one attempt to register a card through the payment window. The
// server creates it before the window opens: merchant_uid, customer_uid and
// amount come from here, never from the browser.
type Order struct {
	MerchantUID string
	CustomerUID string
	Name        string
	Amount      int64 // first charge in KRW; 0 = billing key only
	BuyerName   string
	BuyerEmail  string
	BuyerTel    string
	Status      OrderStatus
	FailReason  string // why it failed, for the result page
	ImpUID      string // the verified first payment (Amount > 0)
	VerifiedBy  string // "callback", "redirect" or "webhook": what completed it
	CreatedAt   time.Time
}

// Subscription is a verified billing key and what has been charged on it.
type Subscription struct {
	CustomerUID string
	PlanName    string
	PlanAmount  int64 // what "charge now" charges, KRW
	CardName    string
	CardNumber  string // masked by Iamport
	BuyerName   string
	BuyerEmail  string
	FirstOrder  string // merchant_uid of the registration
	CreatedAt   time.Time
	Charges     []Charge // newest last
}

// Charge is one AgainPayment on a subscription.
type Charge struct {
	MerchantUID string
	ImpUID      string
	Amount      int64
	Status      string // paid, failed, unknown (outcome not known yet), error (not charged)
	Detail      string // fail reason or error
	At          time.Time
}

// Store keeps orders and subscriptions. MemStore is the in-memory one; a
// real service puts a database behind the same five methods.
type Store interface {
	PutOrder(ctx context.Context, o Order) error
	Order(ctx context.Context, merchantUID string) (Order, bool, error)
	PutSubscription(ctx context.Context, s Subscription) error
	Subscription(ctx context.Context, customerUID string) (Subscription, bool, error)
	Subscriptions(ctx context.Context) ([]Subscription, error)
}

// ErrStoreFull is PutOrder's answer for a new order when the store holds
// as many orders as it may and none can be dropped.
var ErrStoreFull = errors.New("order store full")

// DefaultMaxOrders bounds a MemStore's orders: anyone can create orders
// (POST /orders is public), so the store must not grow without limit.
const DefaultMaxOrders = 10000

// PendingOrderTTL is how long a MemStore keeps a pending order that
// nothing settled before it may drop it to make room: long past any
// payment window and Iamport's webhook retries.
const PendingOrderTTL = 24 * time.Hour

// MemStore is a Store in memory, safe for concurrent use. Values are copied
// in and out. It holds at most its maximum of orders: to make room it drops
// failed orders first, then pending ones older than PendingOrderTTL, then
// the oldest done ones (their subscriptions stay); when only recent
// pending orders are left, a new order is ErrStoreFull. A database-backed
// Store needs the same care: expire abandoned orders, and limit how fast
// one client can create them.
type MemStore struct {
	mu        sync.Mutex
	maxOrders int
	orders    map[string]Order
	subs      map[string]Subscription
	now       func() time.Time
}

// NewMemStore returns an empty MemStore holding at most DefaultMaxOrders
// orders.
func NewMemStore() *MemStore { return NewMemStoreSize(DefaultMaxOrders) }

// NewMemStoreSize returns an empty MemStore holding at most maxOrders
// orders (at least 1).
func NewMemStoreSize(maxOrders int) *MemStore {
	return &MemStore{maxOrders: max(maxOrders, 1), orders: map[string]Order{}, subs: map[string]Subscription{}, now: time.Now}
}

// PutOrder stores o under its merchant_uid. A new order may drop another
// to stay within the bound, or be refused with ErrStoreFull.
func (m *MemStore) PutOrder(_ context.Context, o Order) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.orders[o.MerchantUID]; !ok && len(m.orders) >= m.maxOrders && !m.dropOne() {
		return ErrStoreFull
	}
	m.orders[o.MerchantUID] = o
	return nil
}

// dropOne removes the order least worth keeping, if any may go.
func (m *MemStore) dropOne() bool {
	rank := func(o Order) int {
		switch {
		case o.Status == OrderFailed:
			return 0
		case o.Status == OrderPending && m.now().Sub(o.CreatedAt) > PendingOrderTTL:
			return 1
		case o.Status == OrderDone:
			return 2
		}
		return -1 // a recent pending order: its payment may still come
	}
	var victim string
	best := -1
	var bestAt time.Time
	for k, o := range m.orders {
		r := rank(o)
		if r < 0 {
			continue
		}
		if best < 0 || r < best || r == best && o.CreatedAt.Before(bestAt) {
			victim, best, bestAt = k, r, o.CreatedAt
		}
	}
	if best < 0 {
		return false
	}
	delete(m.orders, victim)
	return true
}

// Orders returns how many orders the store holds.
func (m *MemStore) Orders() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.orders)
}

// Order returns the order with this merchant_uid.
func (m *MemStore) Order(_ context.Context, merchantUID string) (Order, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[merchantUID]
	return o, ok, nil
}

// PutSubscription stores s under its customer_uid.
func (m *MemStore) PutSubscription(_ context.Context, s Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Charges = append([]Charge(nil), s.Charges...)
	m.subs[s.CustomerUID] = s
	return nil
}

// Subscription returns the subscription of this customer_uid.
func (m *MemStore) Subscription(_ context.Context, customerUID string) (Subscription, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[customerUID]
	s.Charges = append([]Charge(nil), s.Charges...)
	return s, ok, nil
}

// Subscriptions returns every subscription, newest first.
func (m *MemStore) Subscriptions(_ context.Context) ([]Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Subscription, 0, len(m.subs))
	for _, s := range m.subs {
		s.Charges = append([]Charge(nil), s.Charges...)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}
