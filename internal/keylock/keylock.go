// Package keylock serialises work per key, such as a checkout directory or a push
// destination, while work on other keys goes on.
package keylock

import "sync"

// Set holds one mutex per key. The zero Set is ready to use; it must not be copied.
type Set struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// Lock waits for key to be free, takes it, and returns the function that frees it.
func (s *Set) Lock(key string) (unlock func()) {
	s.mu.Lock()
	if s.locks == nil {
		s.locks = make(map[string]*sync.Mutex)
	}
	m, ok := s.locks[key]
	if !ok {
		m = &sync.Mutex{}
		s.locks[key] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}
