package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	iamport "github.com/billingkr/iamport-go"
	"github.com/spf13/cobra"
)

func (a *app) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Access tokens"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Check the credentials: get an access token (never printed) and show its lifetime",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, secret, err := a.credentials()
			if err != nil {
				return err
			}
			// NewClient checks --base-url and --tier the way every other
			// command does.
			if _, err := iamport.NewClient(key, secret, a.clientOptions()...); err != nil {
				return err
			}
			life, serverNow, err := a.getToken(cmd, key, secret)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, map[string]any{"ok": true, "expires_in_seconds": int64(life / time.Second), "server_time": jsonTime(serverNow)})
			}
			_, err = fmt.Fprintf(a.stdout, "credentials ok: token valid for %s (server time %s)\n", life, tableTimeOf(serverNow))
			return err
		},
	})
	return cmd
}

// getToken calls POST /users/getToken and returns the token's lifetime
// (expired_at − now, both the server's) and the server's time. The token
// itself is discarded.
func (a *app) getToken(cmd *cobra.Command, key, secret string) (time.Duration, time.Time, error) {
	base := strings.TrimRight(a.baseURL, "/")
	if base == "" {
		base = iamport.DefaultBaseURL
	}
	body, _ := json.Marshal(map[string]string{"imp_key": key, "imp_secret": secret})
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, base+"/users/getToken", bytes.NewReader(body))
	if err != nil {
		return 0, time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "iamport-cli/"+version)
	if a.tier != "" {
		req.Header.Set("Tier", a.tier)
	}
	timeout := a.timeout
	if timeout <= 0 {
		timeout = iamport.DefaultTimeout
	}
	hc := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("%w: POST /users/getToken: %v", errAPI, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var env struct {
		Code     int     `json:"code"`
		Message  *string `json:"message"`
		Response *struct {
			AccessToken string `json:"access_token"`
			Now         int64  `json:"now"`
			ExpiredAt   int64  `json:"expired_at"`
		} `json:"response"`
	}
	jerr := json.Unmarshal(raw, &env)
	if resp.StatusCode != http.StatusOK || jerr != nil || env.Code != 0 || env.Response == nil || env.Response.AccessToken == "" {
		msg := ""
		if env.Message != nil {
			msg = *env.Message
		}
		if jerr != nil {
			msg = "the answer is not Iamport's envelope (HTTP " + resp.Status + ")"
		}
		return 0, time.Time{}, &iamport.APIError{StatusCode: resp.StatusCode, Code: env.Code, Message: msg, Method: http.MethodPost, Path: "/users/getToken"}
	}
	r := env.Response
	return time.Duration(r.ExpiredAt-r.Now) * time.Second, time.Unix(r.Now, 0), nil
}
