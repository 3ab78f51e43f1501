package iamporttest

import (
	iamport "github.com/billingkr/iamport-go"
)

// Client returns an SDK client wired to the server: its credentials, its
// URL and its Clock. Options in opts come last and may override those. It
// panics if the client cannot be built (a test helper).
func (s *Server) Client(opts ...iamport.Option) *iamport.Client {
	base := []iamport.Option{iamport.WithBaseURL(s.URL()), iamport.WithClock(s.Clock().Now)}
	c, err := iamport.NewClient(s.APIKey, s.APISecret, append(base, opts...)...)
	if err != nil {
		panic("iamporttest: " + err.Error())
	}
	return c
}
