package iamport

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"slices"
)

// GetBillingKey returns the billing key registered under customerUID
// (GET /subscribe/customers/{customer_uid},
// https://api.iamport.kr/#!/subscribe.customer/customer_view). An unknown or
// deleted key is an error for which errors.Is(err, ErrNotFound) holds, both
// for the documented 404 and for the HTTP 200 with a non-zero code that the
// API has also been seen to answer.
func (c *Client) GetBillingKey(ctx context.Context, customerUID string) (*BillingKey, error) {
	if err := checkUID("customer_uid", customerUID, MaxCustomerUIDLen); err != nil {
		return nil, err
	}
	var k BillingKey
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/subscribe/customers/" + pathEscape(customerUID), retry: true}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// IssueBillingKeyRequest registers a card as a billing key
// (POST /subscribe/customers/{customer_uid}).
//
// It carries card data: its String, GoString, Format, LogValue and
// MarshalJSON methods mask them, so fmt (every verb), log/slog and
// encoding/json never print the card number (at most its first 6 and last 4
// digits), the expiry, birth, pwd_2digit or CVC. A request held by value in
// an unexported struct field is not covered (see redact.go): hold it by
// pointer there.
type IssueBillingKeyRequest struct {
	CustomerUID string // required, ≤ 80 characters: the key's name, chosen by the merchant

	CardNumber string // required: 13 to 19 digits, dashes allowed ("dddd-dddd-dddd-dddd")
	Expiry     string // required: "YYYY-MM"
	Birth      string // YYMMDD, or the 10-digit business registration number for a corporate card
	Pwd2Digit  string // the first two digits of the card's PIN
	CVC        string // 3 or 4 digits, where the PG asks for it

	PG         string // "provider" or "provider.MID"; "" = the console's default
	ChannelKey string // the PortOne channel key, where the console uses channels; ≤ 55 characters
	CustomerID string // the merchant's own id of the customer (required by tosspayments)
	// ChannelGroupID issues a super billing key: one key on every active
	// channel of this smart-routing group (≤ 55 characters). The result's
	// ChannelGroupID, SucceededChannels and FailedChannels say how it went.
	ChannelGroupID string

	CustomerName     string // ≤ 20 characters
	CustomerTel      string // ≤ 20 characters
	CustomerEmail    string // ≤ 200 characters
	CustomerAddr     string // ≤ 200 characters
	CustomerPostcode string // ≤ 8 characters
}

type issueBillingKeyBody struct {
	CardNumber       string `json:"card_number"`
	Expiry           string `json:"expiry"`
	Birth            string `json:"birth,omitempty"`
	Pwd2Digit        string `json:"pwd_2digit,omitempty"`
	CVC              string `json:"cvc,omitempty"`
	PG               string `json:"pg,omitempty"`
	ChannelKey       string `json:"channel_key,omitempty"`
	ChannelGroupID   string `json:"channel_group_id,omitempty"`
	CustomerID       string `json:"customer_id,omitempty"`
	CustomerName     string `json:"customer_name,omitempty"`
	CustomerTel      string `json:"customer_tel,omitempty"`
	CustomerEmail    string `json:"customer_email,omitempty"`
	CustomerAddr     string `json:"customer_addr,omitempty"`
	CustomerPostcode string `json:"customer_postcode,omitempty"`
}

func (r *IssueBillingKeyRequest) validate() error {
	if err := checkUID("customer_uid", r.CustomerUID, MaxCustomerUIDLen); err != nil {
		return err
	}
	if err := checkCard(r.CardNumber, r.Expiry, r.Birth, r.Pwd2Digit, r.CVC); err != nil {
		return err
	}
	if err := checkTexts(
		textField{name: "pg", v: r.PG, max: MaxPGLen},
		textField{name: "channel_key", v: r.ChannelKey, max: MaxChannelKeyLen},
		textField{name: "channel_group_id", v: r.ChannelGroupID, max: MaxChannelKeyLen},
		textField{name: "customer_id", v: r.CustomerID},
		textField{name: "customer_name", v: r.CustomerName, max: 20},
		textField{name: "customer_tel", v: r.CustomerTel, max: 20},
		textField{name: "customer_email", v: r.CustomerEmail, max: 200},
		textField{name: "customer_addr", v: r.CustomerAddr, max: 200},
		textField{name: "customer_postcode", v: r.CustomerPostcode, max: 8},
	); err != nil {
		return err
	}
	return checkPG(pgOpIssue, r.PG, "", map[string]bool{
		"customer_id": r.CustomerID != "", "birth": r.Birth != "", "pwd_2digit": r.Pwd2Digit != "", "cvc": r.CVC != "",
		"customer_name": r.CustomerName != "", "card_number": r.CardNumber != "",
	})
}

// IssueBillingKey registers card data as the billing key req.CustomerUID
// (POST /subscribe/customers/{customer_uid},
// https://api.iamport.kr/#!/subscribe.customer/customer_save). Registering
// under a customer_uid that already has a key maps it to the new card (the
// old PG key is not revoked). Bad card data is an *APIError (Iamport
// answers HTTP 200 with a non-zero code). It is not resent after a failure
// (each attempt is a card authorisation at the PG): look the key up with
// GetBillingKey, or call again.
func (c *Client) IssueBillingKey(ctx context.Context, req *IssueBillingKeyRequest) (*BillingKey, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	body := &issueBillingKeyBody{
		CardNumber: wireCardNumber(req.CardNumber), Expiry: req.Expiry, Birth: req.Birth, Pwd2Digit: req.Pwd2Digit, CVC: req.CVC,
		PG: req.PG, ChannelKey: req.ChannelKey, ChannelGroupID: req.ChannelGroupID, CustomerID: req.CustomerID,
		CustomerName: req.CustomerName, CustomerTel: req.CustomerTel, CustomerEmail: req.CustomerEmail,
		CustomerAddr: req.CustomerAddr, CustomerPostcode: req.CustomerPostcode,
	}
	var k BillingKey
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/subscribe/customers/" + pathEscape(req.CustomerUID), body: body,
		secrets: cardSecrets(req.CardNumber, req.Expiry, req.Birth, req.Pwd2Digit, req.CVC)}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// customerUIDsQuery is the query of GET /subscribe/customers.
type customerUIDsQuery struct {
	CustomerUIDs []string `url:"customer_uid[],omitempty"`
}

// GetBillingKeys returns the billing keys registered under these
// customer_uids (GET /subscribe/customers?customer_uid[]=…,
// https://api.iamport.kr/#!/subscribe.customer/customer_view_multiple), in
// the order of customerUIDs (a repeated one appears once). Unknown or
// deleted ones are absent: neither a partial answer (HTTP 207) nor a
// request that found none (HTTP 404) is an error, and none found is an
// empty slice. The ids are sent in requests of at most 100, one after
// another. It is a read, resent under the client's RetryPolicy.
func (c *Client) GetBillingKeys(ctx context.Context, customerUIDs []string) ([]*BillingKey, error) {
	ids, err := distinctIDs("customer_uid", customerUIDs, MaxCustomerUIDLen)
	if err != nil {
		return nil, err
	}
	found := make(map[string]*BillingKey, len(ids))
	for chunk := range slices.Chunk(ids, maxIDsPerRequest) {
		vals, err := values(customerUIDsQuery{CustomerUIDs: chunk})
		if err != nil {
			return nil, err
		}
		var list []*BillingKey
		if err := c.do(ctx, &request{method: http.MethodGet, path: "/subscribe/customers", query: vals, retry: true}, &list); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue // none of this chunk is registered
			}
			return nil, err
		}
		for _, k := range list {
			if k != nil {
				found[k.CustomerUID] = k
			}
		}
	}
	out := make([]*BillingKey, 0, len(found))
	for _, id := range ids {
		if k, ok := found[id]; ok {
			out = append(out, k)
		}
	}
	return out, nil
}

// The values of a deletion's requester (extra[requester]), which only
// Naver Pay uses.
const (
	RequesterAdmin    = "admin"    // the merchant (the API's default)
	RequesterCustomer = "customer" // the customer asked for it
)

// deleteBillingKeyQuery is the query of DELETE /subscribe/customers/{cuid}.
type deleteBillingKeyQuery struct {
	Reason    string `url:"reason,omitempty"`
	Requester string `url:"extra[requester],omitempty"`
}

// DeleteBillingKey deletes the billing key registered under customerUID
// (DELETE /subscribe/customers/{customer_uid}?reason=…&extra[requester]=admin,
// https://api.iamport.kr/#!/subscribe.customer/customer_delete) and returns
// what it was. It does not revoke the key's schedules: call
// UnschedulePayments first. A deleted key cannot be restored.
//
// It is resent after a failure in transport or a 5xx. An error for which
// errors.Is(err, ErrNotFound) holds means no key is registered under
// customerUID (any more), which is also what a resend finds when the first
// attempt succeeded: for a deletion it means done.
func (c *Client) DeleteBillingKey(ctx context.Context, customerUID, reason string) (*BillingKey, error) {
	return c.DeleteBillingKeyAs(ctx, customerUID, reason, RequesterAdmin)
}

// DeleteBillingKeyAs is DeleteBillingKey with the requester Naver Pay asks
// for: RequesterAdmin (what DeleteBillingKey sends) or RequesterCustomer;
// "" sends none.
func (c *Client) DeleteBillingKeyAs(ctx context.Context, customerUID, reason, requester string) (*BillingKey, error) {
	if err := checkUID("customer_uid", customerUID, MaxCustomerUIDLen); err != nil {
		return nil, err
	}
	switch requester {
	case "", RequesterAdmin, RequesterCustomer:
	default:
		return nil, &ValidationError{Field: "extra[requester]", Reason: `must be "admin", "customer" or empty`}
	}
	vals, err := values(deleteBillingKeyQuery{Reason: reason, Requester: requester})
	if err != nil {
		return nil, err
	}
	var k BillingKey
	if err := c.do(ctx, &request{method: http.MethodDelete, path: "/subscribe/customers/" + pathEscape(customerUID), query: vals, retry: true}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// BillingKeyPayments yields the payments made with the billing key
// customerUID, newest first (GET /subscribe/customers/{customer_uid}/payments,
// https://api.iamport.kr/#!/subscribe.customer/customer_payments). An
// unknown key is an error for which errors.Is(err, ErrNotFound) holds.
// Pages are fetched as the loop asks for them; the first error is yielded
// once and ends the loop. Each page is a read, resent under the client's
// RetryPolicy.
func (c *Client) BillingKeyPayments(ctx context.Context, customerUID string) iter.Seq2[*Payment, error] {
	if err := checkUID("customer_uid", customerUID, MaxCustomerUIDLen); err != nil {
		return errSeq[Payment](err)
	}
	path := "/subscribe/customers/" + pathEscape(customerUID) + "/payments"
	return unique(paginate(ctx, func(ctx context.Context, page int) ([]*Payment, int, error) {
		return listPage[Payment](ctx, c, path, pageQuery{Page: page})
	}), paymentKey)
}
