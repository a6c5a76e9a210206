package casestore

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Failed authentications are audited ("login-failed") but aggregated, so
// that an unauthenticated flood cannot fill the log or hold its writer
// lock: per kind ("password", "token") and key (the username given, the
// token's visible prefix) there is at most one record a minute (by
// Options.Clock). The first failure of a key writes its record at once;
// the failures that follow within the minute are counted in memory and
// written with the key's next record: the next failure after the minute,
// or the flush that any later failed authentication, FlushAuthFailures or
// Close performs for keys whose minute is over. Such a record says how
// many attempts it stands for ("attempts", with "first_at" and "reasons"
// counted by reason when more than one). Beyond failLimit keys of one kind
// recorded within a minute, further keys share one aggregate ("token *" or
// "password *"). Counts held in memory are lost if the process is killed
// before they are flushed; the first failure of every key and minute is
// always written at once. Several processes sharing a PostgreSQL database
// aggregate each on its own.

const (
	failWindow = time.Minute
	failLimit  = 100 // distinct keys of one kind recorded within a window
)

// failure is one failed authentication.
type failure struct {
	kind    string // "password" or "token"
	key     string // the username or token prefix, as shown
	actor   Principal
	objType string
	objID   int64
	base    map[string]any // detail members naming the attempt
	reason  string
}

// failAgg is the state of one key: its window began with a record at
// start; pending attempts came after it.
type failAgg struct {
	start   time.Time
	pending int64
	first   time.Time        // of the pending attempts
	reasons map[string]int64 // of the pending attempts
	last    failure          // the latest attempt
}

type failLog struct {
	mu sync.Mutex
	m  map[[2]string]*failAgg
}

// failRecord is a record to write and its actor.
type failRecord struct {
	actor Principal
	rec   AuditRecord
}

// detail is the record of the attempts of a, plus this one (now) if given.
func (a *failAgg) record(this *failure, now time.Time) failRecord {
	f := a.last
	if this != nil {
		f = *this
	}
	n := a.pending
	reasons := map[string]int64{}
	for k, v := range a.reasons {
		reasons[k] = v
	}
	first := a.first
	if this != nil {
		n++
		reasons[this.reason]++
		if a.pending == 0 {
			first = now
		}
	}
	d := map[string]any{}
	for k, v := range f.base {
		d[k] = v
	}
	d["reason"] = f.reason
	d["attempts"] = n
	if n > 1 {
		d["first_at"] = first.Format(time.RFC3339Nano)
		rs := map[string]any{}
		for k, v := range reasons {
			rs[k] = v
		}
		d["reasons"] = rs
	}
	return failRecord{actor: f.actor, rec: AuditRecord{Action: ActionLoginFailed, ObjectType: f.objType,
		ObjectID: f.objID, Detail: mustDetail(d)}}
}

func (a *failAgg) reset(now time.Time) {
	a.start, a.pending, a.first, a.reasons = now, 0, time.Time{}, nil
}

// loginFailed audits a failed authentication, aggregated as described above.
func (s *Store) loginFailed(ctx context.Context, f failure) error {
	now := s.now()
	fl := &s.fails
	fl.mu.Lock()
	if fl.m == nil {
		fl.m = map[[2]string]*failAgg{}
	}
	var recs []failRecord
	k := [2]string{f.kind, f.key}
	a := fl.m[k]
	if a == nil {
		live := 0
		for kk, b := range fl.m {
			if kk[0] == f.kind && now.Sub(b.start) < failWindow {
				live++
			}
		}
		if live >= failLimit {
			k = [2]string{f.kind, "*"}
			f = failure{kind: f.kind, key: "*", actor: Principal{Username: f.kind + " *"}, objType: f.objType,
				base:   map[string]any{"method": f.base["method"], "overflow": "more than 100 keys failed within a minute"},
				reason: f.reason}
			a = fl.m[k]
		}
	}
	switch {
	case a == nil:
		a = &failAgg{}
		recs = append(recs, a.record(&f, now))
		a.reset(now)
		a.last = f
		fl.m[k] = a
	case now.Sub(a.start) >= failWindow:
		recs = append(recs, a.record(&f, now))
		a.reset(now)
		a.last = f
	default:
		if a.pending == 0 {
			a.first = now
			a.reasons = map[string]int64{}
		}
		a.pending++
		a.reasons[f.reason]++
		a.last = f
	}
	recs = append(recs, fl.sweep(now, k, false)...)
	fl.mu.Unlock()
	return s.writeFailures(ctx, recs)
}

// sweep returns the records of keys (but skip) whose window is over and
// that have pending attempts (all of them with force), starting their new
// window; keys with nothing pending whose window is over are forgotten.
func (fl *failLog) sweep(now time.Time, skip [2]string, force bool) []failRecord {
	var keys [][2]string
	for k := range fl.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { // records in a stable order
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	var recs []failRecord
	for _, k := range keys {
		a := fl.m[k]
		over := now.Sub(a.start) >= failWindow
		switch {
		case k == skip && !force:
		case a.pending > 0 && (over || force):
			recs = append(recs, a.record(nil, now))
			a.reset(now)
		case a.pending == 0 && over:
			delete(fl.m, k)
		}
	}
	return recs
}

// FlushAuthFailures writes the failed authentications counted in memory and
// not yet recorded (see AuthenticatePassword and AuthenticateToken). A
// server may call it now and then; Close calls it.
func (s *Store) FlushAuthFailures(ctx context.Context) error {
	s.fails.mu.Lock()
	recs := s.fails.sweep(s.now(), [2]string{}, true)
	s.fails.mu.Unlock()
	return s.writeFailures(ctx, recs)
}

func (s *Store) writeFailures(ctx context.Context, recs []failRecord) error {
	if len(recs) == 0 {
		return nil
	}
	err := s.write(context.WithoutCancel(ctx), system, func(o *op) error {
		for _, r := range recs {
			o.p, o.agency = r.actor, 0
			if err := o.append(r.rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("casestore: could not audit failed authentications", "records", len(recs), "err", err)
		return fmt.Errorf("casestore: audit failed authentications: %w", err)
	}
	return nil
}
