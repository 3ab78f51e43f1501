package iamporttest

import (
	_ "embed"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// WindowScript is the stand-in for Iamport's JavaScript SDK
// (https://cdn.iamport.kr/v1/iamport.js) that [WithControlAPI] serves at
// /iamport.js and /v1/iamport.js: IMP.init and IMP.request_pay for a JTNet
// billing key, answered by the fake ([Server.RequestPay]) through
// POST /__fake/window/request_pay.
//
//go:embed iamport.js
var WindowScript string

// windowRequest is what the stand-in script posts: request_pay's parameters
// plus what the user did in the window.
type windowRequest struct {
	PG          string `json:"pg"`
	MerchantUID string `json:"merchant_uid"`
	Name        string `json:"name"`
	Amount      int64  `json:"amount"`
	CustomerUID string `json:"customer_uid"`
	BuyerName   string `json:"buyer_name"`
	BuyerEmail  string `json:"buyer_email"`
	BuyerTel    string `json:"buyer_tel"`
	NoticeURL   string `json:"notice_url"`
	CardNumber  string `json:"card_number"`
	Closed      bool   `json:"closed"`
}

func (s *Server) windowRoutes(mux *http.ServeMux) {
	js := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = io.WriteString(w, WindowScript)
	}
	mux.HandleFunc("GET /iamport.js", js)
	mux.HandleFunc("GET /v1/iamport.js", js)
	const pay = ControlPrefix + "window/request_pay"
	mux.HandleFunc("OPTIONS "+pay, func(w http.ResponseWriter, _ *http.Request) {
		cors(w)
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+pay, func(w http.ResponseWriter, r *http.Request) {
		// The merchant's page is on another origin than the fake.
		cors(w)
		var req windowRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, ctlError("bad JSON body: "+err.Error()))
			return
		}
		res := s.RequestPay(WindowRequest{
			PG: req.PG, MerchantUID: req.MerchantUID, Name: req.Name, Amount: req.Amount,
			CustomerUID: req.CustomerUID, CardNumber: strings.TrimSpace(req.CardNumber),
			BuyerName: req.BuyerName, BuyerEmail: req.BuyerEmail, BuyerTel: req.BuyerTel,
			NoticeURL: req.NoticeURL, Closed: req.Closed,
		})
		writeJSON(w, http.StatusOK, map[string]any{
			"success": res.Success, "imp_uid": res.ImpUID, "merchant_uid": res.MerchantUID,
			"error_code": res.ErrorCode, "error_msg": res.ErrorMsg,
		})
	})
}

func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
}
