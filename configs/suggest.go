package configs

import (
	"fmt"
	"strings"
)

// unknownKeyMessage explains an unknown key, suggesting a close known key
// or listing the keys allowed at that level.
func unknownKeyMessage(key string, known []string) string {
	if guess := closest(key, known); guess != "" {
		return fmt.Sprintf("unknown key %q; did you mean %q?", key, guess)
	}
	return fmt.Sprintf("unknown key %q; the keys allowed here are %s", key, strings.Join(known, ", "))
}

// notOneOf explains a value outside an enumeration, suggesting a close
// allowed value when there is one.
func notOneOf(value string, allowed []string) string {
	msg := fmt.Sprintf("%q is not a valid value; use one of %s", shorten(value, 60), strings.Join(allowed, ", "))
	if guess := closest(value, allowed); guess != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", guess)
	}
	return msg
}

// closest returns the candidate nearest to word, or "" when none is close.
// Case, "-" and "_" are ignored first, so "publicURL" and "public-url" both
// find "public_url". Otherwise the edit distance must be at most 1 for
// words of up to 4 letters and at most 2 for longer words.
func closest(word string, candidates []string) string {
	normal := normalizeKey(word)
	for _, c := range candidates {
		if normalizeKey(c) == normal {
			return c
		}
	}
	limit := 2
	if len(word) <= 4 {
		limit = 1
	}
	best, bestDistance := "", limit+1
	for _, c := range candidates {
		if dist := editDistance(normal, normalizeKey(c)); dist < bestDistance {
			best, bestDistance = c, dist
		}
	}
	return best
}

func normalizeKey(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "", "-", "").Replace(s)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous, current = current, previous
	}
	return previous[len(b)]
}
