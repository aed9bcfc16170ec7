package vapi

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
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
//
// The table holds no pointers: a session is its token's 16 bytes, mapping to the index of its
// principal in a table of principals and two times as integers. The garbage collector then never
// scans it, so a server holding hundreds of thousands of sessions (a client that logs in for every
// call) collects as cheaply as one holding a few.
type Sessions struct {
	clock clock.Clock
	idle  time.Duration

	mu sync.Mutex
	m  map[sessionToken]sessionEntry
	// principals are the principals sessions were opened for, each once; byPrincipal finds one.
	principals  []auth.Principal
	byPrincipal map[string]uint32
	// Expired sessions are swept out when a session is created, but not at every creation: that
	// would go through every session each time (a burst of logins would cost the square of their
	// number). A sweep runs once the idle timeout has passed since the last one (so nothing stays
	// much longer than twice the timeout) or the table has doubled since (so it stays bounded).
	sweptAt   time.Time
	sweptSize int
}

// sessionToken is a session id as the bytes its hex form encodes.
type sessionToken [16]byte

// sessionEntry is one session in the table; times are Unix nanoseconds.
type sessionEntry struct {
	principal             uint32
	created, lastAccessed int64
}

// NewSessions returns an empty session table.
func NewSessions(c clock.Clock, idle time.Duration) *Sessions {
	return &Sessions{clock: c, idle: idle, m: map[sessionToken]sessionEntry{}, byPrincipal: map[string]uint32{}}
}

// Create opens a session for p.
func (s *Sessions) Create(p auth.Principal) *Session {
	var tok sessionToken
	if _, err := rand.Read(tok[:]); err != nil {
		panic(err)
	}
	now := s.clock.Now()
	at := now.UnixNano()
	// A principal is held once per caller view (user and groups, as a kept answer's key has it): a
	// user whose groups changed gets a new entry. Built on the stack, the key is allocated only
	// when a principal is new. What does not need the table is done outside its lock, which every
	// request's session check takes.
	var buf [128]byte
	key := appendCallerView(buf[:0], p)
	s.mu.Lock()
	if now.Sub(s.sweptAt) >= s.idle || len(s.m) >= 2*s.sweptSize+64 {
		s.sweepLocked(at)
		s.sweptAt, s.sweptSize = now, len(s.m)
	}
	idx, ok := s.byPrincipal[string(key)] // no allocation: the conversion is only for the lookup
	if !ok {
		idx = uint32(len(s.principals))
		s.principals = append(s.principals, p)
		s.byPrincipal[string(key)] = idx
	}
	s.m[tok] = sessionEntry{principal: idx, created: at, lastAccessed: at}
	p = s.principals[idx]
	s.mu.Unlock()
	return &Session{ID: hex.EncodeToString(tok[:]), Principal: p, Created: now, LastAccessed: now}
}

// sweepLocked removes the sessions idle past the timeout at (Unix nanoseconds), and the principals
// no session holds any longer.
func (s *Sessions) sweepLocked(at int64) {
	used := make([]bool, len(s.principals))
	for tok, e := range s.m {
		if time.Duration(at-e.lastAccessed) > s.idle {
			delete(s.m, tok)
			continue
		}
		used[e.principal] = true
	}
	if !slices.Contains(used, false) {
		return
	}
	// Renumber the principals still held.
	renumber := make([]uint32, len(s.principals))
	kept := s.principals[:0]
	clear(s.byPrincipal)
	for i, p := range s.principals {
		if used[i] {
			renumber[i] = uint32(len(kept))
			s.byPrincipal[string(appendCallerView(nil, p))] = uint32(len(kept))
			kept = append(kept, p)
		}
	}
	clear(s.principals[len(kept):])
	s.principals = kept
	for tok, e := range s.m {
		e.principal = renumber[e.principal]
		s.m[tok] = e
	}
}

// tokenOf decodes a session id; false for anything but the 32 lower-case hex digits Create gives.
func tokenOf(id string) (sessionToken, bool) {
	var tok sessionToken
	if len(id) != 2*len(tok) {
		return tok, false
	}
	for i := range tok {
		hi, ok1 := lowerHexDigit(id[2*i])
		lo, ok2 := lowerHexDigit(id[2*i+1])
		if !ok1 || !ok2 {
			return tok, false
		}
		tok[i] = hi<<4 | lo
	}
	return tok, true
}

func lowerHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// Touch returns the live session with id and marks it used now; expired sessions are removed.
func (s *Sessions) Touch(id string) (Session, bool) {
	tok, ok := tokenOf(id)
	if !ok {
		return Session{}, false
	}
	now := s.clock.Now()
	at := now.UnixNano()
	s.mu.Lock()
	e, ok := s.m[tok]
	if !ok {
		s.mu.Unlock()
		return Session{}, false
	}
	if time.Duration(at-e.lastAccessed) > s.idle {
		delete(s.m, tok)
		s.mu.Unlock()
		return Session{}, false
	}
	e.lastAccessed = at
	s.m[tok] = e
	p := s.principals[e.principal]
	s.mu.Unlock()
	return Session{ID: id, Principal: p, Created: time.Unix(0, e.created), LastAccessed: now}, true
}

// Delete ends the session.
func (s *Sessions) Delete(id string) {
	tok, ok := tokenOf(id)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, tok)
}

// Count is the number of sessions held, expired or not.
func (s *Sessions) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
