package ttsclient

import (
	"context"
	"errors"
	"sync"

	ttsv1 "github.com/aetheros/tts/clients/go/gen/aetheros/tts/v1"
)

// ErrLiveSessionClosed is returned by a LiveSession's Send, SendSSML, Flush and End after Close.
var ErrLiveSessionClosed = errors.New("ttsclient: the live session is closed: no more text can be sent")

// LiveSession is StreamingSynthesize with the Node and Python clients' session: text goes in
// as a language model writes it, and Recv gives the stream's start, each sentence's words
// (with enable_word_timestamps) and audio, and each utterance's end.
//
//	live, err := tts.LiveSession(ctx, &ttsv1.StreamingSynthesisConfig{Config: &ttsv1.SynthesisConfig{Encoding: pcm}})
//	go func() { for token := range llm { live.Send("", token) }; live.Close() }()
//	for { event, err := live.Recv(); if err == io.EOF { break }; ...event.GetChunk().GetAudio()... }
//
// Utterances are named by a context id ("" is one like any other); text for a new id starts
// an utterance spoken after the ones before it. The send methods may be called from any
// goroutine, Recv from one. After Close, Recv returns io.EOF once every utterance has ended.
// The client's default Timeout does not apply to a session (it lives as long as its talk);
// cancel ctx to stop it at once.
type LiveSession struct {
	stream ttsv1.TtsService_StreamingSynthesizeClient
	cancel context.CancelFunc

	mu sync.Mutex
	// The utterances open to text, and per context id how many utterance ends are still to
	// come (text after an end or a cancel opens a new utterance under the same id).
	open       map[string]bool
	endsToCome map[string]int
	closing    bool
	finished   bool
}

// LiveSession opens StreamingSynthesize and sends config (Synthesize's settings for every
// utterance, and the text buffering bounds; nil takes the server's defaults).
func (c *Client) LiveSession(ctx context.Context, config *ttsv1.StreamingSynthesisConfig) (*LiveSession, error) {
	if config == nil {
		config = &ttsv1.StreamingSynthesisConfig{}
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.StreamingSynthesize(ctx)
	if err == nil {
		err = stream.Send(&ttsv1.StreamingSynthesizeRequest{Request: &ttsv1.StreamingSynthesizeRequest_Config{Config: config}})
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return &LiveSession{stream: stream, cancel: cancel, open: map[string]bool{}, endsToCome: map[string]int{}}, nil
}

// Send adds text to an utterance, spoken once its sentence's end is certain. As with every
// send method, an io.EOF error means the session is over: Recv returns its status.
func (s *LiveSession) Send(contextID, text string) error {
	return s.input(&ttsv1.TextInput{ContextId: contextID, Text: text})
}

// SendSSML adds a whole SSML document to an utterance: what was sent before it is spoken
// first, then the document as Synthesize speaks it, its marks as timepoints.
func (s *LiveSession) SendSSML(contextID, ssml string) error {
	return s.input(&ttsv1.TextInput{ContextId: contextID, Ssml: ssml})
}

// Flush speaks what the utterance has buffered now, even mid-sentence.
func (s *LiveSession) Flush(contextID string) error {
	return s.input(&ttsv1.TextInput{ContextId: contextID, Flush: true})
}

// End says no more text comes for the utterance: the rest is spoken, then its end comes.
func (s *LiveSession) End(contextID string) error {
	return s.input(&ttsv1.TextInput{ContextId: contextID, EndUtterance: true})
}

// Cancel stops the utterance now (a user's interruption): its audio stops after an
// UtteranceEnd with Cancelled. Also after Close, while the last utterances are spoken.
func (s *LiveSession) Cancel(contextID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return nil // every utterance has ended
	}
	delete(s.open, contextID)
	return s.stream.Send(&ttsv1.StreamingSynthesizeRequest{Request: &ttsv1.StreamingSynthesizeRequest_Cancel{Cancel: &ttsv1.CancelUtterance{ContextId: contextID}}})
}

// Close says no more text comes at all: every open utterance is ended and spoken, and Recv
// returns io.EOF after the last one's end.
func (s *LiveSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	for contextID := range s.open {
		if err := s.sendLocked(&ttsv1.TextInput{ContextId: contextID, EndUtterance: true}); err != nil {
			return err
		}
	}
	s.closing = true
	return s.finishWhenOverLocked()
}

// Abort stops the session at once (its syntheses stop); Recv then fails with CANCELED.
func (s *LiveSession) Abort() { s.cancel() }

// Recv returns the session's next event (a StreamStart, an AudioChunk, Timestamps or an
// UtteranceEnd), io.EOF after Close once every utterance has ended, or the session's error
// with the server's status.
func (s *LiveSession) Recv() (*ttsv1.StreamingSynthesizeResponse, error) {
	response, err := s.stream.Recv()
	if err != nil {
		s.cancel() // the call is over: release its context
		return nil, err
	}
	if end := response.GetUtteranceEnd(); end != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if end.GetError() != nil {
			delete(s.open, end.GetContextId()) // the server ended it: Close has no end to send for it
		}
		if left := s.endsToCome[end.GetContextId()] - 1; left > 0 {
			s.endsToCome[end.GetContextId()] = left
		} else {
			delete(s.endsToCome, end.GetContextId())
		}
		if err := s.finishWhenOverLocked(); err != nil {
			return nil, err
		}
	}
	return response, nil
}

func (s *LiveSession) input(input *ttsv1.TextInput) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrLiveSessionClosed
	}
	return s.sendLocked(input)
}

func (s *LiveSession) sendLocked(input *ttsv1.TextInput) error {
	if err := s.stream.Send(&ttsv1.StreamingSynthesizeRequest{Request: &ttsv1.StreamingSynthesizeRequest_Input{Input: input}}); err != nil {
		return err
	}
	if !s.open[input.GetContextId()] {
		s.endsToCome[input.GetContextId()]++
	}
	if input.GetEndUtterance() {
		delete(s.open, input.GetContextId())
	} else {
		s.open[input.GetContextId()] = true
	}
	return nil
}

// finishWhenOverLocked ends the requests once every utterance of a closed session has ended.
func (s *LiveSession) finishWhenOverLocked() error {
	if !s.closing || len(s.endsToCome) > 0 || s.finished {
		return nil
	}
	s.finished = true
	return s.stream.CloseSend()
}
