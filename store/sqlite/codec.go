package sqlite

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"time"
)

// errTimeRange is returned for a time that Unix nanoseconds in an int64
// cannot hold: before 1677-09-21 or after 2262-04-11.
var errTimeRange = errors.New("time outside the storable range 1677-09-21 to 2262-04-11")

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// timeValue binds a time as Unix nanoseconds, or NULL for the zero time.
// Unix nanoseconds keep full precision and compare correctly in SQL, which
// RFC 3339 text with trimmed fraction digits does not.
type timeValue time.Time

func (v timeValue) Value() (driver.Value, error) {
	t := time.Time(v)
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("%w: %s", errTimeRange, t.Format(time.RFC3339Nano))
	}
	return t.UnixNano(), nil
}

// timeScan reads a column written by timeValue into *t, in UTC.
type timeScan struct{ t *time.Time }

func (s timeScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
	case int64:
		*s.t = time.Unix(0, v).UTC()
	default:
		return fmt.Errorf("scan time: unexpected column type %T", src)
	}
	return nil
}
