package api

import (
	"math"
	"sync"
	"time"
)

// Login rate limit: every username and every client address has a bucket
// of loginBurst attempts that refills by one every loginRefill. An attempt
// takes one token from both buckets and a successful login gives them
// back, so only failures count.
const (
	loginBurst  = 5
	loginRefill = time.Minute
	// maxBuckets bounds the limiter's memory; beyond it, buckets that have
	// refilled completely are forgotten first.
	maxBuckets = 100_000
)

type bucket struct {
	tokens float64
	at     time.Time
}

// loginLimiter is a set of token buckets keyed by "user:NAME" and
// "ip:ADDRESS", driven by the server's clock.
type loginLimiter struct {
	mu      sync.Mutex
	burst   float64
	refill  time.Duration
	buckets map[string]*bucket
}

func newLoginLimiter(burst int, refill time.Duration) *loginLimiter {
	return &loginLimiter{burst: float64(burst), refill: refill, buckets: map[string]*bucket{}}
}

// level returns key's bucket brought up to now.
func (l *loginLimiter) level(key string, now time.Time) *bucket {
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
		return b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(el)/float64(l.refill))
		b.at = now
	}
	return b
}

// prune forgets full buckets, then, if that is not enough, all of them
// (an attacker filling the table only resets the limits of others).
func (l *loginLimiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(l.refill) >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

// take takes one token from every key's bucket, or none when one of them
// is empty; then it says how long until that one holds a token.
func (l *loginLimiter) take(now time.Time, keys ...string) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bs := make([]*bucket, len(keys))
	for i, k := range keys {
		bs[i] = l.level(k, now)
		if bs[i].tokens < 1 {
			wait := time.Duration((1 - bs[i].tokens) * float64(l.refill))
			retry = max(retry, wait)
		}
	}
	if retry > 0 {
		return false, retry
	}
	for _, b := range bs {
		b.tokens--
	}
	return true, 0
}

// give returns a token to every key's bucket (a successful login).
func (l *loginLimiter) give(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		b := l.level(k, now)
		b.tokens = math.Min(l.burst, b.tokens+1)
	}
}

// retrySeconds rounds a wait up to whole seconds for Retry-After.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
