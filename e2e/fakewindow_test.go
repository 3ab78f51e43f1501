package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billingkr/iamport-go/iamporttest"
)

// merchantPage is a merchant's checkout page on its own origin that loads
// the payment window script from the standalone fake (as `iamport fake`
// serves it), so the window's request to the fake is cross-origin.
const merchantPage = `<!doctype html>
<meta charset="utf-8">
<title>checkout</title>
<script src="%s/iamport.js"></script>
<button id="pay" type="button">정기결제 등록</button>
<pre id="out"></pre>
<script>
IMP.init('imp00000000');
document.getElementById('pay').addEventListener('click', function () {
  IMP.request_pay({pg: 'jtnet', pay_method: 'card', merchant_uid: %q, name: '정기결제',
    amount: %d, customer_uid: %q, buyer_name: '홍길동'}, function (rsp) {
    var out = document.getElementById('out');
    out.textContent = JSON.stringify(rsp);
    out.className = 'done';
  });
});
</script>`

// TestFakeServerWindowInChromium runs the JTNet payment window flow of a
// merchant page against the fake with its control API: the stand-in
// iamport.js from the fake's origin, the card window, the cross-origin
// request_pay (CORS preflight included), and the callback.
func TestFakeServerWindowInChromium(t *testing.T) {
	path := chromiumPath(t)
	fake := iamporttest.NewServer(iamporttest.WithControlAPI(), iamporttest.WithWallClock())
	t.Cleanup(fake.Close)
	fake.DeclineCard("4000-0000-0000-0002", "잔액부족")
	browser := newBrowser(t, path)

	for _, tc := range []struct {
		name, merchantUID, customerUID, card string
		amount                               int64
		success                              bool
	}{
		{"key and first charge", "fw_first", "fw_cust_1", iamporttest.DefaultCardNumber, 1004, true},
		{"key only", "fw_key", "fw_cust_2", iamporttest.DefaultCardNumber, 0, true},
		{"declined card", "fw_declined", "fw_cust_3", "4000-0000-0000-0002", 1004, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, merchantPage, fake.URL(), tc.merchantUID, tc.amount, tc.customerUID)
			}))
			defer shop.Close()
			ctx := tab(t, browser)
			require.NoError(t, chromedp.Do(ctx,
				chromedp.Navigate(shop.URL+"/"),
				chromedp.Click(chromedp.CSS("#pay")),
				chromedp.WaitVisible(chromedp.CSS("#imp-standin-window")),
				chromedp.SetValue(chromedp.CSS("#imp-standin-card"), tc.card),
				chromedp.Click(chromedp.CSS("#imp-standin-pay")),
				chromedp.WaitReady(chromedp.CSS("#out.done")),
			))
			out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#out")))
			require.NoError(t, err)
			var rsp struct {
				Success     bool    `json:"success"`
				ImpUID      *string `json:"imp_uid"`
				MerchantUID string  `json:"merchant_uid"`
				ErrorMsg    *string `json:"error_msg"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &rsp), out)
			assert.Equal(t, tc.success, rsp.Success, out)
			assert.Equal(t, tc.merchantUID, rsp.MerchantUID)
			pays := fake.PaymentsByMerchantUID(tc.merchantUID)
			require.Len(t, pays, 1)
			require.NotNil(t, rsp.ImpUID, out)
			assert.Equal(t, pays[0].ImpUID, *rsp.ImpUID)
			_, hasKey := fake.BillingKey(tc.customerUID)
			if tc.success {
				assert.Equal(t, "paid", pays[0].Status)
				assert.Equal(t, tc.amount, pays[0].Amount)
				assert.True(t, hasKey)
			} else {
				assert.Equal(t, "failed", pays[0].Status)
				require.NotNil(t, rsp.ErrorMsg)
				assert.Equal(t, "잔액부족", *rsp.ErrorMsg)
				assert.False(t, hasKey)
			}
		})
	}
}
