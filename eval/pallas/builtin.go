package pallas

import "sync"

var builtinOnce sync.Once

func builtinJets() { builtinOnce.Do(registerBuiltins) }

func registerBuiltins() {}
