// Package e2e holds the browser end-to-end tests of iamport-go: the
// example merchant server examples/jtnet-window/app, on the embedded fake
// Iamport, driven through a real headless Chromium with chromedp: the
// payment window's flows (PC callback and mobile redirect; approved,
// declined, closed), and the attacks the example must withstand (a
// same-site stranger's page posting "charge now" with the admin's cookie,
// the admin pages without the admin, customer_uids on public pages,
// framing, and a window reported failed whose payment later goes through).
//
// It is a module of its own so that the library's go.mod does not depend on
// chromedp. Run it from this directory:
//
//	cd e2e && go test -race ./...
//
// Chromium is looked up at $CHROMIUM_PATH, then /usr/bin/chromium (Debian:
// apt-get install -y chromium). Without it the test skips, except under
// CI=true, where it fails.
package e2e
