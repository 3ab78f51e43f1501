package app

import (
	"context"
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

// MemStore is a Store in memory, safe for concurrent use. Values are copied
// in and out.
type MemStore struct {
	mu     sync.Mutex
	orders map[string]Order
	subs   map[string]Subscription
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{orders: map[string]Order{}, subs: map[string]Subscription{}}
}

// PutOrder stores o under its merchant_uid.
func (m *MemStore) PutOrder(_ context.Context, o Order) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orders[o.MerchantUID] = o
	return nil
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
