package vapi

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
)

// SessionHeader carries the session token; the same name is used for the cookie.
const SessionHeader = "vmware-api-session-id"

// Session is one logged-in client.
type Session struct {
	ID           string
	Principal    auth.Principal
	Created      time.Time
	LastAccessed time.Time
}

// SessionInfo is the wire shape of GET /api/session.
type SessionInfo struct {
	User         string   `json:"user"`
	CreatedTime  DateTime `json:"created_time"`
	LastAccessed DateTime `json:"last_accessed_time"`
}

// Sessions keeps the sessions of one server in memory (vCenter's do not survive a restart either),
// expiring those idle for longer than the idle timeout.
type Sessions struct {
	clock clock.Clock
	idle  time.Duration

	mu sync.Mutex
	m  map[string]*Session
	// Expired sessions are swept out when a session is created, but not at every creation: that
	// would go through every session each time (a burst of logins would cost the square of their
	// number). A sweep runs once the idle timeout has passed since the last one (so nothing stays
	// much longer than twice the timeout) or the table has doubled since (so it stays bounded).
	sweptAt   time.Time
	sweptSize int
}

// NewSessions returns an empty session table.
func NewSessions(c clock.Clock, idle time.Duration) *Sessions {
	return &Sessions{clock: c, idle: idle, m: map[string]*Session{}}
}

// Create opens a session for p.
func (s *Sessions) Create(p auth.Principal) *Session {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	now := s.clock.Now()
	sess := &Session{ID: hex.EncodeToString(b[:]), Principal: p, Created: now, LastAccessed: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.sweptAt) >= s.idle || len(s.m) >= 2*s.sweptSize+64 {
		for id, old := range s.m {
			if now.Sub(old.LastAccessed) > s.idle {
				delete(s.m, id)
			}
		}
		s.sweptAt, s.sweptSize = now, len(s.m)
	}
	s.m[sess.ID] = sess
	return sess
}

// Touch returns the live session with id and marks it used now; expired sessions are removed.
func (s *Sessions) Touch(id string) (Session, bool) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[id]
	if !ok {
		return Session{}, false
	}
	if now.Sub(sess.LastAccessed) > s.idle {
		delete(s.m, id)
		return Session{}, false
	}
	sess.LastAccessed = now
	return *sess, true
}

// Delete ends the session.
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// Count is the number of sessions held, expired or not.
func (s *Sessions) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
