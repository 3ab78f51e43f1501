package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// This file holds what makes the example safe to copy: security headers,
// cross-origin protection for state-changing requests, and the admin
// token that guards the admin pages.

// minAdminToken is the shortest admin token New accepts.
const minAdminToken = 16

// publicOrigin checks Config.PublicURL and returns its origin
// (scheme://host[:port]).
func publicOrigin(publicURL string) (string, error) {
	if publicURL == "" {
		return "", errors.New("PublicURL is required: the address browsers and Iamport reach (never taken from a request's Host header)")
	}
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("PublicURL must be an absolute http(s) URL such as https://shop.example.com")
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// contentSecurityPolicy allows the app's own scripts, styles and forms,
// and the payment window: Iamport's SDK and the PGs' windows it opens
// (frames and form posts to https origins). No page may be framed.
func contentSecurityPolicy(sdkURL string) string {
	scripts := "'self'"
	if u, err := url.Parse(sdkURL); err == nil && u.Scheme == "https" && u.Host != "" {
		scripts += " " + u.Scheme + "://" + u.Host + " https://*.iamport.kr"
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src " + scripts,
		// The SDK and the stand-in window style their elements inline.
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data: https:",
		"connect-src 'self' https://*.iamport.kr",
		"frame-src 'self' https:",
		"form-action 'self' https:",
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"object-src 'none'",
	}, "; ")
}

// secureHeaders sets the headers every response carries.
func (a *App) secureHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", a.csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
}

// sameOrigin reports whether r may change state: safe methods always, the
// webhook always (Iamport posts it from its servers, and WebhookHandler
// believes only what it re-fetches), and otherwise only requests that a
// browser marks as same-origin. It is what Go 1.25's
// http.CrossOriginProtection does, written out because this module still
// builds with Go 1.24: Sec-Fetch-Site, sent by every current browser, must
// be "same-origin" (or "none": typed by the user); without it, an Origin
// header must be PublicURL's origin; a request with neither is not from a
// browser, and so not a cross-site forgery.
func (a *App) sameOrigin(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if r.URL.Path == "/webhook/iamport" {
		return true
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		return strings.EqualFold(origin, a.origin)
	}
	return true
}

// ---- admin ----

const adminCookie = "jtnet_window_admin"

// adminSession is the admin cookie's value: derived from the token, so
// that changing ADMIN_TOKEN signs every session out.
func (a *App) adminSession() string {
	m := hmac.New(sha256.New, []byte(a.cfg.AdminToken))
	m.Write([]byte("jtnet-window admin session v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// isAdmin reports whether r carries the admin token (Authorization:
// Bearer, for scripts) or the session cookie that POST /admin/login sets.
func (a *App) isAdmin(r *http.Request) bool {
	if a.cfg.AdminToken == "" {
		return false
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return subtle.ConstantTimeCompare([]byte(tok), []byte(a.cfg.AdminToken)) == 1
	}
	c, err := r.Cookie(adminCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.adminSession())) == 1
}

// admin lets only the admin through; others get 401 and a sign-in link.
func (a *App) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.isAdmin(r) {
			a.log.Warn("admin page refused", "method", r.Method, "path", r.URL.Path)
			a.render(w, http.StatusUnauthorized, "login", map[string]any{"Message": "관리자 로그인이 필요합니다.", "Enabled": a.cfg.AdminToken != ""})
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next(w, r)
	}
}

func (a *App) loginPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, "login", map[string]any{"Enabled": a.cfg.AdminToken != ""})
}

// login checks the posted token and sets the session cookie (HttpOnly,
// SameSite=Strict, Secure under https).
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	tok := r.PostForm.Get("token")
	if a.cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(a.cfg.AdminToken)) != 1 {
		a.log.Warn("admin sign-in failed")
		a.render(w, http.StatusUnauthorized, "login", map[string]any{"Message": "토큰이 맞지 않습니다.", "Enabled": a.cfg.AdminToken != ""})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: adminCookie, Value: a.adminSession(), Path: "/", HttpOnly: true,
		Secure: strings.HasPrefix(a.origin, "https://"), SameSite: http.SameSiteStrictMode, MaxAge: 8 * 3600,
	})
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// adminIndex lists the subscriptions (admin only).
func (a *App) adminIndex(w http.ResponseWriter, r *http.Request) {
	subs, err := a.store.Subscriptions(r.Context())
	if err != nil {
		a.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	a.render(w, http.StatusOK, "admin", map[string]any{"Subscriptions": subs})
}
