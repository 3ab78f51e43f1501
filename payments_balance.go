package iamport

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/billingkr/iamport-go/internal/wire"
)

// PaymentBalance is how a payment's amount splits, now and after each
// change (GET /payments/{imp_uid}/balance). Amounts are KRW (the endpoint
// has no currency field).
type PaymentBalance struct {
	Amount      int64          // what is left of the payment
	CashReceipt BalanceDetail  // the part covered by a cash receipt
	Primary     BalanceDetail  // the primary means of payment
	Secondary   BalanceDetail  // the secondary means (points, …)
	Discount    BalanceDetail  // discounts
	Histories   []BalanceEntry // the balance after each change, oldest first
}

// BalanceDetail is one part of a balance.
type BalanceDetail struct {
	TaxFree int64
	Supply  int64
	Vat     int64
	Service int64
}

// BalanceEntry is the balance after one change of the payment.
type BalanceEntry struct {
	CashReceipt BalanceDetail
	Primary     BalanceDetail
	Secondary   BalanceDetail
	Discount    BalanceDetail
	Created     time.Time
}

type wireBalanceDetail struct {
	TaxFree wire.Number `json:"tax_free"`
	Supply  wire.Number `json:"supply"`
	Vat     wire.Number `json:"vat"`
	Service wire.Number `json:"service"`
}

type wireBalanceEntry struct {
	CashReceipt wireBalanceDetail `json:"cash_receipt"`
	Primary     wireBalanceDetail `json:"primary"`
	Secondary   wireBalanceDetail `json:"secondary"`
	Discount    wireBalanceDetail `json:"discount"`
	Created     wire.Number       `json:"created"`
}

type wireBalance struct {
	Amount      wire.Number        `json:"amount"`
	CashReceipt wireBalanceDetail  `json:"cash_receipt"`
	Primary     wireBalanceDetail  `json:"primary"`
	Secondary   wireBalanceDetail  `json:"secondary"`
	Discount    wireBalanceDetail  `json:"discount"`
	Histories   []wireBalanceEntry `json:"histories"`
}

func (d wireBalanceDetail) detail(field string) (BalanceDetail, error) {
	var out BalanceDetail
	for _, f := range []struct {
		name string
		n    wire.Number
		dst  *int64
	}{{"tax_free", d.TaxFree, &out.TaxFree}, {"supply", d.Supply, &out.Supply}, {"vat", d.Vat, &out.Vat}, {"service", d.Service, &out.Service}} {
		v, err := toMinor(field+"."+f.name, f.n, "KRW")
		if err != nil {
			return BalanceDetail{}, err
		}
		*f.dst = v
	}
	return out, nil
}

func (w *wireBalance) balance() (*PaymentBalance, error) {
	var b PaymentBalance
	var err error
	if b.Amount, err = toMinor("amount", w.Amount, "KRW"); err != nil {
		return nil, err
	}
	parts := func(prefix string, cr, p, s, d wireBalanceDetail, e *BalanceEntry) error {
		for _, x := range []struct {
			name string
			w    wireBalanceDetail
			dst  *BalanceDetail
		}{{"cash_receipt", cr, &e.CashReceipt}, {"primary", p, &e.Primary}, {"secondary", s, &e.Secondary}, {"discount", d, &e.Discount}} {
			v, err := x.w.detail(prefix + x.name)
			if err != nil {
				return err
			}
			*x.dst = v
		}
		return nil
	}
	var top BalanceEntry
	if err := parts("", w.CashReceipt, w.Primary, w.Secondary, w.Discount, &top); err != nil {
		return nil, err
	}
	b.CashReceipt, b.Primary, b.Secondary, b.Discount = top.CashReceipt, top.Primary, top.Secondary, top.Discount
	for i, h := range w.Histories {
		var e BalanceEntry
		if err := parts(fmt.Sprintf("histories[%d].", i), h.CashReceipt, h.Primary, h.Secondary, h.Discount, &e); err != nil {
			return nil, err
		}
		e.Created = toTime(h.Created)
		b.Histories = append(b.Histories, e)
	}
	return &b, nil
}

// GetPaymentBalance returns how the payment's amount splits (tax-free,
// supply, VAT, service; by means of payment) now and after each change
// (GET /payments/{imp_uid}/balance,
// https://api.iamport.kr/#!/payments/getPaymentBalanceByImpUid). An unknown
// imp_uid is an error for which errors.Is(err, ErrNotFound) holds. It is a
// read, resent under the client's RetryPolicy.
func (c *Client) GetPaymentBalance(ctx context.Context, impUID string) (*PaymentBalance, error) {
	if err := checkUID("imp_uid", impUID, maxImpUIDLen); err != nil {
		return nil, err
	}
	r := &request{method: http.MethodGet, path: "/payments/" + pathEscape(impUID) + "/balance", retry: true}
	var w wireBalance
	if err := c.do(ctx, r, &w); err != nil {
		return nil, err
	}
	b, err := w.balance()
	if err != nil {
		return nil, &DecodeError{Method: r.method, Path: r.path, StatusCode: http.StatusOK, Err: err}
	}
	return b, nil
}

// PGSetting is one PG channel of the account (GET /users/pg).
type PGSetting struct {
	PGProvider  string `json:"pg_provider"`
	PGID        string `json:"pg_id"`   // the MID
	Sandbox     bool   `json:"sandbox"` // a test channel: its payments are sandbox payments (see WithSandbox)
	Type        string `json:"type"`    // payment, certification, …
	ChannelName string `json:"channel_name"`
	ChannelKey  string `json:"channel_key"` // what ChannelKey on the request types takes
}

// GetPGSettings returns the PG channels the account has (GET /users/pg,
// https://api.iamport.kr/#!/users/getPgSettings): which PGs, which MIDs,
// which channels are test channels, and their channel keys. It is a read,
// resent under the client's RetryPolicy.
func (c *Client) GetPGSettings(ctx context.Context) ([]PGSetting, error) {
	var list []PGSetting
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/users/pg", retry: true}, &list); err != nil {
		return nil, err
	}
	if list == nil {
		list = []PGSetting{}
	}
	return list, nil
}
