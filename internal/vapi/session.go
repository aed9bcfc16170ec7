package vapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
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
// The table is an array of slots, and a session's id names its slot: the id is a random secret and
// the slot's number, hidden (see tokenFor). Finding a session is an index and a comparison of the
// secret, and opening one fills a free slot, where a hash table keyed by the token would hash it
// and, holding hundreds of thousands of sessions (a client that logs in for every call), miss the
// processor's caches on every login and every request. The slots come in chunks, so the table
// grows without copying what it holds and gives back whole chunks once a burst has expired.
//
// The slots hold no pointers: a slot maps to the index of its principal in a table of principals
// and two times as integers. The garbage collector then never scans them, so a server holding many
// sessions collects as cheaply as one holding a few.
type Sessions struct {
	clock clock.Clock
	idle  time.Duration
	// slotMask hides a session's slot number in its id (tokenFor).
	slotMask maphash.Seed

	mu     sync.Mutex
	chunks []*slotChunk
	// next is one past the highest slot handed out: slots from there on are free and not listed.
	next uint32
	// free holds the numbers of the free slots below next, refilled last in, first out. A
	// sweep lists them anew with the lowest last, so the table refills from the bottom and a
	// later sweep can give back the top once a burst of logins has expired.
	free []uint32
	live int
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

// sessionToken is a session id as the bytes its hex form encodes: the secret, then the slot's
// number masked (tokenFor).
type sessionToken [16]byte

// sessionSecret is the random part of a session id: 96 bits, which no client guesses.
type sessionSecret [12]byte

// slotChunk is a run of the table's slots, allocated together.
type slotChunk [slotsPerChunk]sessionSlot

// slotsPerChunk is a power of two: a slot's chunk and place in it are a shift and a mask. A chunk
// is 160 KB.
const slotsPerChunk = 1 << 12

// sessionSlot is one slot of the table; times are Unix nanoseconds.
type sessionSlot struct {
	secret                sessionSecret
	used                  bool
	principal             uint32
	created, lastAccessed int64
}

// NewSessions returns an empty session table.
func NewSessions(c clock.Clock, idle time.Duration) *Sessions {
	return &Sessions{clock: c, idle: idle, slotMask: maphash.MakeSeed(), byPrincipal: map[string]uint32{}}
}

// tokenFor is the id of the session in slot with secret. The slot's number is masked with a keyed
// hash of the secret, so that ids do not tell how many sessions the server holds; the secret alone
// authenticates (findLocked compares it).
func (s *Sessions) tokenFor(secret sessionSecret, slot uint32) sessionToken {
	var tok sessionToken
	copy(tok[:], secret[:])
	binary.LittleEndian.PutUint32(tok[len(secret):], slot^s.mask(secret))
	return tok
}

func (s *Sessions) mask(secret sessionSecret) uint32 {
	return uint32(maphash.Bytes(s.slotMask, secret[:]))
}

// slotOf reads the secret and slot number an id carries.
func (s *Sessions) slotOf(tok sessionToken) (sessionSecret, uint32) {
	var secret sessionSecret
	copy(secret[:], tok[:])
	return secret, binary.LittleEndian.Uint32(tok[len(secret):]) ^ s.mask(secret)
}

// findLocked is the slot of the live or expired session with secret in slot, or nil.
func (s *Sessions) findLocked(secret sessionSecret, slot uint32) *sessionSlot {
	if slot >= s.next {
		return nil
	}
	e := s.slotLocked(slot)
	if !e.used || subtle.ConstantTimeCompare(e.secret[:], secret[:]) != 1 {
		return nil
	}
	return e
}

// Create opens a session for p.
func (s *Sessions) Create(p auth.Principal) *Session {
	var secret sessionSecret
	if _, err := rand.Read(secret[:]); err != nil {
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
	if now.Sub(s.sweptAt) >= s.idle || s.live >= 2*s.sweptSize+64 {
		s.sweepLocked(at)
		s.sweptAt, s.sweptSize = now, s.live
	}
	idx, ok := s.byPrincipal[string(key)] // no allocation: the conversion is only for the lookup
	if !ok {
		idx = uint32(len(s.principals))
		s.principals = append(s.principals, p)
		s.byPrincipal[string(key)] = idx
	}
	var slot uint32
	if n := len(s.free); n > 0 {
		slot, s.free = s.free[n-1], s.free[:n-1]
	} else {
		slot = s.next
		s.next++
		if int(slot/slotsPerChunk) == len(s.chunks) {
			s.chunks = append(s.chunks, new(slotChunk))
		}
	}
	*s.slotLocked(slot) = sessionSlot{secret: secret, used: true, principal: idx, created: at, lastAccessed: at}
	s.live++
	p = s.principals[idx]
	s.mu.Unlock()
	tok := s.tokenFor(secret, slot)
	return &Session{ID: hex.EncodeToString(tok[:]), Principal: p, Created: now, LastAccessed: now}
}

// slotLocked is slot's place in its chunk.
func (s *Sessions) slotLocked(slot uint32) *sessionSlot {
	return &s.chunks[slot/slotsPerChunk][slot%slotsPerChunk]
}

// freeLocked ends the session in slot.
func (s *Sessions) freeLocked(slot uint32) {
	*s.slotLocked(slot) = sessionSlot{}
	s.free = append(s.free, slot)
	s.live--
}

// sweepLocked removes the sessions idle past the timeout at (Unix nanoseconds), and the principals
// no session holds any longer. It gives back the chunks above the highest session left, and lists
// the free slots anew, the lowest to be refilled first.
func (s *Sessions) sweepLocked(at int64) {
	used := make([]bool, len(s.principals))
	var top uint32 // one past the highest slot still used
	for i := range s.next {
		e := s.slotLocked(i)
		if !e.used {
			continue
		}
		if time.Duration(at-e.lastAccessed) > s.idle {
			*e = sessionSlot{}
			s.live--
			continue
		}
		used[e.principal] = true
		top = i + 1
	}
	s.next = top
	keep := (int(top) + slotsPerChunk - 1) / slotsPerChunk
	clear(s.chunks[keep:])
	s.chunks = s.chunks[:keep]
	s.free = s.free[:0]
	for i := int(top) - 1; i >= 0; i-- {
		if !s.slotLocked(uint32(i)).used {
			s.free = append(s.free, uint32(i))
		}
	}
	if cap(s.free) > 2*len(s.free)+64 {
		s.free = slices.Clone(s.free)
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
	for i := range s.next {
		if e := s.slotLocked(i); e.used {
			e.principal = renumber[e.principal]
		}
	}
}

// tokenOf decodes a session id; false for anything but the 32 lower-case hex digits Create gives.
func tokenOf(id string) (sessionToken, bool) {
	var tok sessionToken
	if len(id) != 2*len(tok) {
		return tok, false
	}
	var invalid byte
	for i := range tok {
		hi, lo := hexDigits[id[2*i]], hexDigits[id[2*i+1]]
		invalid |= hi | lo
		tok[i] = hi<<4 | lo&0xf
	}
	return tok, invalid&notHexDigit == 0
}

// hexDigits holds the value of each lower-case hex digit, and notHexDigit for every other byte:
// every request's session id is decoded by looking its digits up, not by comparing each with the
// ranges of digits (a tenth of a kept read's time in the API).
var hexDigits = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		default:
			t[c] = notHexDigit
		}
	}
	return t
}()

const notHexDigit = 0xf0

// Touch returns the live session with id and marks it used now; expired sessions are removed.
func (s *Sessions) Touch(id string) (Session, bool) {
	tok, ok := tokenOf(id)
	if !ok {
		return Session{}, false
	}
	secret, slot := s.slotOf(tok)
	now := s.clock.Now()
	at := now.UnixNano()
	s.mu.Lock()
	e := s.findLocked(secret, slot)
	if e == nil {
		s.mu.Unlock()
		return Session{}, false
	}
	if time.Duration(at-e.lastAccessed) > s.idle {
		s.freeLocked(slot)
		s.mu.Unlock()
		return Session{}, false
	}
	e.lastAccessed = at
	created, p := e.created, s.principals[e.principal]
	s.mu.Unlock()
	return Session{ID: id, Principal: p, Created: time.Unix(0, created), LastAccessed: now}, true
}

// Delete ends the session.
func (s *Sessions) Delete(id string) {
	tok, ok := tokenOf(id)
	if !ok {
		return
	}
	secret, slot := s.slotOf(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findLocked(secret, slot) != nil {
		s.freeLocked(slot)
	}
}

// Count is the number of sessions held, expired or not.
func (s *Sessions) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}
