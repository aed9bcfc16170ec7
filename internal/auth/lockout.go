package auth

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wcpd/wcpd/internal/clock"
)

// LockoutPolicy locks a user out after repeated failed logins, as vCenter SSO does.
type LockoutPolicy struct {
	// MaxFailures failed logins within Window lock the user for Duration; 0 turns lockout off.
	MaxFailures int
	Window      time.Duration
	Duration    time.Duration
}

// DefaultLockout is vCenter SSO's default: 5 failures within 180 s lock the user for 300 s.
var DefaultLockout = LockoutPolicy{MaxFailures: 5, Window: 180 * time.Second, Duration: 300 * time.Second}

// Login failures.
var (
	ErrBadCredentials = errors.New("the user name or password is not correct")
	ErrLocked         = errors.New("the user is locked after repeated failed logins")
)

// lockouts counts failed logins per user.
type lockouts struct {
	policy LockoutPolicy
	clock  clock.Clock
	log    *slog.Logger

	mu       sync.Mutex
	failures map[string][]time.Time // recent failures, oldest first
	until    map[string]time.Time   // locked until
	// recorded is how many users the two maps hold, kept with them under mu. While it is 0, as it
	// is but after failed logins, a login needs neither map and takes no lock: the lock's word is
	// otherwise written by every login from both cores.
	recorded atomic.Int64
}

// countLocked updates recorded after the maps changed; callers hold mu.
func (l *lockouts) countLocked() {
	l.recorded.Store(int64(len(l.failures) + len(l.until)))
}

// SetLockout turns lockout on with policy, timed by c; lock events are logged to log.
func (d *Directory) SetLockout(policy LockoutPolicy, c clock.Clock, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d.lock = &lockouts{policy: policy, clock: c, log: log, failures: map[string][]time.Time{}, until: map[string]time.Time{}}
}

// LockedUntil reports until when a user is locked out.
func (d *Directory) LockedUntil(user string) (time.Time, bool) {
	name, err := localName(user)
	if err != nil || d.lock == nil {
		return time.Time{}, false
	}
	return d.lock.lockedUntil(name)
}

func (l *lockouts) lockedUntil(name string) (time.Time, bool) {
	if l.recorded.Load() == 0 {
		return time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.until[name]
	if !ok {
		return time.Time{}, false
	}
	if !l.clock.Now().Before(until) {
		delete(l.until, name)
		l.countLocked()
		return time.Time{}, false
	}
	return until, true
}

// failed records a failed login of a known user and locks it once the policy says so.
func (l *lockouts) failed(name string) {
	if l.policy.MaxFailures <= 0 {
		return
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.failures[name][:0]
	for _, t := range l.failures[name] {
		if now.Sub(t) < l.policy.Window {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	defer l.countLocked()
	if len(recent) < l.policy.MaxFailures {
		l.failures[name] = recent
		return
	}
	delete(l.failures, name)
	l.until[name] = now.Add(l.policy.Duration)
	l.log.Warn("user locked out after failed logins", "user", name+"@"+Domain,
		"failures", len(recent), "within", l.policy.Window, "locked_for", l.policy.Duration)
}

func (l *lockouts) succeeded(name string) {
	if l.recorded.Load() == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, name)
	l.countLocked()
}

// dummyHash is checked against when the user does not exist, so that a failed login costs the same
// bcrypt work whether the user exists or not.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("wcpd: no such user"), bcrypt.DefaultCost)
	if err != nil {
		panic(err)
	}
	return h
})
