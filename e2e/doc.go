// Package e2e holds the browser end-to-end tests of iamport-go: the
// example merchant server examples/jtnet-window/app, on the embedded fake
// Iamport, driven through a real headless Chromium with chromedp.
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
