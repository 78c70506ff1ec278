//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

// errNoProc is returned where /proc is needed and absent.
var errNoProc = errors.New("process statistics need Linux /proc")

// peakRSS is only available on Linux.
func peakRSS(int) (int64, error) { return 0, errNoProc }

// currentRSS is only available on Linux.
func currentRSS(int) (int64, error) { return 0, errNoProc }

// cpuTime is only available on Linux.
func cpuTime(int) (time.Duration, error) { return 0, errNoProc }

// treeCPU is only available on Linux.
func treeCPU(int) (time.Duration, error) { return 0, errNoProc }

// parentPID is only available on Linux.
func parentPID(int) (int, error) { return 0, errNoProc }

// procName is only available on Linux.
func procName(int) (string, error) { return "", errNoProc }

// childAttr has nothing to add outside Linux.
func childAttr() *syscall.SysProcAttr { return nil }

// machineCPU is only available on Linux.
func machineCPU() (busy, steal time.Duration, err error) { return 0, 0, errNoProc }
