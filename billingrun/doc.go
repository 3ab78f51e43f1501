// Package billingrun charges a batch of billing keys — a month of
// subscriptions, say — through Iamport's POST /subscribe/payments/again, at
// cron-job scale: bounded concurrency, an optional rate limit, one [Result]
// per charge streamed to the caller, and a [Summary] at the end.
//
// # Outcomes
//
// Each charge ends in exactly one [Outcome], read strictly from the SDK's
// money contract (see iamport.Client.AgainPayment and [Classify]):
//
//   - [Paid]: the call returned a payment with status "paid". Money was
//     taken, once.
//   - [Declined]: *iamport.PaymentFailedError. The card company said no;
//     nothing was taken.
//   - [NotCharged]: errors.Is(err, iamport.ErrNotCharged) or an
//     *iamport.APIError: this call took nothing.
//   - [Invalid]: the charge was refused before any request was sent (a
//     *iamport.ValidationError, a bad [Charge], or a duplicate in the batch).
//   - [Unknown]: errors.Is(err, iamport.ErrOutcomeUnknown), or anything the
//     runner does not recognise. The money may or may not have been taken.
//     An unrecognised error is never counted as not charged.
//
// # The one retry rule: run the same batch again
//
// The merchant_uid of a charge is derived from its customer_uid and period
// alone (see [MerchantUID]), so it is the same on every run and on every
// machine. Iamport refuses a second payment for a paid merchant_uid, and the
// SDK then returns the first payment. Re-running a batch, whole or in part,
// after a crash, a timeout or an Unknown outcome is therefore always safe:
// the charges that were paid are reported [Paid] again (with the same
// imp_uid) and charge nothing, and the others are tried again. No database
// of "what did we already charge" is needed for safety; the merchant_uid
// rule is the shared truth.
//
// One charge per customer_uid and period: two charges of the same customer
// in the same period get the same merchant_uid, and the second is reported
// [Invalid] with [ErrDuplicate]. For several subscriptions of one customer,
// put the subscription in the period ("2026-11/sub_42").
//
// # The merchant_uid rule
//
// merchant_uid = prefix + "_" + the first 26 characters of the lower-case,
// unpadded RFC 4648 base32 encoding of
//
//	SHA-256("billingrun/v1" 0x00 prefix 0x00 customer_uid 0x00 period)
//
// prefix is 1 to 8 characters of [A-Za-z0-9-] ([DefaultPrefix] "bill" when
// empty); customer_uid and period are their UTF-8 bytes, which never
// contain 0x00 (control characters are refused), so the input is
// unambiguous. The result is at most 8+1+26 = 35 characters, within
// Iamport's 40, and uses only [A-Za-z0-9_-]. Any language can recompute it;
// a test vector: MerchantUID("bill", "cust_1", "2026-11") is
// "bill_aqydoiaqa2yz3bkjs2irh34yhn". In Python:
//
//	h = hashlib.sha256(b"billingrun/v1\x00bill\x00cust_1\x002026-11").digest()
//	"bill_" + base64.b32encode(h).decode().lower()[:26]
//
// Collisions: 26 base32 characters keep 130 bits of the hash. Two different
// (customer_uid, period) pairs under one prefix collide with probability
// 2^-130; among n merchant_uids the chance of any collision is at most
// n²/2^131. Ten million customers billed monthly for a hundred years
// (n ≈ 1.2·10^10) give about 2·10^-20. A collision would not double-charge
// anyone: the second charge would be refused (its customer_uid or amount
// differs) and reported NotCharged. Different prefixes never collide, since
// the prefix is part of the merchant_uid itself.
//
// # Cancellation
//
// When the ctx given to [Runner.Run] ends, the runner starts no new charge.
// Charges already started run to their end — including the SDK's
// reconciliation of a charge whose answer was lost — under a context that
// keeps ctx's values but not its cancellation, so that they end Paid,
// Declined or NotCharged rather than Unknown ([Runner.Grace] bounds this).
// Run then returns the Summary and an error that satisfies
// errors.Is(err, ctx.Err()).
package billingrun
