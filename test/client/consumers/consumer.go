// A sibling service's use of the Go client module, built with `go build` by
// test/client/go.test.ts in a fresh module that requires it through a replace directive:
// `consumer calls|refused|live URL API_KEY` prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"
	ttsv1 "github.com/aetheros/tts/clients/go/gen/aetheros/tts/v1"
	"github.com/aetheros/tts/clients/go/gen/aetheros/tts/v1/ttsv1connect"
	"github.com/aetheros/tts/clients/go/ttsclient"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

const text = "The client speaks Go. It streams as well."

var wav = &ttsv1.SynthesisConfig{Encoding: ttsv1.AudioEncoding_AUDIO_ENCODING_WAV}

type failure struct {
	Code         string  `json:"code"`
	Field        string  `json:"field"`
	RetryAfterMs float64 `json:"retryAfterMs"`
	Message      string  `json:"message"`
}

func describe(err error) *failure {
	if err == nil {
		return nil
	}
	s, _ := status.FromError(err)
	retryAfter, _ := ttsclient.RetryAfter(err)
	return &failure{Code: s.Code().String(), Field: ttsclient.Field(err), RetryAfterMs: float64(retryAfter.Milliseconds()), Message: s.Message()}
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func must[T any](value T, err error) T {
	if err != nil {
		panic(err)
	}
	return value
}

func calls(url, apiKey string) map[string]any {
	tts := must(ttsclient.New(url, ttsclient.Options{APIKey: apiKey, Timeout: 2 * time.Minute}))
	defer tts.Close()
	ctx := context.Background()
	result := map[string]any{}

	unary := must(tts.SynthesizeToFile(ctx, "unary.wav", &ttsv1.SynthesizeRequest{Text: text, Config: wav}))
	result["unary"] = map[string]any{"duration": unary.GetDurationSeconds(), "sampleRate": unary.GetSampleRate()}
	result["plainText"] = len(must(tts.SynthesizeToBytes(ctx, &ttsv1.SynthesizeRequest{Text: "Hello."})))

	var audio []byte
	chunks := 0
	for chunk, err := range tts.AudioStream(ctx, &ttsv1.SynthesizeStreamRequest{Text: text, Config: wav}) {
		if err != nil {
			panic(err)
		}
		audio = append(audio, chunk...)
		chunks++
	}
	if err := os.WriteFile("stream.wav", audio, 0o644); err != nil {
		panic(err)
	}
	result["chunks"] = chunks
	summary := must(tts.StreamToFile(ctx, "stream-to-file.wav", &ttsv1.SynthesizeStreamRequest{Text: text, Config: wav}))
	result["summary"] = map[string]any{"duration": summary.GetDurationSeconds(), "bytes": summary.GetAudioBytes()}

	result["serving"] = must(tts.IsServing(ctx))
	result["standardHealth"] = must(tts.HealthCheck.Check(ctx, &grpc_health_v1.HealthCheckRequest{})).GetStatus().String()

	speed := float32(9)
	_, err := tts.Synthesize(ctx, &ttsv1.SynthesizeRequest{Text: text, Config: &ttsv1.SynthesisConfig{Speed: &speed}})
	result["invalid"] = describe(err)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = tts.Synthesize(short, &ttsv1.SynthesizeRequest{Text: strings.Repeat(text+" ", 8)})
	result["deadline"] = describe(err)

	keyless := must(ttsclient.New(url, ttsclient.Options{}))
	defer keyless.Close()
	_, err = keyless.IsServing(ctx)
	result["keyless"] = describe(err)

	// The connect-go code, over the Connect protocol.
	connectClient := ttsv1connect.NewTtsServiceClient(http.DefaultClient, url)
	request := connect.NewRequest(&ttsv1.HealthRequest{})
	request.Header().Set("authorization", "Bearer "+apiKey)
	result["connectHealth"] = must(connectClient.Health(ctx, request)).Msg.GetStatus().String()
	_, err = connectClient.Synthesize(ctx, connect.NewRequest(&ttsv1.SynthesizeRequest{Text: text}))
	var connectErr *connect.Error
	if errors.As(err, &connectErr) {
		result["connectKeyless"] = connectErr.Code().String()
	}
	return result
}

// refused: every call refused while the server's one slot is taken, two attempts each.
func refused(url, apiKey string) map[string]any {
	tts := must(ttsclient.New(url, ttsclient.Options{APIKey: apiKey, Timeout: 2 * time.Minute, Retry: ttsclient.Retry{MaxAttempts: 2, MaxDelay: time.Minute}}))
	defer tts.Close()
	ctx := context.Background()
	_, unaryErr := tts.Synthesize(ctx, &ttsv1.SynthesizeRequest{Text: "Refused."})
	var streamErr error
	for _, err := range tts.AudioStream(ctx, &ttsv1.SynthesizeStreamRequest{Text: "Refused."}) {
		streamErr = err
	}
	return map[string]any{"unary": describe(unaryErr), "stream": describe(streamErr)}
}

// liveEvent is a live session's event as JSON: audio as its byte count.
type liveEvent struct {
	Type      string   `json:"type"`
	Context   string   `json:"context"`
	Bytes     int      `json:"bytes,omitempty"`
	Words     []string `json:"words,omitempty"`
	Cancelled bool     `json:"cancelled,omitempty"`
	Seconds   float64  `json:"seconds,omitempty"`
	Error     string   `json:"error,omitempty"`
	Message   string   `json:"message,omitempty"`
}

// live: tokens sent from a goroutine as a model writes them; a barge-in after Close on
// utterance "a" at its second chunk, "b" still spoken, "c" an SSML document that is not
// valid; then a session refused whole. The client's Timeout (1 ms) must not end a session.
func live(url, apiKey string) map[string]any {
	tts := must(ttsclient.New(url, ttsclient.Options{APIKey: apiKey, Timeout: time.Millisecond}))
	defer tts.Close()
	ctx := context.Background()
	config := &ttsv1.StreamingSynthesisConfig{Config: &ttsv1.SynthesisConfig{Encoding: ttsv1.AudioEncoding_AUDIO_ENCODING_PCM, EnableWordTimestamps: true}}
	read := func(session *ttsclient.LiveSession, onAudio func(*ttsv1.AudioChunk)) []liveEvent {
		var events []liveEvent
		for {
			response, err := session.Recv()
			if errors.Is(err, io.EOF) {
				return events
			}
			if err != nil {
				panic(err)
			}
			switch {
			case response.GetStart() != nil:
				events = append(events, liveEvent{Type: "start"})
			case response.GetTimestamps() != nil:
				words := []string{}
				for _, word := range response.GetTimestamps().GetWords() {
					words = append(words, word.GetWord())
				}
				events = append(events, liveEvent{Type: "words", Context: response.GetTimestamps().GetContextId(), Words: words})
			case response.GetChunk() != nil:
				events = append(events, liveEvent{Type: "audio", Context: response.GetChunk().GetContextId(), Bytes: len(response.GetChunk().GetAudio())})
				onAudio(response.GetChunk())
			case response.GetUtteranceEnd() != nil:
				end := response.GetUtteranceEnd()
				events = append(events, liveEvent{
					Type: "end", Context: end.GetContextId(), Cancelled: end.GetCancelled(), Bytes: int(end.GetSummary().GetAudioBytes()),
					Seconds: end.GetSummary().GetDurationSeconds(), Error: end.GetError().GetCode(), Message: end.GetError().GetMessage(),
				})
			}
		}
	}

	tokens := must(tts.LiveSession(ctx, config))
	go func() {
		for _, token := range []string{"Hel", "lo", " there", ".", " How", " are", " you", "?"} {
			check(tokens.Send("", token))
			time.Sleep(10 * time.Millisecond)
		}
		check(tokens.Close())
	}()
	result := map[string]any{"tokens": read(tokens, func(*ttsv1.AudioChunk) {})}

	bargeIn := must(tts.LiveSession(ctx, config))
	check(bargeIn.Send("a", strings.Repeat("This first reply runs on and on, sentence after sentence, so that the listener can cut it short. ", 3)))
	check(bargeIn.Send("b", "Then a short one."))
	check(bargeIn.SendSSML("c", "<speak>Unclosed"))
	check(bargeIn.Close())
	result["bargeIn"] = read(bargeIn, func(chunk *ttsv1.AudioChunk) {
		if chunk.GetContextId() == "a" && chunk.GetSequence() == 1 {
			check(bargeIn.Cancel("a"))
		}
	})

	speed := float32(9)
	refusedSession := must(tts.LiveSession(ctx, &ttsv1.StreamingSynthesisConfig{Config: &ttsv1.SynthesisConfig{Speed: &speed}}))
	check(refusedSession.Close())
	_, err := refusedSession.Recv()
	result["refused"] = describe(err)
	return result
}

func main() {
	mode, url, apiKey := os.Args[1], os.Args[2], os.Args[3]
	result := map[string]func(string, string) map[string]any{"calls": calls, "refused": refused, "live": live}[mode]
	if err := json.NewEncoder(os.Stdout).Encode(result(url, apiKey)); err != nil {
		panic(err)
	}
}
