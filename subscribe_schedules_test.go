package iamport

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func scheduleJSON(cuid, merchantUID string, at int64, amount int64, status string) map[string]any {
	return map[string]any{
		"customer_uid": cuid, "merchant_uid": merchantUID, "imp_uid": nil, "schedule_at": at,
		"executed_at": 0, "revoked_at": 0, "amount": amount, "currency": "KRW", "name": "월간 구독",
		"schedule_status": status, "payment_status": nil, "fail_reason": nil,
	}
}

func scheduleReq() *ScheduleRequest {
	at := time.Unix(1_717_210_800, 0)
	vat := int64(900)
	return &ScheduleRequest{CustomerUID: "cust/1", Schedules: []ScheduleItem{
		{MerchantUID: "sub_06", ScheduleAt: at, Amount: 9900, Name: "6월", VatAmount: &vat, BuyerName: "홍길동", NoticeURL: "https://shop.example/hook"},
		{MerchantUID: "sub_07", ScheduleAt: at.AddDate(0, 1, 0), Amount: 1050, Currency: "USD", Name: "July", CustomData: `{"n":7}`},
	}}
}

func TestSchedulePaymentsRequestShape(t *testing.T) {
	t.Parallel()
	req := scheduleReq()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		return ok200([]any{
			scheduleJSON("cust/1", "sub_06", req.Schedules[0].ScheduleAt.Unix(), 9900, "scheduled"),
			scheduleJSON("cust/1", "sub_07", req.Schedules[1].ScheduleAt.Unix(), 9900, "scheduled"),
		})
	})
	got, err := c.SchedulePayments(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "sub_07", got[1].MerchantUID)
	r := log.all()[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/subscribe/payments/schedule", r.Path)
	assert.Equal(t, "Bearer "+testToken, r.Auth)
	assert.JSONEq(t, `{"customer_uid":"cust/1","schedules":[
		{"merchant_uid":"sub_06","schedule_at":1717210800,"currency":"KRW","amount":9900,"vat_amount":900,"name":"6월","buyer_name":"홍길동","notice_url":"https://shop.example/hook"},
		{"merchant_uid":"sub_07","schedule_at":1719802800,"currency":"USD","amount":10.5,"name":"July","custom_data":"{\"n\":7}"}]}`, string(r.Body))
}

func TestSchedulePaymentsValidation(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response { return ok200([]any{}) })
	cases := map[string]func(r *ScheduleRequest){
		"customer_uid":              func(r *ScheduleRequest) { r.CustomerUID = "" },
		"schedules":                 func(r *ScheduleRequest) { r.Schedules = nil },
		"schedules[1].merchant_uid": func(r *ScheduleRequest) { r.Schedules[1].MerchantUID = r.Schedules[0].MerchantUID },
		"schedules[0].schedule_at":  func(r *ScheduleRequest) { r.Schedules[0].ScheduleAt = time.Time{} },
		"schedules[1].amount":       func(r *ScheduleRequest) { r.Schedules[1].Amount = 0 },
		"schedules[0].currency":     func(r *ScheduleRequest) { r.Schedules[0].Currency = "WON!" },
	}
	for field, mutate := range cases {
		r := scheduleReq()
		mutate(r)
		_, err := c.SchedulePayments(context.Background(), r)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, field)
		assert.Equal(t, field, ve.Field)
	}
	assert.Equal(t, 0, log.count())
}

func TestSchedulePaymentsRefusalOfAnEqualRepeatIsSuccess(t *testing.T) {
	t.Parallel()
	req := scheduleReq()
	stored := map[string]map[string]any{
		"sub_06": scheduleJSON("cust/1", "sub_06", req.Schedules[0].ScheduleAt.Unix(), 9900, "scheduled"),
		"sub_07": scheduleJSON("cust/1", "sub_07", req.Schedules[1].ScheduleAt.Unix(), 0, "scheduled"),
	}
	stored["sub_07"]["currency"] = "USD"
	stored["sub_07"]["amount"] = json.Number("10.5")
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Method == http.MethodPost {
			return envelopeReply(http.StatusOK, 1, "이미 결제예약된 merchant_uid 입니다: sub_06", nil)
		}
		m := r.Path[len("/subscribe/payments/schedule/"):]
		return ok200(stored[m])
	})
	got, err := c.SchedulePayments(context.Background(), req)
	require.NoError(t, err, "the schedules are there exactly as asked")
	require.Len(t, got, 2)
	assert.Equal(t, int64(1050), got[1].Amount)
	assert.Equal(t, 3, log.count())

	// Scheduled with another amount: the refusal stands.
	stored["sub_07"]["amount"] = 20
	_, err = c.SchedulePayments(context.Background(), req)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 1, ae.Code)
}

func TestSchedulePaymentsResentAfter5xx(t *testing.T) {
	t.Parallel()
	calls := 0
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if calls++; calls == 1 {
			return envelopeReply(http.StatusInternalServerError, -1, "", nil)
		}
		return ok200([]any{scheduleJSON("cust/1", "sub_06", 1, 9900, "scheduled")})
	})
	req := scheduleReq()
	req.Schedules = req.Schedules[:1]
	_, err := c.SchedulePayments(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, 2, log.count())
}

func TestUnschedulePayments(t *testing.T) {
	t.Parallel()
	revoked := scheduleJSON("cust/1", "sub_06", 1717210800, 9900, "revoked")
	revoked["revoked_at"] = 1717000000
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		switch {
		case r.Path == "/subscribe/payments/unschedule" && string(r.Body) == `{"customer_uid":"cust/1"}`:
			return envelopeReply(http.StatusOK, 1, "취소할 예약결제 기록이 존재하지 않습니다.", nil)
		case r.Path == "/subscribe/payments/unschedule":
			return ok200([]any{revoked})
		}
		return ok200(revoked)
	})
	got, err := c.UnschedulePayments(context.Background(), &UnscheduleRequest{CustomerUID: "cust/1", MerchantUIDs: []string{"sub_06", "sub_06"}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, ScheduleRevoked, got[0].ScheduleStatus)
	assert.Equal(t, time.Unix(1717000000, 0), got[0].RevokedAt)
	r := log.all()[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.JSONEq(t, `{"customer_uid":"cust/1","merchant_uid":["sub_06"]}`, string(r.Body))

	_, err = c.UnschedulePayments(context.Background(), &UnscheduleRequest{CustomerUID: "cust/1"})
	require.ErrorIs(t, err, ErrNotFound, "nothing to revoke")
	assert.Equal(t, 2, log.count())

	_, err = c.UnschedulePayments(context.Background(), &UnscheduleRequest{})
	require.ErrorIs(t, err, ErrInvalidRequest)
	_, err = c.UnschedulePayments(context.Background(), nil)
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, 2, log.count())
}

func TestUnscheduleRepeatFindsThemRevoked(t *testing.T) {
	t.Parallel()
	revoked := scheduleJSON("cust/1", "sub_06", 1717210800, 9900, "revoked")
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Method == http.MethodPost {
			return envelopeReply(http.StatusOK, 1, "취소할 예약결제 기록이 존재하지 않습니다.", nil)
		}
		assert.Equal(t, "/subscribe/payments/schedule/sub_06", r.Path)
		return ok200(revoked)
	})
	got, err := c.UnschedulePayments(context.Background(), &UnscheduleRequest{MerchantUIDs: []string{"sub_06"}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 2, log.count())
}

func TestScheduleDecodingFromTestdata(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Path == "/subscribe/payments/schedule/sub_2024-06_cust%2F1" {
			return ok200(testdataResponse(t, "schedule_scheduled.json"))
		}
		if r.Path == "/subscribe/payments/schedule/nope" {
			return envelopeReply(http.StatusNotFound, -1, "결제예약건이 존재하지 않습니다.", nil)
		}
		return ok200(testdataResponse(t, "schedule_executed_failed.json"))
	})
	s, err := c.GetSchedule(context.Background(), "sub_2024-06_cust/1")
	require.NoError(t, err)
	assert.Equal(t, Schedule{
		CustomerUID: "cust/1", MerchantUID: "sub_2024-06_cust/1", ScheduleAt: time.Unix(1717210800, 0),
		Amount: 9900, Currency: "KRW", Name: "월간 구독 (6월)", BuyerName: "홍길동", BuyerEmail: "gildong@example.com",
		BuyerTel: "010-1234-5678", ScheduleStatus: ScheduleScheduled,
	}, *s, "imp_uid and payment_status null, executed_at and revoked_at 0")

	s, err = c.GetSchedule(context.Background(), "sub_2024-05_cust/1")
	require.NoError(t, err)
	assert.Equal(t, Schedule{
		CustomerUID: "cust/1", MerchantUID: "sub_2024-05_cust/1", ImpUID: "imp_448280090639", PGProvider: "jtnet",
		PGID: "tpaytest0m", CustomerID: "user-42", ScheduleAt: time.Unix(1714532400, 0), ExecutedAt: time.Unix(1714532405, 0),
		Amount: 1234, Currency: "USD", Name: "Monthly", BuyerName: "Jane", BuyerEmail: "jane@example.com",
		BuyerTel: "010-9999-9999", BuyerAddr: "Seoul", BuyerPostcode: "04524", CustomData: `{"plan":"m"}`,
		ScheduleStatus: ScheduleExecuted, PaymentStatus: PaymentFailed, FailReason: "잔액부족", PromotionID: "promo_9",
	}, *s)
	assert.Equal(t, "/subscribe/payments/schedule/sub_2024-05_cust%2F1", log.all()[1].Path)

	_, err = c.GetSchedule(context.Background(), "nope")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestUpdateAndRescheduleSchedule(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	c, log := routedClient(t, func(r seenRequest) *http.Response {
		if r.Path == "/subscribe/payments/schedule/sub%2F06/reschedule" {
			return envelopeReply(http.StatusBadRequest, -1, "결제에 실패한 결제예약건이 아닙니다.", nil)
		}
		return ok200(scheduleJSON("cust/1", "sub/06", at.Unix(), 9900, "scheduled"))
	})
	s, err := c.UpdateSchedule(context.Background(), "sub/06", at)
	require.NoError(t, err)
	assert.Equal(t, at.Unix(), s.ScheduleAt.Unix())
	r := log.all()[0]
	assert.Equal(t, http.MethodPut, r.Method)
	assert.Equal(t, "/subscribe/payments/schedule/sub%2F06", r.Path)
	assert.JSONEq(t, fmt.Sprintf(`{"schedule_at":%d}`, at.Unix()), string(r.Body))

	// A refused reschedule (the schedule is no longer a failed one) that
	// finds the schedule already at that time is a success: a resend.
	s, err = c.RescheduleSchedule(context.Background(), "sub/06", at)
	require.NoError(t, err)
	assert.Equal(t, ScheduleScheduled, s.ScheduleStatus)
	reqs := log.all()
	require.Len(t, reqs, 3)
	assert.Equal(t, http.MethodPost, reqs[1].Method)
	assert.Equal(t, "/subscribe/payments/schedule/sub%2F06/reschedule", reqs[1].Path)
	assert.Equal(t, http.MethodGet, reqs[2].Method)

	// At another time it is not.
	_, err = c.RescheduleSchedule(context.Background(), "sub/06", at.Add(time.Hour))
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)

	_, err = c.UpdateSchedule(context.Background(), "sub/06", time.Time{})
	require.ErrorIs(t, err, ErrInvalidRequest)
}

// scheduleRangeServer answers schedules at one per day from base, in the
// requested window, as the paged object (limit per page); schedules at a
// window's edges are answered by both neighbours' requests when inclusive
// is set, as a server reading `to` inclusively would.
func scheduleRangeServer(t *testing.T, base int64, days int, fromKey, toKey string, limit int, inclusive bool) func(r seenRequest) *http.Response {
	return func(r seenRequest) *http.Response {
		from, err1 := strconv.ParseInt(r.Query.Get(fromKey), 10, 64)
		to, err2 := strconv.ParseInt(r.Query.Get(toKey), 10, 64)
		if err1 != nil || err2 != nil || to-from > 90*86400 {
			return envelopeReply(http.StatusBadRequest, -1, "조회 기간은 최대 3개월(90일)입니다.", nil)
		}
		var all []any
		for d := days - 1; d >= 0; d-- { // newest first
			at := base + int64(d)*86400
			if at >= from && (at < to || (inclusive && at == to)) {
				all = append(all, scheduleJSON("cust/1", fmt.Sprintf("sub_%03d", d), at, 9900, "scheduled"))
			}
		}
		page := pageOf(t, r)
		start, end := min((page-1)*limit, len(all)), min(page*limit, len(all))
		next := 0
		if end < len(all) {
			next = page + 1
		}
		return ok200(pageBody(all[start:end], len(all), page, next))
	}
}

func TestSchedulesSevenMonthsThreeWindows(t *testing.T) {
	t.Parallel()
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 7, 0) // 213 days
	days := int(to.Sub(from).Hours() / 24)
	c, log := routedClient(t, scheduleRangeServer(t, from.Unix(), days, "schedule_from", "schedule_to", 1000, true))
	seen := map[string]bool{}
	var order []int64
	for s, err := range c.Schedules(context.Background(), &ScheduleListOptions{From: from, To: to, Status: ScheduleScheduled, Limit: 1000}) {
		require.NoError(t, err)
		require.False(t, seen[s.MerchantUID], "yielded twice: %s", s.MerchantUID)
		seen[s.MerchantUID] = true
		order = append(order, s.ScheduleAt.Unix())
	}
	assert.Len(t, seen, days)
	for i := 1; i < len(order); i++ {
		assert.Greater(t, order[i-1], order[i], "newest first")
	}
	reqs := log.all()
	require.Len(t, reqs, 3)
	var prevFrom int64
	for i, r := range reqs {
		assert.Equal(t, "/subscribe/payments/schedule", r.Path)
		assert.Equal(t, "scheduled", r.Query.Get("schedule_status"))
		assert.Equal(t, "1000", r.Query.Get("limit"))
		assert.Equal(t, "1", r.Query.Get("page"))
		f, _ := strconv.ParseInt(r.Query.Get("schedule_from"), 10, 64)
		tt, _ := strconv.ParseInt(r.Query.Get("schedule_to"), 10, 64)
		assert.LessOrEqual(t, tt-f, int64(89*86400))
		if i == 0 {
			assert.Equal(t, to.Unix(), tt)
		} else {
			assert.Equal(t, prevFrom, tt, "to is exclusive: each window ends where the newer one begins")
		}
		prevFrom = f
	}
	assert.Equal(t, from.Unix(), prevFrom)
}

func TestSchedulesPagesAndBareArray(t *testing.T) {
	t.Parallel()
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c, log := routedClient(t, scheduleRangeServer(t, from.Unix(), 50, "schedule_from", "schedule_to", 20, false))
	n := 0
	for _, err := range c.Schedules(context.Background(), &ScheduleListOptions{From: from, To: from.AddDate(0, 0, 50)}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 50, n)
	assert.Equal(t, 3, log.count(), "50 in pages of 20")
	assert.False(t, log.all()[0].Query.Has("limit"))
	assert.False(t, log.all()[0].Query.Has("schedule_status"))

	c, log = routedClient(t, func(r seenRequest) *http.Response {
		return ok200([]any{scheduleJSON("c", "a", 1, 1, "executed"), scheduleJSON("c", "b", 2, 1, "executed")})
	})
	n = 0
	for _, err := range c.Schedules(context.Background(), &ScheduleListOptions{From: from, To: from.AddDate(0, 0, 10)}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 2, n)
	assert.Equal(t, 1, log.count(), "a bare array is one page")
}

func TestSchedulesValidation(t *testing.T) {
	t.Parallel()
	c, log := routedClient(t, func(r seenRequest) *http.Response { return ok200([]any{}) })
	now := time.Now()
	for field, o := range map[string]*ScheduleListOptions{
		"options":         nil,
		"from":            {To: now},
		"to":              {From: now},
		"schedule_status": {From: now, To: now.Add(time.Hour), Status: "paid"},
		"limit":           {From: now, To: now.Add(time.Hour), Limit: -1},
	} {
		n := 0
		for _, err := range c.Schedules(context.Background(), o) {
			n++
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, field, ve.Field)
		}
		assert.Equal(t, 1, n)
	}
	for _, err := range c.CustomerSchedules(context.Background(), "c", &ScheduleListOptions{From: now, To: now}) {
		require.ErrorIs(t, err, ErrInvalidRequest)
	}
	assert.Equal(t, 0, log.count())
}

func TestCustomerSchedules(t *testing.T) {
	t.Parallel()
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 7, 0)
	days := int(to.Sub(from).Hours() / 24)
	c, log := routedClient(t, scheduleRangeServer(t, from.Unix(), days, "from", "to", 20, true))
	seen := map[string]bool{}
	for s, err := range c.CustomerSchedules(context.Background(), "cust/1", &ScheduleListOptions{From: from, To: to, Status: ScheduleExecuted, Limit: 500}) {
		require.NoError(t, err)
		require.False(t, seen[s.MerchantUID])
		seen[s.MerchantUID] = true
	}
	assert.Len(t, seen, days)
	reqs := log.all()
	require.Greater(t, len(reqs), 3)
	windows := map[string]bool{}
	for _, r := range reqs {
		assert.Equal(t, "/subscribe/payments/schedule/customers/cust%2F1", r.Path)
		assert.Equal(t, "executed", r.Query.Get("schedule-status"), "hyphenated")
		assert.False(t, r.Query.Has("schedule_status"))
		assert.False(t, r.Query.Has("limit"), "the endpoint has no page size")
		windows[r.Query.Get("from")+"-"+r.Query.Get("to")] = true
	}
	assert.Len(t, windows, 3)
}

func TestScheduleJSONRoundTrip(t *testing.T) {
	t.Parallel()
	var s Schedule
	require.NoError(t, json.Unmarshal(testdataResponse(t, "schedule_executed_failed.json"), &s))
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var back Schedule
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s, back)
}
