package iamporttest

import (
	"sync"
	"time"
)

// Clock is a manual, goroutine-safe clock. It moves only when told to
// ([Clock.Advance], [Clock.Set]). Servers that use it execute the schedules
// that became due each time it moves, before Advance or Set returns.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	nextID int
	subs   map[int]func()
}

// NewClock returns a Clock that reads t until it is moved.
func NewClock(t time.Time) *Clock {
	return &Clock{t: t, subs: make(map[int]func())}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backward when d is negative) and lets
// the servers using it run the schedules that became due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	subs := c.snapshotLocked()
	c.mu.Unlock()
	for _, fn := range subs {
		fn()
	}
}

// Set moves the clock to t and lets the servers using it run the schedules
// that became due.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	subs := c.snapshotLocked()
	c.mu.Unlock()
	for _, fn := range subs {
		fn()
	}
}

func (c *Clock) snapshotLocked() []func() {
	out := make([]func(), 0, len(c.subs))
	for _, fn := range c.subs {
		out = append(out, fn)
	}
	return out
}

func (c *Clock) subscribe(fn func()) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs == nil {
		c.subs = make(map[int]func())
	}
	c.nextID++
	c.subs[c.nextID] = fn
	return c.nextID
}

func (c *Clock) unsubscribe(id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.subs, id)
}

// after returns a channel that is closed once the clock reads t or later,
// and a func that releases it.
func (c *Clock) after(t time.Time) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	check := func() {
		if !c.Now().Before(t) {
			once.Do(func() { close(ch) })
		}
	}
	id := c.subscribe(check)
	check()
	return ch, func() { c.unsubscribe(id) }
}
