package iamporttest

import "time"

// FaultKind says how a request hit by a [Fault] misbehaves.
type FaultKind int

const (
	// FaultNone: the request is served normally.
	FaultNone FaultKind = iota
	// FaultReset hijacks the connection and closes it with a TCP reset before
	// the request is processed; nothing is recorded.
	FaultReset
	// Fault5xxBeforeCommit answers HTTP 500 with the envelope; nothing is
	// recorded.
	Fault5xxBeforeCommit
	// FaultDropAfterCommit processes and commits the request fully, then
	// closes the connection without a reply.
	FaultDropAfterCommit
	// Fault5xxAfterCommit commits the request, then answers HTTP 500.
	Fault5xxAfterCommit
	// FaultHTML502 answers an nginx-like HTML 502 page; nothing is recorded.
	FaultHTML502
	// FaultDelay waits Delay, then processes and commits the request
	// normally, even if the client went away meanwhile. Delay passes on the
	// server's Clock (moved by the test or by an iamporttest client's waits)
	// or in real time, whichever is first.
	FaultDelay
	// FaultSlowPG (charge routes only) records the payment "ready" at once and
	// answers only after Delay (as for FaultDelay), when the payment becomes
	// paid or failed; lookups meanwhile see "ready". The charge completes
	// even if the client went away.
	FaultSlowPG
	// FaultRedirect answers 307 Temporary Redirect to the same URL before
	// the request is processed; nothing is recorded. A client that follows
	// it sends the request twice.
	FaultRedirect
	// FaultRedirectAfterCommit commits the request, then answers 308
	// Permanent Redirect to the same URL instead of the reply.
	FaultRedirectAfterCommit
)

// String returns the constant's name.
func (k FaultKind) String() string {
	switch k {
	case FaultNone:
		return "FaultNone"
	case FaultReset:
		return "FaultReset"
	case Fault5xxBeforeCommit:
		return "Fault5xxBeforeCommit"
	case FaultDropAfterCommit:
		return "FaultDropAfterCommit"
	case Fault5xxAfterCommit:
		return "Fault5xxAfterCommit"
	case FaultHTML502:
		return "FaultHTML502"
	case FaultDelay:
		return "FaultDelay"
	case FaultSlowPG:
		return "FaultSlowPG"
	case FaultRedirect:
		return "FaultRedirect"
	case FaultRedirectAfterCommit:
		return "FaultRedirectAfterCommit"
	}
	return "FaultKind(?)"
}

// Fault describes a misbehaviour injected with [Server.InjectFault].
type Fault struct {
	// Kind is what happens to a request the fault hits.
	Kind FaultKind
	// Route limits the fault to one route string (as for [Server.Requests],
	// e.g. "POST /subscribe/payments/again" or "POST /users/getToken"); ""
	// means any charge route ([RouteAgain], [RouteOnetime], [RouteRetry]).
	Route string
	// MerchantUID limits the fault to requests about this merchant_uid (from
	// the path or the body, or the payment an imp_uid names); "" means any.
	MerchantUID string
	// Times is how many requests the fault hits: 0 means 1, -1 means forever.
	Times int
	// Delay is the delay of FaultDelay and FaultSlowPG: on the server's
	// Clock, or in real time, whichever passes first.
	Delay time.Duration
}

type faultEntry struct {
	f    Fault
	left int // -1 = forever
}

func (e *faultEntry) matches(route, merchantUID string) bool {
	if e.left == 0 {
		return false
	}
	if e.f.Route == "" {
		if !isChargeRoute(route) {
			return false
		}
	} else if e.f.Route != route {
		return false
	}
	return e.f.MerchantUID == "" || e.f.MerchantUID == merchantUID
}

// InjectFault adds a fault. Faults are matched in the order they were
// injected; each request is hit by at most one (the first that matches and
// has hits left).
func (s *Server) InjectFault(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	if left < -1 {
		left = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.faults = append(s.st.faults, &faultEntry{f: f, left: left})
}

// SetFaultFunc sets a function consulted for every request (getToken
// included) that no injected fault hits, with the request's route string and
// merchant_uid ("" when it has none); the Kind and Delay of the Fault it
// returns apply (FaultSlowPG applies to charge routes only). nil clears it.
// fn must be safe for concurrent use; it is called without the server's lock.
func (s *Server) SetFaultFunc(fn func(route, merchantUID string) Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.faultFn = fn
}

// ClearFaults removes every injected fault and the fault function.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.faults = nil
	s.st.faultFn = nil
}

func (s *Server) pickFault(route, merchantUID string) Fault {
	s.mu.Lock()
	for i, e := range s.st.faults {
		if e.matches(route, merchantUID) {
			if e.left > 0 {
				e.left--
			}
			f := e.f
			if e.left == 0 {
				s.st.faults = append(s.st.faults[:i:i], s.st.faults[i+1:]...)
			}
			s.mu.Unlock()
			return f
		}
	}
	fn := s.st.faultFn
	s.mu.Unlock()
	if fn == nil {
		return Fault{}
	}
	return fn(route, merchantUID)
}
