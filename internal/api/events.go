package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/trace"
)

// eventStreamType is the media type of server-sent events.
const eventStreamType = "text/event-stream"

// An event stream sends a comment every eventHeartbeat, so that proxies
// and browsers keep a quiet stream (a long hop) open, and each write may
// take eventWriteTimeout: the stream outlives the server's write timeout.
const (
	eventHeartbeat    = 15 * time.Second
	eventWriteTimeout = time.Minute
)

// progressEvent is a "progress" event of GET /trace/{from}/events.
type progressEvent struct {
	trace.Progress
	ElapsedMS int64 `json:"elapsed_ms"`
}

// traceQuery reads the query of GET /trace/{from} (and of its events).
func traceQuery(c *call) (*traceReq, error) {
	q := &traceReq{From: c.v.str("from", ""), Network: c.v.str("network", ""), Direction: c.v.str("direction", ""),
		Model: c.v.str("model", ""), Hops: int(c.v.int("hops", 0)), MinValue: uint64(c.v.int("min_value", 0)),
		Since: c.v.str("since", ""), Until: c.v.str("until", ""), Level: c.v.str("level", ""),
		MaxFrontier: int(c.v.int("max_frontier", 0)), FollowChange: c.v.bool("follow_change"),
		ChainID: uint64(c.v.int("chain_id", 0)), Asset: c.v.str("asset", ""), Amount: c.v.str("amount", ""),
		FromBlock: uint64(c.v.int("from_block", 0)), ToBlock: uint64(c.v.int("to_block", 0))}
	if c.v.has("change_confidence") {
		f, err := strconv.ParseFloat(c.v.str("change_confidence", ""), 64)
		if err != nil {
			return nil, badRequest("change_confidence %q is not a number", clip(c.v.str("change_confidence", "")))
		}
		q.ChangeConfidence = f
	}
	if c.v.has("stop_at") {
		stop := c.v.str("stop_at", "")
		q.StopAt = &stop
	}
	return q, nil
}

// traceEvents runs a trace and streams it as server-sent events: a
// "progress" event before each hop, then one "result" (the JSON of GET
// /trace/{from}) or one "error". Parameters are checked before the stream
// starts, so bad input is an ordinary JSON error. When the client goes
// away the request's context ends and the trace stops at its next hop.
func (s *Server) traceEvents(c *call) error {
	q, err := traceQuery(c)
	if err != nil {
		return err
	}
	if err := q.normalise(); err != nil {
		return err
	}
	rc := http.NewResponseController(c.w)
	h := c.w.Header()
	h.Set("Content-Type", eventStreamType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // proxies pass events on as they come
	c.w.WriteHeader(http.StatusOK)
	var mu sync.Mutex // the trace's events and the heartbeat
	write := func(text string) error {
		mu.Lock()
		defer mu.Unlock()
		_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout)) // not every writer has deadlines
		if _, err := io.WriteString(c.w, text); err != nil {
			return err
		}
		return rc.Flush()
	}
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("api: event %s: %w", event, err)
		}
		return write("event: " + event + "\ndata: " + string(b) + "\n\n")
	}
	// The heartbeat ends before the handler returns: nothing writes to
	// the response after that.
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	defer func() {
		close(done)
		wg.Wait()
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(eventHeartbeat)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-c.ctx.Done():
				return
			case <-tick.C:
				if write(": ping\n\n") != nil {
					return
				}
			}
		}
	}()
	start := s.now()
	q.progress = func(p trace.Progress) error {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		return send("progress", progressEvent{Progress: p, ElapsedMS: s.now().Sub(start).Milliseconds()})
	}
	res, _, err := q.run(c.ctx, s)
	if c.ctx.Err() != nil {
		s.log.Debug("api: trace cancelled by the client", "from", q.From)
		return nil
	}
	if err != nil {
		status, msg := statusOf(err)
		if status >= 500 {
			s.log.Error("api: trace failed", "from", q.From, "err", err)
		}
		return send("error", errorBody{Error: msg})
	}
	return send("result", res)
}
