// Package billingqueue runs subscription billing on River
// (github.com/riverqueue/river), a job queue on a real database: one job per
// charge, unique by merchant_uid, worked by any number of processes, kept
// across crashes and deploys, with dunning (declined cards retried over days).
//
// The same code runs on SQLite (embedded, pure Go: modernc.org/sqlite through
// River's riversqlite driver) and on Postgres (pgx v5 through riverpgxv5):
// [NewSQLite] and [NewPostgres] return a [Queue] over either.
//
// # The money contract on the queue
//
// A job calls [iamport.Client.AgainPayment] with its merchant_uid and maps
// the SDK's outcome onto the job:
//
//   - paid: the job completes; imp_uid and amount are recorded in its output.
//     A payment found already refunded (status cancelled: paid by an earlier
//     run and cancelled since) completes as its own outcome, "refunded".
//   - declined: the dunning policy ([Config.Dunning]): a new job for the next
//     attempt, with its own merchant_uid (base + "_d1", "_d2", …), is
//     inserted ScheduledAt the delay later, in the same transaction that
//     completes this one; after the last attempt the charge gives up, with
//     every fail reason kept.
//   - not charged: the job is retried soon ([Config.NotChargedBackoff]) with
//     the same merchant_uid.
//   - unknown: the job is snoozed ([Config.UnknownSnooze]) and retried with
//     the same merchant_uid, for as long as it takes: the SDK's repeat rule
//     returns the first payment if there was one.
//   - not processed for a cause that may last (iamport.ErrUnauthorized, an
//     *iamport.APIError with HTTP 401, 403, 408 or 429): snoozed like an
//     unknown outcome, so that a bad key or a rate limit never cancels a run.
//   - refused by the API (an *iamport.APIError with Iamport's code and
//     message, or an *iamport.ValidationError): the job is cancelled (a
//     terminal state) with the code and message kept.
//
// River runs a job at least once: a process killed after the charge and
// before the job is marked complete runs it again (after
// Config.RescueStuckJobsAfter). That is safe only because the re-run calls
// AgainPayment with the same merchant_uid and the SDK's repeat rule returns
// the first payment; the package's kill tests prove exactly this.
package billingqueue
