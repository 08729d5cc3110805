package datagwclient

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a failed call's status with the google.rpc details the gateway
// sends in the grpc-status-details-bin trailer, decoded. A detail the gateway
// did not send is nil (or empty).
type Error struct {
	Code    codes.Code
	Message string
	// Info is on every error the gateway raises: Domain "datagw", a Reason
	// to switch on (stable, unlike Message) and Metadata.
	Info *errdetails.ErrorInfo
	// FieldViolations name the request fields that are wrong (BadRequest),
	// on INVALID_ARGUMENT.
	FieldViolations []*errdetails.BadRequest_FieldViolation
	// Precondition is on ABORTED and FAILED_PRECONDITION where it applies
	// (e.g. the current version of a failed expected_version check).
	Precondition *errdetails.PreconditionFailure
	// Resource names what was not found, on NOT_FOUND.
	Resource *errdetails.ResourceInfo
}

// Reason is Info's reason, "" without an ErrorInfo (e.g. a transport error).
func (e *Error) Reason() string { return e.Info.GetReason() }

// Violation is the description of the field violation on field, and whether
// there is one.
func (e *Error) Violation(field string) (string, bool) {
	for _, v := range e.FieldViolations {
		if v.GetField() == field {
			return v.GetDescription(), true
		}
	}
	return "", false
}

// DecodeError decodes the status and details of an error a call returned.
// It returns nil for a nil error and for an error that is not a gRPC status
// (not one a call returns). Details of types not linked into the binary are
// skipped; this package links every type the gateway sends.
func DecodeError(err error) *Error {
	st, ok := status.FromError(err)
	if err == nil || !ok {
		return nil
	}
	e := &Error{Code: st.Code(), Message: st.Message()}
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			e.Info = d
		case *errdetails.BadRequest:
			e.FieldViolations = append(e.FieldViolations, d.GetFieldViolations()...)
		case *errdetails.PreconditionFailure:
			e.Precondition = d
		case *errdetails.ResourceInfo:
			e.Resource = d
		}
	}
	return e
}
