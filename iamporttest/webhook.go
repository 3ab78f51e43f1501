package iamporttest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const webhookTimeout = 3 * time.Second

var webhookClient = &http.Client{
	Timeout:   webhookTimeout,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sendWebhookLocked posts ev as JSON to target (or the console URL when
// target is empty), asynchronously; only loopback URLs are contacted.
func (s *Server) sendWebhookLocked(target string, ev wireWebhook) {
	if target == "" {
		target = s.webhookURL
	}
	if target == "" || s.st.closed {
		return
	}
	rec := Webhook{URL: target, ImpUID: ev.ImpUID, MerchantUID: ev.MerchantUID, Status: ev.Status, CancellationID: ev.CancellationID}
	if !isLoopbackURL(target) {
		rec.Err = "not sent: only loopback URLs are contacted"
		s.st.webhooks = append(s.st.webhooks, rec)
		return
	}
	idx := len(s.st.webhooks)
	s.st.webhooks = append(s.st.webhooks, rec)
	s.st.webhooksInFlight++
	body, _ := json.Marshal(ev)
	go func() {
		status, errText := s.postWebhook(target, body)
		s.mu.Lock()
		s.st.webhooks[idx].StatusCode = status
		s.st.webhooks[idx].Err = errText
		s.st.webhooksInFlight--
		s.whCnd.Broadcast()
		s.mu.Unlock()
	}()
}

func (s *Server) postWebhook(target string, body []byte) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "iamporttest-webhook")
	resp, err := webhookClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var sink [512]byte
	for {
		if _, err := resp.Body.Read(sink[:]); err != nil {
			break
		}
	}
	return resp.StatusCode, ""
}
