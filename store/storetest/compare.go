package storetest

import (
	"reflect"
	"testing"
	"time"
)

// checkEqual reports each field of got that differs from want, comparing
// times with time.Time.Equal because a store may return another location
// for the same instant.
func checkEqual[T any](t *testing.T, got, want *T) {
	t.Helper()
	if got == nil || want == nil {
		if got != want {
			t.Errorf("got %v, want %v", got, want)
		}
		return
	}
	gotValue, wantValue := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	typ := gotValue.Type()
	for i := range typ.NumField() {
		g, w := gotValue.Field(i).Interface(), wantValue.Field(i).Interface()
		if !fieldEqual(g, w) {
			t.Errorf("%s.%s = %#v, want %#v", typ.Name(), typ.Field(i).Name, g, w)
		}
	}
}

func fieldEqual(got, want any) bool {
	if gotTime, ok := got.(time.Time); ok {
		return gotTime.Equal(want.(time.Time))
	}
	return reflect.DeepEqual(got, want)
}

// ids returns the IDs of records in order, for comparing list results.
func ids[T any](records []*T, id func(*T) int64) []int64 {
	out := make([]int64, 0, len(records))
	for _, r := range records {
		out = append(out, id(r))
	}
	return out
}

// checkIDs fails unless got lists exactly want, in order.
func checkIDs(t *testing.T, label string, got, want []int64) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got IDs %v, want %v", label, got, want)
	}
}
