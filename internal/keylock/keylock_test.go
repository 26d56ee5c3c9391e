package keylock

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLockSerialisesOneKey(t *testing.T) {
	var s Set
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			unlock := s.Lock("a")
			defer unlock()
			n := inside.Add(1)
			if n > most.Load() {
				most.Store(n)
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders of one key at once, want 1", most.Load())
	}
}

func TestOtherKeysAreFree(t *testing.T) {
	var s Set
	unlock := s.Lock("a")
	defer unlock()
	done := make(chan struct{})
	go func() {
		s.Lock("b")()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("key b waited for key a")
	}
}
