package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/billingkr/iamport-go/iamporttest"
	"github.com/stretchr/testify/require"
)

// harness runs the command line in-process against a fake Iamport.
type harness struct {
	t   *testing.T
	srv *iamporttest.Server
	env map[string]string
}

func newHarness(t *testing.T, opts ...iamporttest.ServerOption) *harness {
	t.Helper()
	srv := iamporttest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, env: map[string]string{
		"IAMPORT_BASE_URL":   srv.URL(),
		"IAMPORT_API_KEY":    srv.APIKey,
		"IAMPORT_API_SECRET": srv.APISecret,
	}}
}

func (h *harness) getenv(k string) string { return h.env[k] }

type result struct {
	code           int
	stdout, stderr string
}

// run runs `iamport args...` and returns its exit code and output.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, h.getenv)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// ok runs args and requires exit 0 and nothing on stderr.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	r := h.run(args...)
	require.Equal(h.t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Empty(h.t, r.stderr)
	return r.stdout
}

func (h *harness) key(customerUID string) {
	h.t.Helper()
	require.NoError(h.t, h.srv.RegisterBillingKey(customerUID, iamporttest.DefaultCardNumber))
}

// jsonObject decodes one JSON object.
func jsonObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), s)
	return m
}

// jsonLines decodes JSON lines; every line must be one object.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, jsonObject(t, sc.Text()))
	}
	return out
}

// oneLine requires s to be exactly one line (the error line on stderr).
func oneLine(t *testing.T, s string) string {
	t.Helper()
	require.True(t, strings.HasSuffix(s, "\n"), "%q", s)
	require.Equal(t, 1, strings.Count(s, "\n"), "want one line, got %q", s)
	require.True(t, strings.HasPrefix(s, "iamport: "), "%q", s)
	return s
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
