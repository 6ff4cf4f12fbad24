// Package ttsclient is a thin helper over the generated grpc-go client of the AetherOS TTS
// service (package ttsv1): one connection whose calls carry the API key, a default deadline
// and bounded retries, plus the helpers the Node and Python clients have.
//
//	tts, err := ttsclient.New("tts:8002", ttsclient.Options{Timeout: 10 * time.Second})
//	audio, err := tts.SynthesizeToBytes(ctx, &ttsv1.SynthesizeRequest{Text: "Hello."})
//	for chunk, err := range tts.AudioStream(ctx, &ttsv1.SynthesizeStreamRequest{Text: text}) { ... }
//
// connect-go users have the generated ttsv1connect package instead.
package ttsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"iter"
	"os"
	"strings"
	"time"

	ttsv1 "github.com/aetheros/tts/clients/go/gen/aetheros/tts/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Options of New. The zero value is a plaintext connection without a key or default deadline,
// with retries on.
type Options struct {
	// APIKey is sent as `authorization: Bearer <APIKey>` when set.
	APIKey string
	// TLS turns TLS on with this configuration (RootCAs for a private CA, Certificates for a
	// client certificate); a target starting with "https://" turns it on with the system's CAs.
	TLS *tls.Config
	// Timeout is the deadline of calls whose context has none (retries included); 0 means none.
	// It does not apply to StreamingSynthesize (LiveSession), which lasts as long as its talk.
	Timeout time.Duration
	// Retry bounds the retries of RESOURCE_EXHAUSTED and UNAVAILABLE.
	Retry Retry
	// DialOptions are added after the client's own.
	DialOptions []grpc.DialOption
}

// Client is the generated TtsServiceClient on a connection of its own; its methods (and
// HealthCheck's) carry the key, the default deadline and the retries.
type Client struct {
	ttsv1.TtsServiceClient
	// HealthCheck is the standard grpc.health.v1 service on the same connection.
	HealthCheck healthpb.HealthClient
	conn        *grpc.ClientConn
}

// New connects to target, "host:port" or a URL as the Node client takes it ("https://tts:8002").
func New(target string, options Options) (*Client, error) {
	transport := insecure.NewCredentials()
	if strings.HasPrefix(target, "https://") && options.TLS == nil {
		options.TLS = &tls.Config{}
	}
	if options.TLS != nil {
		transport = credentials.NewTLS(options.TLS)
	}
	target = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(target, "https://"), "http://"), "/")
	calls := &interceptor{apiKey: options.APIKey, timeout: options.Timeout, retry: options.Retry.withDefaults()}
	dialOptions := append([]grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		grpc.WithChainUnaryInterceptor(calls.unary),
		grpc.WithChainStreamInterceptor(calls.stream),
		// gRPC's default of 4 MiB is less than a long text's WAV; the server bounds the text instead.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1 << 30)),
	}, options.DialOptions...)
	conn, err := grpc.NewClient(target, dialOptions...)
	if err != nil {
		return nil, err
	}
	return &Client{TtsServiceClient: ttsv1.NewTtsServiceClient(conn), HealthCheck: healthpb.NewHealthClient(conn), conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// SynthesizeToBytes is Synthesize, and only the audio: the whole file in the requested encoding.
func (c *Client) SynthesizeToBytes(ctx context.Context, request *ttsv1.SynthesizeRequest) ([]byte, error) {
	response, err := c.Synthesize(ctx, request)
	if err != nil {
		return nil, err
	}
	return response.GetAudio(), nil
}

// SynthesizeToFile writes Synthesize's audio to path and returns the response (duration, encoding, ...).
func (c *Client) SynthesizeToFile(ctx context.Context, path string, request *ttsv1.SynthesizeRequest) (*ttsv1.SynthesizeResponse, error) {
	response, err := c.Synthesize(ctx, request)
	if err != nil {
		return nil, err
	}
	return response, os.WriteFile(path, response.GetAudio(), 0o644)
}

// AudioStream yields SynthesizeStream's audio chunks in order (concatenated they make one
// file), then the call's error if it failed. Breaking out of the loop cancels the call.
func (c *Client) AudioStream(ctx context.Context, request *ttsv1.SynthesizeStreamRequest) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.SynthesizeStream(ctx, request)
		if err != nil {
			yield(nil, err)
			return
		}
		for {
			message, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if chunk := message.GetChunk(); chunk != nil && !yield(chunk.GetAudio(), nil) {
				return
			}
		}
	}
}

// StreamToFile writes SynthesizeStream's audio to path as it arrives and returns the stream's summary.
func (c *Client) StreamToFile(ctx context.Context, path string, request *ttsv1.SynthesizeStreamRequest) (*ttsv1.StreamSummary, error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	stream, err := c.SynthesizeStream(ctx, request)
	if err != nil {
		return nil, err
	}
	summary := &ttsv1.StreamSummary{}
	for {
		message, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return summary, file.Close()
		}
		if err != nil {
			return nil, err
		}
		if chunk := message.GetChunk(); chunk != nil {
			if _, err := file.Write(chunk.GetAudio()); err != nil {
				return nil, err
			}
		} else if message.GetSummary() != nil {
			summary = message.GetSummary()
		}
	}
}

// IsServing reports whether the service says SERVING (its voice is loaded and it takes calls).
func (c *Client) IsServing(ctx context.Context) (bool, error) {
	response, err := c.Health(ctx, &ttsv1.HealthRequest{})
	if err != nil {
		return false, err
	}
	return response.GetStatus() == ttsv1.HealthStatus_HEALTH_STATUS_SERVING, nil
}
