package iamporttest

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/billingkr/iamport-go/internal/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fake may not drift from the spec silently: every route it serves is
// a path and method of iamport-v1.openapi.json, and every field of every
// object it answers with is a property of the spec's definition of that
// object.

// responseOf is the object each route answers with (in the envelope's
// response; a list of it where the route answers a list or a page) and
// the spec definition it follows. A route the fake serves that is missing
// here fails the test: a new endpoint needs its definition.
var responseOf = map[string]struct {
	wire any
	def  string
}{
	RouteToken:         {wireToken{}, "AuthAnnotation"},
	RouteAgain:         {wirePayment{}, "PaymentAnnotation"},
	RouteOnetime:       {wirePayment{}, "PaymentAnnotation"},
	RouteRetry:         {wirePayment{}, "PaymentAnnotation"},
	RouteSchedule:      {wireSchedule{}, "ScheduleResultAnnotation"},
	RouteUnschedule:    {wireSchedule{}, "ScheduleResultAnnotation"},
	RouteListSchedules: {wireSchedule{}, "ScheduleResultAnnotation"},
	"GET /subscribe/payments/schedule/{merchant_uid}":             {wireSchedule{}, "ScheduleResultAnnotation"},
	"PUT /subscribe/payments/schedule/{merchant_uid}":             {wireSchedule{}, "ScheduleResultAnnotation"},
	"POST /subscribe/payments/schedule/{merchant_uid}/reschedule": {wireSchedule{}, "ScheduleResultAnnotation"},
	"GET /subscribe/payments/schedule/customers/{customer_uid}":   {wireSchedule{}, "ScheduleResultAnnotation"},
	"GET /subscribe/customers":                                    {wireCustomer{}, "CustomerAnnotation"},
	RouteGetBillingKey:                                            {wireCustomer{}, "CustomerAnnotation"},
	RouteIssueBillingKey:                                          {wireCustomer{}, "CustomerAnnotation"},
	"DELETE /subscribe/customers/{customer_uid}":                  {wireCustomer{}, "CustomerAnnotation"},
	"GET /subscribe/customers/{customer_uid}/payments":            {wirePayment{}, "PaymentAnnotation"},
	"GET /subscribe/customers/{customer_uid}/schedules":           {wireSchedule{}, "ScheduleResultAnnotation"},
	RouteGetPayments:                                              {wirePayment{}, "PaymentAnnotation"},
	RouteGetPayment:                                               {wirePayment{}, "PaymentAnnotation"},
	RouteFind:                                                     {wirePayment{}, "PaymentAnnotation"},
	RouteFindStatus:                                               {wirePayment{}, "PaymentAnnotation"},
	RouteFindAll:                                                  {wirePayment{}, "PaymentAnnotation"},
	RouteFindAllStatus:                                            {wirePayment{}, "PaymentAnnotation"},
	"GET /payments/status/{payment_status}":                       {wirePayment{}, "PaymentAnnotation"},
	RouteCancel:                                                   {wirePayment{}, "PaymentAnnotation"},
	RoutePrepare:                                                  {wirePrepare{}, "PaymentPrepareAnnotation"},
	"PUT /payments/prepare":                                       {wirePrepare{}, "PaymentPrepareAnnotation"},
	"GET /payments/prepare/{merchant_uid}":                        {wirePrepare{}, "PaymentPrepareAnnotation"},
	RouteBalance:                                                  {wireBalance{}, "PaymentBalanceResponseAnnotation"},
	RouteUsersPG:                                                  {wirePGSetting{}, "PgSettingAnnotation"},
}

// nestedDefs are the definitions of objects inside others, and of the
// other shapes the fake answers with.
var nestedDefs = []struct {
	wire any
	def  string
}{
	{wireCancel{}, "PaymentCancelAnnotation"},
	{wirePage{}, "PagedPaymentAnnotation"},
	{wireSuperBillingKey{}, "SuperBillingKeyAnnotation"},
	{wireSucceededChannel{}, "SucceededChannelAnnotation"},
	{wireFailedChannel{}, "FailedChannelAnnotation"},
	{wireBalanceDetail{}, "PaymentBalanceAnnotation"},
	{wireBalanceHistory{}, "PaymentBalanceHistoriesAnnotation"},
}

func loadSpec(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load()
	if errors.Is(err, spec.ErrNotFound) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must have the spec beside the clone: %v", err)
		}
		t.Skip(err)
	}
	require.NoError(t, err)
	return s
}

var paramRE = regexp.MustCompile(`\{[^}]*\}`)

// specRoutes is every "METHOD /path" of the spec with its parameters
// renamed to {}, plus, for a path that ends in an optional path
// parameter, the path without it (the spec's way of writing
// /payments/find/{merchant_uid}/{payment_status?}).
func specRoutes(t *testing.T, s *spec.Spec) map[string]bool {
	out := map[string]bool{}
	for path, methods := range s.Paths {
		for m := range methods {
			if m == "parameters" {
				continue
			}
			out[strings.ToUpper(m)+" "+paramRE.ReplaceAllString(path, "{}")] = true
			op, ok := s.Operation(path, m)
			if !ok {
				continue
			}
			last := path[strings.LastIndex(path, "/")+1:]
			for _, p := range op.Parameters {
				if p.In == "path" && "{"+p.Name+"}" == last && !pathParamRequired(t, s, path, m, p.Name) {
					out[strings.ToUpper(m)+" "+paramRE.ReplaceAllString(path[:strings.LastIndex(path, "/")], "{}")] = true
				}
			}
		}
	}
	return out
}

func pathParamRequired(t *testing.T, s *spec.Spec, path, method, name string) bool {
	var op struct {
		Parameters []struct {
			Name     string `json:"name"`
			Required bool   `json:"required"`
		} `json:"parameters"`
	}
	require.NoError(t, jsonUnmarshal(s.Paths[path][method], &op))
	for _, p := range op.Parameters {
		if p.Name == name {
			return p.Required
		}
	}
	return true
}

func TestFakeServesOnlyTheSpec(t *testing.T) {
	s := loadSpec(t)
	srv := NewServer()
	defer srv.Close()
	require.NotEmpty(t, servedRoutes)
	known := specRoutes(t, s)
	for _, route := range servedRoutes {
		assert.True(t, known[paramRE.ReplaceAllString(route, "{}")], "the fake serves %s, which the spec does not have", route)
		r, ok := responseOf[route]
		if assert.True(t, ok, "no response definition for %s in responseOf", route) {
			_, ok := s.Definitions[r.def]
			assert.True(t, ok, "%s: the spec has no definition %s", route, r.def)
		}
	}
}

func TestFakeAnswersOnlySpecFields(t *testing.T) {
	s := loadSpec(t)
	checked := map[string]bool{}
	check := func(w any, def string) {
		if checked[def+reflect.TypeOf(w).Name()] {
			return
		}
		checked[def+reflect.TypeOf(w).Name()] = true
		d, ok := s.Definitions[def]
		require.True(t, ok, "definition %s", def)
		for _, f := range jsonFields(reflect.TypeOf(w)) {
			_, named := d.Properties[f]
			assert.True(t, named, "%T answers field %q, which %s does not name", w, f, def)
		}
	}
	for _, r := range responseOf {
		check(r.wire, r.def)
	}
	for _, r := range nestedDefs {
		check(r.wire, r.def)
	}
}

// jsonFields are the JSON names of a struct's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// TestSpecCheckFails proves the check can fail: a field the spec does not
// name, and a route it does not have.
func TestSpecCheckFails(t *testing.T) {
	s := loadSpec(t)
	type drifted struct {
		ImpUID   string `json:"imp_uid"`
		Invented string `json:"invented_field"`
	}
	d := s.Definitions["PaymentAnnotation"]
	var missing []string
	for _, f := range jsonFields(reflect.TypeOf(drifted{})) {
		if _, ok := d.Properties[f]; !ok {
			missing = append(missing, f)
		}
	}
	assert.Equal(t, []string{"invented_field"}, missing)
	known := specRoutes(t, s)
	assert.False(t, known["GET /payments/{}/invented"])
	assert.True(t, known["GET /payments/find/{}"], "the optional trailing status is understood")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestDocListsEveryRoute keeps the package doc's route list true.
func TestDocListsEveryRoute(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var listed []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//"))
		if len(f) == 2 && strings.HasPrefix(f[1], "/") && strings.ToUpper(f[0]) == f[0] {
			listed = append(listed, f[0]+" "+f[1])
		}
	}
	srv := NewServer()
	defer srv.Close()
	served := append([]string(nil), servedRoutes...)
	sort.Strings(served)
	sort.Strings(listed)
	assert.Equal(t, served, listed)
}
