package app

import (
	"testing"
	"time"
)

func TestKeyedMutex(t *testing.T) {
	t.Parallel()
	var k keyedMutex
	unlock := k.lock("a")
	done := make(chan struct{})
	go func() {
		u := k.lock("a")
		u()
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("a second lock of the same key did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	k.lock("b")() // another key does not wait
	unlock()
	<-done
	if len(k.locks) != 0 {
		t.Fatalf("%d locks left", len(k.locks))
	}
}
