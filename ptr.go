package iamport

// Int64 returns a pointer to v, for the optional int64 fields of requests
// (CancelPaymentRequest.Checksum, VatAmount) without a temporary variable:
//
//	client.CancelPayment(ctx, &iamport.CancelPaymentRequest{
//		ImpUID:   p.ImpUID,
//		Amount:   3000,
//		Checksum: iamport.Int64(p.Refundable()),
//	})
func Int64(v int64) *int64 { return &v }
