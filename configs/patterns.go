package configs

import (
	"regexp"
	"sync"
)

var fullPatterns sync.Map // pattern → *regexp.Regexp

// compileFull compiles a Go regular expression that must match a whole
// string, as ticket patterns do, and keeps the result for later calls.
func compileFull(pattern string) (*regexp.Regexp, error) {
	if cached, ok := fullPatterns.Load(pattern); ok {
		return cached.(*regexp.Regexp), nil
	}
	compiled, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, err
	}
	fullPatterns.Store(pattern, compiled)
	return compiled, nil
}
