package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// bench holds what every phase shares.
type bench struct {
	opts          options
	binary        string // the hookd executable
	tmp           string // temp directory for SQLite files
	runID         string // keeps tenants of different runs apart on a shared database
	encryptionKey string // for PostgreSQL
	now           func() time.Time
	progress      io.Writer
}

// usage is the CPU used during a measured window, and the peak RSS of
// the phase's hookd (0 when the phase has none).
type usage struct {
	HookdCPUPercent float64 `json:"hookd_cpu_percent"` // 100 = one core busy
	BenchCPUPercent float64 `json:"bench_cpu_percent"` // load generator and receiver together
	// OtherCPUPercent is what the rest of the machine used meanwhile: other
	// processes, the kernel's softirqs; large values mean the figures
	// were disturbed.
	OtherCPUPercent float64 `json:"other_cpu_percent"`
	StealPercent    float64 `json:"steal_percent"` // taken by the hypervisor
	PeakRSSBytes    int64   `json:"hookd_peak_rss_bytes"`
}

// session is one fresh hookd, a receiver for it and an API client for a
// tenant of its own.
type session struct {
	name   string
	hookd  *hookdProcess
	rc     *receiver
	api    *apiClient
	hooks  []int64
	now    func() time.Time
	window *cpuWindow
}

// cpuWindow measures CPU use from its start: of hookd (when it has a
// pid), of this process and of the whole machine.
type cpuWindow struct {
	now                        func() time.Time
	hookdPID                   int // 0: no hookd
	at                         time.Time
	hookd, bench, busy, stolen time.Duration
}

// startWindow opens a CPU window now.
func startWindow(now func() time.Time, hookdPID int) *cpuWindow {
	w := &cpuWindow{now: now, hookdPID: hookdPID, at: now()}
	if hookdPID != 0 {
		w.hookd, _ = cpuTime(hookdPID)
	}
	w.bench, _ = cpuTime(os.Getpid())
	w.busy, w.stolen, _ = machineCPU()
	return w
}

// usage reports CPU use since the window opened and hookd's peak RSS so
// far.
func (w *cpuWindow) usage() usage {
	var u usage
	wall := float64(w.now().Sub(w.at))
	if wall <= 0 {
		return u
	}
	if w.hookdPID != 0 {
		if h, err := cpuTime(w.hookdPID); err == nil {
			u.HookdCPUPercent = 100 * float64(h-w.hookd) / wall
		}
		u.PeakRSSBytes, _ = peakRSS(w.hookdPID)
	}
	if m, err := cpuTime(os.Getpid()); err == nil {
		u.BenchCPUPercent = 100 * float64(m-w.bench) / wall
	}
	if busy, stolen, err := machineCPU(); err == nil {
		u.OtherCPUPercent = max(0, 100*float64(busy-w.busy)/wall-u.HookdCPUPercent-u.BenchCPUPercent)
		u.StealPercent = 100 * float64(stolen-w.stolen) / wall
	}
	return u
}

// databaseURL returns the database a phase's hookd runs on: a fresh
// SQLite file unless --database names one.
func (b *bench) databaseURL(phase string) string {
	if b.opts.Database != "" {
		return b.opts.Database
	}
	return "sqlite:" + filepath.Join(b.tmp, phase+".db")
}

// openSession starts hookd and a receiver for one phase.
func (b *bench) openSession(ctx context.Context, phase string) (*session, error) {
	proc, err := startHookd(ctx, hookdConfig{
		Binary: b.binary, DatabaseURL: b.databaseURL(phase),
		EncryptionKey: b.encryptionKey, Workers: b.opts.Workers,
	})
	if err != nil {
		return nil, err
	}
	rc, err := startReceiver(b.now)
	if err != nil {
		proc.stop()
		return nil, err
	}
	api, err := newAPIClient(proc.URL, "bench-"+b.runID+"-"+phase, b.now())
	if err != nil {
		proc.stop()
		_ = rc.close()
		return nil, err
	}
	return &session{name: phase, hookd: proc, rc: rc, api: api, now: b.now}, nil
}

// addWebhook creates a webhook to the receiver at path.
func (s *session) addWebhook(ctx context.Context, path string) error {
	id, err := s.api.createWebhook(ctx, "bench "+s.name+" "+path, s.rc.URL+path)
	if err != nil {
		return err
	}
	s.hooks = append(s.hooks, id)
	return nil
}

// mark starts the window that usage measures.
func (s *session) mark() { s.window = startWindow(s.now, s.hookd.pid()) }

// usage reports CPU use since mark and hookd's peak RSS so far.
func (s *session) usage() usage { return s.window.usage() }

// checkAlive fails when hookd has exited under the benchmark.
func (s *session) checkAlive() error {
	if s.hookd.exited() {
		return fmt.Errorf("hookd exited during phase %s:\n%s", s.name, s.hookd.out)
	}
	return nil
}

// close deletes the phase's webhooks (so a shared database carries no
// pending deliveries into the next phase), stops hookd and the receiver.
func (s *session) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if !s.hookd.exited() {
		for _, id := range s.hooks {
			if err := s.api.deleteWebhook(ctx, id); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	s.api.close()
	s.hookd.stop()
	errs = append(errs, s.rc.close())
	return errors.Join(errs...)
}
