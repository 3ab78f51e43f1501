// Package iamporttest provides a stateful, in-memory fake of the Iamport
// (PortOne V1) REST API at api.iamport.kr, served over plain HTTP on the
// loopback interface, for tests.
//
// The fake speaks the real wire format on its own terms (it does not share
// types with the SDK): every body is the envelope
// {"code":int,"message":string|null,"response":...}; times are UNIX seconds
// with 0 for unset; amounts are JSON numbers (whole for KRW, decimal for USD);
// business errors are HTTP 200 with code ≠ 0; lookups of unknown ids are HTTP
// 404 with the envelope; multi-id lookups answer 207 when only some ids are
// found; requests without a valid access token answer 401.
//
// A [Server] keeps payments, billing keys, schedules and prepared amounts
// consistent across endpoints. A manual [Clock] drives token expiry and
// executes due schedules (posting webhooks) when it is advanced. Tests can
// make cards decline ([Server.DeclineCustomer], [Server.DeclineCard]), issue
// keys as the payment window would ([Server.RequestPay],
// [Server.RegisterBillingKey]), inject transport faults at precise points
// around the commit of a charge ([Server.InjectFault]), and read counters
// ([Server.Requests], [Server.Charges], [Server.TokenCalls]), and what it
// received ([Server.Received], [Server.LastReceived]).
//
// The account has PG channels ([DefaultChannelKey], the test channel
// [SandboxChannelKey], and those of [Server.AddChannel]), listed by
// GET /users/pg. Requests pick one with channel_key; a payment or billing
// key on a test channel is a sandbox one, and payment lookups answer for it
// only with include_sandbox=true (404 otherwise), as the API does since
// 2026-01-26. Issuing a key with channel_group_id ([Server.AddChannelGroup])
// makes a super billing key. Amounts use the SDK's ISO 4217 table, and the
// not-found texts are the SDK's (internal/apitext). Schedule lists answer
// the paged object, or, after [Server.SetBareScheduleLists], the bare array
// the spec documents. A test holds every route and every answered field to
// the spec (iamport-v1.openapi.json).
//
// Route strings name an endpoint as "METHOD /path/pattern", exactly as the
// patterns below; they are used by [Server.Requests] and [Fault.Route]:
//
//	POST   /users/getToken
//	POST   /subscribe/payments/again
//	POST   /subscribe/payments/onetime
//	POST   /subscribe/payments/schedule
//	POST   /subscribe/payments/unschedule
//	GET    /subscribe/payments/schedule
//	GET    /subscribe/payments/schedule/{merchant_uid}
//	PUT    /subscribe/payments/schedule/{merchant_uid}
//	POST   /subscribe/payments/schedule/{merchant_uid}/reschedule
//	POST   /subscribe/payments/schedule/{merchant_uid}/retry
//	GET    /subscribe/payments/schedule/customers/{customer_uid}
//	GET    /subscribe/customers
//	GET    /subscribe/customers/{customer_uid}
//	POST   /subscribe/customers/{customer_uid}
//	DELETE /subscribe/customers/{customer_uid}
//	GET    /subscribe/customers/{customer_uid}/payments
//	GET    /subscribe/customers/{customer_uid}/schedules
//	GET    /payments
//	GET    /payments/{imp_uid}
//	GET    /payments/find/{merchant_uid}
//	GET    /payments/find/{merchant_uid}/{payment_status}
//	GET    /payments/findAll/{merchant_uid}
//	GET    /payments/findAll/{merchant_uid}/{payment_status}
//	GET    /payments/status/{payment_status}
//	POST   /payments/cancel
//	POST   /payments/prepare
//	PUT    /payments/prepare
//	GET    /payments/prepare/{merchant_uid}
//	GET    /payments/{imp_uid}/balance
//	GET    /users/pg
//
// The charge routes (what a [Fault] with an empty Route hits) are
// [RouteAgain], [RouteOnetime] and [RouteRetry].
package iamporttest
