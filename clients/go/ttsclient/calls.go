package ttsclient

import (
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// RetryAfterMetadata is the trailer in which the server says how long to wait before retrying, in milliseconds.
const RetryAfterMetadata = "retry-after-ms"

// backoffBase is the wait without a hint from the server: doubled on every further attempt, with jitter.
const backoffBase = 100 * time.Millisecond

// Retry bounds the retries of RESOURCE_EXHAUSTED and UNAVAILABLE, made after the server's
// retry-after-ms (or a short backoff without one) and never past the call's deadline. A
// stream is retried only if it failed before its first message: after that the caller has
// audio in hand and a retry would repeat it.
type Retry struct {
	// MaxAttempts counts attempts in all, the first included: 0 means 3, 1 turns retries off.
	MaxAttempts int
	// MaxDelay is the longest wait before a retry: 0 means 5 s. A refusal that asks for
	// longer is returned at once: waiting less than the server said is futile.
	MaxDelay time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 3
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 5 * time.Second
	}
	return r
}

// delayAfter is the wait before attempt+1, or false when err is final.
func (r Retry) delayAfter(ctx context.Context, err error, attempt int) (time.Duration, bool) {
	code := status.Code(err)
	if attempt >= r.MaxAttempts || (code != codes.ResourceExhausted && code != codes.Unavailable) {
		return 0, false
	}
	delay, hinted := RetryAfter(err)
	if !hinted {
		delay = time.Duration(float64(backoffBase<<(attempt-1)) * (0.5 + rand.Float64()))
	}
	if deadline, ok := ctx.Deadline(); delay > r.MaxDelay || (ok && time.Now().Add(delay).After(deadline)) {
		return 0, false
	}
	return delay, true
}

// callError is a failed call's status with its trailer, which holds the retry hint.
type callError struct {
	status  *status.Status
	trailer metadata.MD
}

func (e *callError) Error() string              { return e.status.Err().Error() }
func (e *callError) GRPCStatus() *status.Status { return e.status }

func withTrailer(err error, trailer metadata.MD) error {
	if err == nil {
		return nil
	}
	if s, ok := status.FromError(err); ok {
		return &callError{status: s, trailer: trailer}
	}
	return err
}

// fieldPrefix: the server's INVALID_ARGUMENT messages begin with the field they blame ("config.speed: ...").
var fieldPrefix = regexp.MustCompile(`^([A-Za-z_][\w.\[\]]*): `)

// Field is the request field an INVALID_ARGUMENT error blames ("text", "config.speed"),
// from its google.rpc.BadRequest details or its message, or "" for any other error.
func Field(err error) string {
	s, ok := status.FromError(err)
	if !ok || s.Code() != codes.InvalidArgument {
		return ""
	}
	for _, detail := range s.Details() {
		if badRequest, ok := detail.(*errdetails.BadRequest); ok && len(badRequest.GetFieldViolations()) > 0 {
			return badRequest.GetFieldViolations()[0].GetField()
		}
	}
	if match := fieldPrefix.FindStringSubmatch(s.Message()); match != nil {
		return match[1]
	}
	return ""
}

// RetryAfter is how long the server asked the caller to wait before retrying (its
// google.rpc.RetryInfo, or the retry-after-ms trailer), when it said.
func RetryAfter(err error) (time.Duration, bool) {
	if s, ok := status.FromError(err); ok {
		for _, detail := range s.Details() {
			if info, ok := detail.(*errdetails.RetryInfo); ok && info.GetRetryDelay() != nil {
				return info.GetRetryDelay().AsDuration(), true
			}
		}
	}
	var failed *callError
	if errors.As(err, &failed) {
		if values := failed.trailer.Get(RetryAfterMetadata); len(values) > 0 {
			if ms, parseErr := strconv.ParseUint(values[0], 10, 32); parseErr == nil {
				return time.Duration(ms) * time.Millisecond, true
			}
		}
	}
	return 0, false
}

// interceptor adds the API key and the default deadline to every call and retries refusals.
type interceptor struct {
	apiKey  string
	timeout time.Duration
	retry   Retry
}

// prepare adds the key, and the default deadline when `bounded` and ctx has none.
func (i *interceptor) prepare(ctx context.Context, bounded bool) (context.Context, context.CancelFunc) {
	if i.apiKey != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+i.apiKey)
	}
	if _, ok := ctx.Deadline(); !ok && bounded && i.timeout > 0 {
		return context.WithTimeout(ctx, i.timeout)
	}
	return context.WithCancel(ctx)
}

func (i *interceptor) unary(ctx context.Context, method string, request, reply any, conn *grpc.ClientConn, invoke grpc.UnaryInvoker, options ...grpc.CallOption) error {
	ctx, cancel := i.prepare(ctx, true)
	defer cancel()
	for attempt := 1; ; attempt++ {
		var trailer metadata.MD
		err := withTrailer(invoke(ctx, method, request, reply, conn, append(options, grpc.Trailer(&trailer))...), trailer)
		delay, retry := i.retry.delayAfter(ctx, err, attempt)
		if err == nil || !retry {
			return err
		}
		if sleepErr := sleep(ctx, delay); sleepErr != nil {
			return err
		}
	}
}

func (i *interceptor) stream(ctx context.Context, desc *grpc.StreamDesc, conn *grpc.ClientConn, method string, open grpc.Streamer, options ...grpc.CallOption) (grpc.ClientStream, error) {
	// A live session (StreamingSynthesize) lasts as long as its talk: no default deadline.
	ctx, cancel := i.prepare(ctx, !desc.ClientStreams)
	stream, err := open(ctx, desc, conn, method, options...)
	if err != nil {
		cancel()
		return nil, err
	}
	retried := &retriedStream{ClientStream: stream, ctx: ctx, cancel: cancel, retry: i.retry, reopen: func() (grpc.ClientStream, error) {
		return open(ctx, desc, conn, method, options...)
	}}
	if desc.ClientStreams {
		retried.received = true // a client stream's requests cannot be sent again
	}
	return retried, nil
}

// retriedStream opens a server stream again, and sends its request again, when the stream
// fails before its first message.
type retriedStream struct {
	grpc.ClientStream
	ctx      context.Context
	cancel   context.CancelFunc
	retry    Retry
	reopen   func() (grpc.ClientStream, error)
	request  any
	closed   bool
	received bool
	attempt  int
}

func (s *retriedStream) SendMsg(message any) error {
	s.request = message
	return s.ClientStream.SendMsg(message)
}

func (s *retriedStream) CloseSend() error {
	s.closed = true
	return s.ClientStream.CloseSend()
}

func (s *retriedStream) RecvMsg(message any) error {
	for s.attempt = max(s.attempt, 1); ; s.attempt++ {
		err := s.ClientStream.RecvMsg(message)
		if err == nil {
			s.received = true
			return nil
		}
		err = withTrailer(err, s.ClientStream.Trailer())
		delay, retry := s.retry.delayAfter(s.ctx, err, s.attempt)
		if s.received || !retry || sleep(s.ctx, delay) != nil || s.restart() != nil {
			s.cancel() // the call is over: release its context
			return err
		}
	}
}

func (s *retriedStream) restart() error {
	stream, err := s.reopen()
	if err != nil {
		return err
	}
	s.ClientStream = stream
	if s.request != nil {
		if err := stream.SendMsg(s.request); err != nil {
			return err
		}
	}
	if s.closed {
		return stream.CloseSend()
	}
	return nil
}

func sleep(ctx context.Context, delay time.Duration) error {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
